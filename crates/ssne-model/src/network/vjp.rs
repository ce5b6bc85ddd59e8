//! The vector-Jacobian product of the network with respect to its input rows,
//! without a tape: what every saliency map is built from, at inference speed.

use rayon::prelude::*;
use ssne_tensor::ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis};
use ssne_tensor::{TensorError, Trans, add_row_bias, gemm_serial};

use super::inference::INFER_CHUNK;
use super::{HeadInput, Network};
use crate::Result;
use crate::activation::Activation;

/// Which output of the network a seed of [`Network::input_vjp`] weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NetworkOutput {
    /// The classifier scores before the softmax, `[n, n_outputs]`.
    Logits,
    /// The map, `[n, embedding_dim]`.
    Embedding,
}

impl Network {
    /// `seedᵀ (∂output/∂x)` for every row of `x`: row `i` of the result is the
    /// gradient of `seed[i] · output(x[i])` with respect to `x[i]`.
    ///
    /// The same product as a backward pass of [`Network::forward_on`] on a tape
    /// with the parameters bound as constants, computed without a tape: each
    /// fixed chunk of rows runs the forward pass with the inference kernels
    /// (GEMM, `add_row_bias`, the activations), keeps every layer's output, and
    /// carries the seed back through the head and the layers with the tape's
    /// own derivative functions. Chunks run in parallel and never depend on the
    /// thread count, so neither do the results; they equal the tape's up to
    /// `f32` rounding.
    ///
    /// # Errors
    /// [`crate::ModelError::FeatureCount`] when `x` has the wrong width,
    /// [`crate::ModelError::Tensor`] when `seed` is not `[x.nrows(), width of
    /// output]` or the parameters' shapes do not chain.
    ///
    /// # Example
    /// ```
    /// use rand::SeedableRng;
    /// use ssne_model::{Network, NetworkOutput, NetworkSpec};
    /// use ssne_tensor::ndarray::{Array2, array};
    ///
    /// let network = Network::init(NetworkSpec::paper(4, 3), &mut rand_chacha::ChaCha8Rng::seed_from_u64(1))?;
    /// let x = Array2::<f32>::ones((2, 4));
    /// // d(y_0)/dx for the first row, d(y_1)/dx for the second.
    /// let seed = array![[1.0, 0.0], [0.0, 1.0]];
    /// let maps = network.input_vjp(x.view(), NetworkOutput::Embedding, seed.view())?;
    /// assert_eq!(maps.dim(), (2, 4));
    /// # Ok::<(), ssne_model::ModelError>(())
    /// ```
    pub fn input_vjp(
        &self,
        x: ArrayView2<'_, f32>,
        output: NetworkOutput,
        seed: ArrayView2<'_, f32>,
    ) -> Result<Array2<f32>> {
        self.check_features(x.ncols())?;
        let [logits_width, embedding_width] = self.check_shapes()?;
        let width = match output {
            NetworkOutput::Logits => logits_width,
            NetworkOutput::Embedding => embedding_width,
        };
        if seed.dim() != (x.nrows(), width) {
            return Err(TensorError::ShapeMismatch {
                op: "input_vjp (seed)",
                left: [x.nrows(), width],
                right: [seed.nrows(), seed.ncols()],
            }
            .into());
        }
        let mut maps = Array2::zeros(x.raw_dim());
        x.axis_chunks_iter(Axis(0), INFER_CHUNK)
            .into_par_iter()
            .zip(seed.axis_chunks_iter(Axis(0), INFER_CHUNK))
            .zip(maps.axis_chunks_iter_mut(Axis(0), INFER_CHUNK))
            .try_for_each(|((x, seed), maps)| self.vjp_chunk(x, output, seed, maps))?;
        Ok(maps)
    }

