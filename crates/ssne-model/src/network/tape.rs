//! The network on an autodiff tape: its parameters bound as variables, the
//! forward pass every gradient is taken through, and the optimiser update
//! from that pass's gradients.

use std::any::Any;

use ssne_autodiff::{Tape, Var};
use ssne_tensor::Real;
use ssne_tensor::ndarray::Array2;

use super::{HeadInput, Network};
use crate::Result;

/// Which parameters get gradients when the network is bound to a tape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Trainable {
    /// Every layer and the head.
    All,
    /// Only the embedding head.
    HeadOnly,
    /// Classifier layers only (pretraining).
    Classifier,
    /// Nothing (inference, saliency).
    None,
}

/// The network's parameters placed on a tape.
#[derive(Debug, Clone)]
pub struct BoundNetwork {
    /// The fixed input projection, always constants.
    projection: Option<(Var, Var)>,
    layers: Vec<(Var, Var)>,
    head: (Var, Var),
    trainable: Trainable,
    /// Whether biases receive gradients (not in a bias-free network).
    biases: bool,
}

impl BoundNetwork {
    /// Parameter handles in the order of [`Network::parameters_mut`].
    pub fn parameter_vars(&self) -> Vec<Var> {
        let mut vars: Vec<Var> = self.layers.iter().flat_map(|&(w, b)| [w, b]).collect();
        vars.extend([self.head.0, self.head.1]);
        vars
    }

    /// Whether the parameter at `index` (same order) receives a gradient.
    pub fn is_trainable(&self, index: usize) -> bool {
        let n_layer_params = 2 * self.layers.len();
        // Parameters alternate weight, bias; the head's bias is the last one.
        if !self.biases && index % 2 == 1 {
            return false;
        }
        match self.trainable {
            Trainable::All => true,
            Trainable::HeadOnly => index >= n_layer_params,
            Trainable::Classifier => index < n_layer_params,
            Trainable::None => false,
        }
    }
}

/// The nodes of one forward pass.
#[derive(Debug, Clone, Copy)]
pub struct Forward {
    /// Classifier scores (before softmax), `[n, n_outputs]`.
    pub logits: Var,
    /// The 2-D map, `[n, embedding_dim]`.
    pub embedding: Var,
}

impl Network {
    /// One optimiser update from the gradients of a backward pass on `bound`:
    /// trainable parameters step with Adam at `lr`, frozen ones are left alone,
    /// and masked inputs' weights are held at zero again.
    pub(crate) fn apply_gradients(
        &mut self,
        bound: &BoundNetwork,
        grads: &ssne_autodiff::Grads<f32>,
        adam: &mut crate::optim::Adam,
        lr: f32,
    ) {
        let grad_views: Vec<_> = bound
            .parameter_vars()
            .iter()
            .enumerate()
            .map(|(i, &v)| if bound.is_trainable(i) { grads.get(v) } else { None })
            .collect();
        adam.step(&mut self.parameters_mut(), &grad_views, lr);
        self.apply_input_mask();
    }

    /// Places the parameters on `tape`, as gradient-receiving vars where `trainable`
    /// says so and as constants elsewhere.
    ///
    /// On an `f32` tape the parameters are copied into the tape's recycled
    /// buffers, so binding once per training step allocates nothing.
    pub fn bind<R: Real>(&self, tape: &mut Tape<R>, trainable: Trainable) -> BoundNetwork {
        let n_layers = self.layers.len();
        let mut put = |m: &Array2<f32>, grad: bool| match (m as &dyn Any).downcast_ref::<Array2<R>>() {
            Some(same) if grad => tape.var_from(same.view()),
            Some(same) => tape.constant_from(same.view()),
            None => {
                let value = m.mapv(|v| R::from_f64(f64::from(v)));
                if grad { tape.var(value) } else { tape.constant(value) }
            }
        };
        let projection = self
            .input_projection
            .as_ref()
            .map(|p| (put(&p.weight, false), put(&p.bias, false)));
        let layer_grad = matches!(trainable, Trainable::All | Trainable::Classifier);
        let head_grad = matches!(trainable, Trainable::All | Trainable::HeadOnly);
        let layers = self
            .layers
            .iter()
            .map(|l| (put(&l.weight, layer_grad), put(&l.bias, layer_grad && self.spec.biases)))
            .collect();
        let head = (
            put(&self.head.weight, head_grad),
            put(&self.head.bias, head_grad && self.spec.biases),
        );
        debug_assert_eq!(n_layers, self.layers.len());
        BoundNetwork {
            projection,
            layers,
            head,
            trainable,
            biases: self.spec.biases,
        }
    }

    /// The forward pass: classifier logits and the 2-D map of the rows of `x`.
    ///
    /// This is the single definition of the model's function; pretraining,
    /// fine-tuning, embedding and saliency all run it.
    ///
    /// # Errors
    /// A shape error from the tape when `x` has the wrong width.
    pub fn forward_on<R: Real>(&self, tape: &mut Tape<R>, bound: &BoundNetwork, x: Var) -> Result<Forward> {
        let n_layers = bound.layers.len();
        let mut h = x;
        if let Some((w, b)) = bound.projection {
            h = tape.matmul(h, w)?;
            h = tape.add_bias(h, b)?;
        }
        let mut last_hidden = h;
        for (layer_idx, &(w, b)) in bound.layers.iter().enumerate() {
            h = tape.matmul(h, w)?;
            h = tape.add_bias(h, b)?;
            if layer_idx + 1 < n_layers {
                h = self.spec.hidden_activation.apply(tape, h)?;
                last_hidden = h;
            }
        }
        let logits = h;
        let head_in = match self.spec.head_input {
            HeadInput::Logits => logits,
            HeadInput::Hidden => last_hidden,
        };
        let features = self.spec.feature_activation.apply(tape, head_in)?;
        let mut embedding = tape.matmul(features, bound.head.0)?;
        embedding = tape.add_bias(embedding, bound.head.1)?;
        if self.spec.output_scale != 1.0 {
            embedding = tape.scale(embedding, R::from_f64(f64::from(self.spec.output_scale)))?;
        }
        Ok(Forward { logits, embedding })
    }
}

#[cfg(test)]
mod tests {
    use ssne_autodiff::Tape;

    use super::*;
    use crate::NetworkSpec;
    use crate::network::test_network as network;

    #[test]
    fn binding_on_an_f32_tape_copies_the_parameters_exactly() {
        let net = network(NetworkSpec::paper(20, 3), 4);
        let mut tape = Tape::<f32>::new();
        for _ in 0..2 {
            tape.clear();
            let bound = net.bind(&mut tape, Trainable::Classifier);
            let mut params = net.clone();
            for (i, (v, p)) in bound
                .parameter_vars()
                .into_iter()
                .zip(params.parameters_mut())
                .enumerate()
            {
                assert_eq!(tape.value(v).unwrap(), p.view(), "parameter {i}");
            }
        }
        let mut tape64 = Tape::<f64>::new();
        let bound = net.bind(&mut tape64, Trainable::All);
        let w = tape64.value(bound.parameter_vars()[0]).unwrap();
        assert_eq!(w, net.layers[0].weight.mapv(f64::from));
    }
}
