//! The MLP classifier with its 2-D embedding head, and **the** forward pass that
//! training, embedding and saliency all differentiate.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use ssne_autodiff::{Tape, Var};
use ssne_tensor::Real;
use ssne_tensor::ndarray::{Array2, ArrayView2, Axis};

use crate::Result;
use crate::activation::Activation;
use crate::error::config_error;

/// Which layer feeds the embedding head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum HeadInput {
    /// The classifier's output units (the 10 logits for MNIST): the method's choice.
    Logits,
    /// The last hidden layer (100 units by default).
    Hidden,
}

/// The shape of the network: widths, activations and how the head is attached.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NetworkSpec {
    /// Widths from input to classifier output, e.g. `[784, 100, 10]`.
    pub layer_widths: Vec<usize>,
    /// Activation after every hidden layer.
    pub hidden_activation: Activation,
    /// Which layer feeds the embedding head.
    pub head_input: HeadInput,
    /// Activation applied to the head's input (identity in the paper; `Softmax`
    /// on the logits gives the "probabilities" head).
    pub feature_activation: Activation,
    /// Output dimension of the map (2).
    pub embedding_dim: usize,
    /// Fixed factor on the head's output, so that a bounded feature layer can
    /// still reach distances of t-SNE scale.
    pub output_scale: f32,
}

impl NetworkSpec {
    /// The paper's network for `n_features` inputs and `n_outputs` classes:
    /// `n_features`-100-`n_outputs`, ReLU, a linear 2-D head on the logits.
    pub fn paper(n_features: usize, n_outputs: usize) -> Self {
        NetworkSpec {
            layer_widths: vec![n_features, 100, n_outputs],
            hidden_activation: Activation::Relu,
            head_input: HeadInput::Logits,
            feature_activation: Activation::Identity,
            embedding_dim: 2,
            output_scale: 1.0,
        }
    }

    /// Checks that the spec describes a network that can be built.
    ///
    /// # Errors
    /// [`crate::ModelError::Config`] naming the bad field.
    pub fn validate(&self) -> Result<()> {
        if self.layer_widths.len() < 2 || self.layer_widths.contains(&0) {
            return Err(config_error(
                "network.layer_widths",
                format!("{:?}", self.layer_widths),
                "at least an input and an output width, all > 0",
            ));
        }
        if self.head_input == HeadInput::Hidden && self.layer_widths.len() < 3 {
            return Err(config_error(
                "network.head_input",
                "hidden",
                "a network with at least one hidden layer",
            ));
        }
        if self.embedding_dim == 0 {
            return Err(config_error("network.embedding_dim", 0, "at least 1"));
        }
        if !(self.output_scale.is_finite() && self.output_scale > 0.0) {
            return Err(config_error(
                "network.output_scale",
                self.output_scale,
                "a finite number > 0",
            ));
        }
        Ok(())
    }

    /// Number of input features.
    pub fn n_features(&self) -> usize {
        self.layer_widths[0]
    }

    /// Number of classifier outputs.
    pub fn n_outputs(&self) -> usize {
        self.layer_widths[self.layer_widths.len() - 1]
    }

    fn head_in_width(&self) -> usize {
        match self.head_input {
            HeadInput::Logits => self.n_outputs(),
            HeadInput::Hidden => self.layer_widths[self.layer_widths.len() - 2],
        }
    }
}

/// A fully connected layer `y = x W + b` with `W` of shape `[inputs, outputs]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dense {
    /// Weights, `[inputs, outputs]`.
    pub weight: Array2<f32>,
    /// Bias, `[1, outputs]`.
    pub bias: Array2<f32>,
}

impl Dense {
    fn init(n_in: usize, n_out: usize, he: bool, rng: &mut ChaCha8Rng) -> Self {
        // He keeps ReLU activations' variance stable; Glorot suits symmetric activations.
        let weight = if he {
            let std = (2.0 / n_in as f64).sqrt();
            let normal = Normal::new(0.0, std).unwrap_or_else(|_| unreachable!("std is finite and > 0"));
            Array2::from_shape_simple_fn((n_in, n_out), || normal.sample(rng) as f32)
        } else {
            let limit = (6.0 / (n_in + n_out) as f64).sqrt();
            Array2::from_shape_simple_fn((n_in, n_out), || rng.random_range(-limit..limit) as f32)
        };
        Dense {
            weight,
            bias: Array2::zeros((1, n_out)),
        }
    }
}