    /// [`Network::input_vjp`] of one chunk of rows, on the calling thread.
    fn vjp_chunk(
        &self,
        x: ArrayView2<'_, f32>,
        output: NetworkOutput,
        seed: ArrayView2<'_, f32>,
        maps: ArrayViewMut2<'_, f32>,
    ) -> std::result::Result<(), TensorError> {
        let rows = x.nrows();
        let n_layers = self.layers.len();
        let projected = match &self.input_projection {
            None => None,
            Some(projection) => {
                let mut z = Array2::zeros((rows, projection.weight.ncols()));
                gemm_serial(1.0, x, Trans::N, projection.weight.view(), Trans::N, 0.0, z.view_mut())?;
                add_row_bias(z.view_mut(), projection.bias.row(0));
                Some(z)
            }
        };
        let x = projected.as_ref().map_or(x, |z| z.view());
        // outputs[i]: layer i's output, after its activation for hidden layers.
        let mut outputs: Vec<Array2<f32>> = Vec::with_capacity(n_layers);
        for (idx, layer) in self.layers.iter().enumerate() {
            let mut z = Array2::zeros((rows, layer.weight.ncols()));
            let input = if idx == 0 { x } else { outputs[idx - 1].view() };
            gemm_serial(1.0, input, Trans::N, layer.weight.view(), Trans::N, 0.0, z.view_mut())?;
            add_row_bias(z.view_mut(), layer.bias.row(0));
            if idx + 1 < n_layers {
                self.spec.hidden_activation.apply_in_place(z.view_mut());
            }
            outputs.push(z);
        }
        // The gradient with respect to the output of layer `top`.
        let (mut grad, top) = match output {
            NetworkOutput::Logits => (seed.to_owned(), n_layers - 1),
            NetworkOutput::Embedding => {
                let top = match self.spec.head_input {
                    HeadInput::Logits => n_layers - 1,
                    HeadInput::Hidden => n_layers - 2,
                };
                (self.head_vjp(outputs[top].view(), seed)?, top)
            }
        };
        let mut maps = Some(maps);
        for idx in (0..=top).rev() {
            if idx + 1 < n_layers {
                self.spec
                    .hidden_activation
                    .backward_in_place(outputs[idx].view(), grad.view_mut());
            }
            let weight = self.layers[idx].weight.view();
            if idx == 0 {
                if let Some(maps) = maps.take() {
                    match &self.input_projection {
                        None => gemm_serial(1.0, grad.view(), Trans::N, weight, Trans::T, 0.0, maps)?,
                        Some(projection) => {
                            // Back through the first layer, then the projection, to the inputs.
                            let mut below = Array2::zeros((rows, weight.nrows()));
                            gemm_serial(1.0, grad.view(), Trans::N, weight, Trans::T, 0.0, below.view_mut())?;
                            let p = projection.weight.view();
                            gemm_serial(1.0, below.view(), Trans::N, p, Trans::T, 0.0, maps)?;
                        }
                    }
                }
            } else {
                let mut below = Array2::zeros((rows, weight.nrows()));
                gemm_serial(1.0, grad.view(), Trans::N, weight, Trans::T, 0.0, below.view_mut())?;
                grad = below;
            }
        }
        Ok(())
    }

    /// The gradient with respect to the head's input `head_in` of `seed · map`:
    /// back through the output scale, the head and the feature activation.
    fn head_vjp(
        &self,
        head_in: ArrayView2<'_, f32>,
        seed: ArrayView2<'_, f32>,
    ) -> std::result::Result<Array2<f32>, TensorError> {
        let scale = self.spec.output_scale;
        let mut seed = seed.to_owned();
        if scale != 1.0 {
            seed.mapv_inplace(|v| v * scale);
        }
        let mut grad = Array2::zeros(head_in.raw_dim());
        gemm_serial(
            1.0,
            seed.view(),
            Trans::N,
            self.head.weight.view(),
            Trans::T,
            0.0,
            grad.view_mut(),
        )?;
        let activation = self.spec.feature_activation;
        if activation != Activation::Identity {
            let mut features = head_in.to_owned();
            activation.apply_in_place(features.view_mut());
            activation.backward_in_place(features.view(), grad.view_mut());
        }
        Ok(grad)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use ssne_autodiff::Tape;

    use super::*;
    use crate::network::test_network;
    use crate::{NetworkSpec, Trainable};

    /// The tape's product, the reference (itself proven against finite differences).
    fn on_tape(net: &Network, x: ArrayView2<'_, f32>, output: NetworkOutput, seed: ArrayView2<'_, f32>) -> Array2<f32> {
        let mut tape = Tape::<f32>::new();
        let bound = net.bind(&mut tape, Trainable::None);
        let xv = tape.var_from(x);
        let fwd = net.forward_on(&mut tape, &bound, xv).expect("shapes agree");
        let out = match output {
            NetworkOutput::Logits => fwd.logits,
            NetworkOutput::Embedding => fwd.embedding,
        };
        tape.vjp(out, seed)
            .expect("a seed of the output's shape")
            .take(xv)
            .expect("x is a var")
    }

    fn matrix(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Array2::from_shape_simple_fn((rows, cols), || rng.random_range(-1.0..1.0))
    }

    fn activation(index: usize) -> Activation {
        [
            Activation::Identity,
            Activation::Relu,
            Activation::Tanh,
            Activation::Sigmoid,
            Activation::Softmax,
        ][index]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Every network shape: depth, widths, hidden and feature activations,
        /// head input, output scale, an input projection or none, both
        /// outputs, and several chunks of rows.
        #[test]
        fn the_tape_free_vjp_equals_the_tapes(
            widths in proptest::collection::vec(1usize..12, 2..5),
            hidden in 1usize..4,
            feature in 0usize..5,
            head_on_hidden in any::<bool>(),
            scale in prop_oneof![Just(1.0f32), 0.5f32..20.0],
            rows in prop_oneof![1usize..5, 120usize..300],
            projection in proptest::option::of(1usize..8),
            seed in any::<u64>(),
        ) {
            let mut layer_widths = vec![7];
            layer_widths.extend(widths);
            let head_input = if head_on_hidden && layer_widths.len() >= 3 { HeadInput::Hidden } else { HeadInput::Logits };
            let spec = NetworkSpec {
                layer_widths,
                hidden_activation: activation(hidden),
                head_input,
                feature_activation: activation(feature),
                embedding_dim: 2,
                output_scale: scale,
                biases: true,
                input_projection: projection,
            };
            let net = test_network(spec, seed);
            let x = matrix(rows, 7, seed ^ 1);
            for output in [NetworkOutput::Embedding, NetworkOutput::Logits] {
                let width = match output {
                    NetworkOutput::Embedding => 2,
                    NetworkOutput::Logits => net.spec.n_outputs(),
                };
                let s = matrix(rows, width, seed ^ 2);
                let fast = net.input_vjp(x.view(), output, s.view()).expect("valid shapes");
                let reference = on_tape(&net, x.view(), output, s.view());
                let norm = reference.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                for (a, b) in fast.iter().zip(&reference) {
                    prop_assert!((a - b).abs() <= 1e-5 * (1.0 + norm), "{a} vs {b} ({output:?})");
                }
            }
        }
    }

    #[test]
    fn the_same_bits_on_any_number_of_threads_and_typed_shape_errors() {
        let net = test_network(NetworkSpec::paper(50, 4), 3);
        let x = matrix(500, 50, 4);
        let s = matrix(500, 2, 5);
        let pool = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a pool")
        };
        let one = pool(1).install(|| net.input_vjp(x.view(), NetworkOutput::Embedding, s.view()));
        let three = pool(3).install(|| net.input_vjp(x.view(), NetworkOutput::Embedding, s.view()));
        let (one, three) = (one.expect("valid"), three.expect("valid"));
        assert!(one.iter().zip(&three).all(|(a, b)| a.to_bits() == b.to_bits()));
        assert!(one.iter().any(|&v| v != 0.0));
        assert!(matches!(
            net.input_vjp(x.view(), NetworkOutput::Logits, s.view()),
            Err(crate::ModelError::Tensor(_))
        ));
        assert!(matches!(
            net.input_vjp(
                matrix(5, 49, 1).view(),
                NetworkOutput::Embedding,
                matrix(5, 2, 1).view()
            ),
            Err(crate::ModelError::FeatureCount {
                expected: 50,
                found: 49
            })
        ));
    }
}