/// The classifier layers and the embedding head.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    /// The architecture.
    pub spec: NetworkSpec,
    /// Classifier layers, input first.
    pub layers: Vec<Dense>,
    /// The embedding head.
    pub head: Dense,
    /// Inputs that were constant in the training data have their first-layer
    /// weights held at zero (`false` here): they carry no information, and
    /// untrained random weights would otherwise dominate gradient saliency.
    pub input_mask: Option<Vec<bool>>,
}

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
    layers: Vec<(Var, Var)>,
    head: (Var, Var),
    trainable: Trainable,
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
    /// A freshly initialised network: He normal weights before ReLU layers,
    /// Glorot uniform elsewhere, zero biases.
    ///
    /// # Errors
    /// [`crate::ModelError::Config`] when the spec is invalid.
    pub fn init(spec: NetworkSpec, rng: &mut ChaCha8Rng) -> Result<Self> {
        spec.validate()?;
        let n_layers = spec.layer_widths.len() - 1;
        let layers = (0..n_layers)
            .map(|i| {
                let is_hidden = i + 1 < n_layers;
                let he = is_hidden && spec.hidden_activation == Activation::Relu;
                Dense::init(spec.layer_widths[i], spec.layer_widths[i + 1], he, rng)
            })
            .collect();
        let head = Dense::init(spec.head_in_width(), spec.embedding_dim, false, rng);
        Ok(Network {
            spec,
            layers,
            head,
            input_mask: None,
        })
    }

    /// Number of input features.
    pub fn n_features(&self) -> usize {
        self.spec.n_features()
    }

    /// Mutable parameters in a fixed order: each layer's weight and bias, then the head's.
    pub fn parameters_mut(&mut self) -> Vec<&mut Array2<f32>> {
        let mut params: Vec<&mut Array2<f32>> = self
            .layers
            .iter_mut()
            .flat_map(|l| [&mut l.weight, &mut l.bias])
            .collect();
        params.push(&mut self.head.weight);
        params.push(&mut self.head.bias);
        params
    }

    /// Holds the first-layer weights of masked-out inputs at zero and records the mask.
    pub fn set_input_mask(&mut self, mask: Vec<bool>) {
        self.input_mask = Some(mask);
        self.apply_input_mask();
    }

    /// Zeroes the first-layer weights of masked-out inputs (after an optimiser step).
    pub fn apply_input_mask(&mut self) {
        if let (Some(mask), Some(first)) = (&self.input_mask, self.layers.first_mut()) {
            for (mut row, &keep) in first.weight.axis_iter_mut(Axis(0)).zip(mask) {
                if !keep {
                    row.fill(0.0);
                }
            }
        }
    }

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
    pub fn bind<R: Real>(&self, tape: &mut Tape<R>, trainable: Trainable) -> BoundNetwork {
        let n_layers = self.layers.len();
        let mut put = |m: &Array2<f32>, grad: bool| {
            let value = m.mapv(|v| R::from_f64(f64::from(v)));
            if grad { tape.var(value) } else { tape.constant(value) }
        };
        let layer_grad = matches!(trainable, Trainable::All | Trainable::Classifier);
        let head_grad = matches!(trainable, Trainable::All | Trainable::HeadOnly);
        let layers = self
            .layers
            .iter()
            .map(|l| (put(&l.weight, layer_grad), put(&l.bias, layer_grad)))
            .collect();
        let head = (put(&self.head.weight, head_grad), put(&self.head.bias, head_grad));
        debug_assert_eq!(n_layers, self.layers.len());
        BoundNetwork {
            layers,
            head,
            trainable,
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
        let mut last_hidden = x;
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

    /// Runs the forward pass on constants and returns `(logits, embedding)`.
    ///
    /// # Errors
    /// [`crate::ModelError::FeatureCount`] when `x` has the wrong width.
    pub fn predict(&self, tape: &mut Tape<f32>, x: ArrayView2<'_, f32>) -> Result<(Array2<f32>, Array2<f32>)> {
        self.check_features(x.ncols())?;
        tape.clear();
        let bound = self.bind(tape, Trainable::None);
        let xv = tape.constant_from(x);
        let fwd = self.forward_on(tape, &bound, xv)?;
        Ok((
            tape.value(fwd.logits)?.to_owned(),
            tape.value(fwd.embedding)?.to_owned(),
        ))
    }

    /// Errors unless `found` equals the network's input width.
    ///
    /// # Errors
    /// [`crate::ModelError::FeatureCount`].
    pub fn check_features(&self, found: usize) -> Result<()> {
        if found == self.n_features() {
            Ok(())
        } else {
            Err(crate::ModelError::FeatureCount {
                expected: self.n_features(),
                found,
            })
        }
    }
}
