//! The vector-Jacobian product of the network with respect to its input rows,
//! without a tape: what every saliency map is built from, at inference speed.

use std::cell::Cell;

use rayon::prelude::*;
use ssne_tensor::ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis};
use ssne_tensor::{
    Csr, SPARSE_MAX_DENSITY, TensorError, Trans, add_row_bias, csr_gemm_serial, gemm_nt_rows, gemm_serial,
    worth_compressing,
};

use super::inference::{INFER_CHUNK, project_rows, view, view_mut};
use super::{HeadInput, Network};
use crate::Result;
use crate::activation::Activation;

/// Calls with fewer rows take the few-rows kernels, which read the weights
/// where they lie: the first layer as a sparse row product at any density
/// (for a dense row it is a sum of weight rows), the backward products as dot
/// products with weight rows. One point then pays for no GEMM packing of the
/// 784 x 100 first layer, which costs more than its multiply-adds. From this
/// many rows on, the GEMM's packing is shared by enough rows to pay off.
const FEW_ROWS: usize = 16;

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
    /// (the sparse first-layer product for mostly-zero rows, GEMM,
    /// `add_row_bias`, the activations), keeps every layer's output in reused
    /// per-thread buffers, and carries the seed back through the head and the
    /// layers with the tape's own derivative functions. A call of a few rows
    /// (one point's Jacobian) runs on the calling thread with kernels that read
    /// the weights in place instead of packing them for a GEMM. Chunks run
    /// in parallel and never depend on the thread count, so neither do the
    /// results; they equal the tape's up to `f32` rounding.
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
        if x.nrows() == 0 {
            return Ok(maps);
        }
        let few = x.nrows() < FEW_ROWS;
        let run = |x: ArrayView2<'_, f32>, seed: ArrayView2<'_, f32>, maps: ArrayViewMut2<'_, f32>| {
            let mut scratch = VJP_SCRATCH.take().unwrap_or_default();
            let result = self.vjp_chunk(&mut scratch, few, x, output, seed, maps);
            VJP_SCRATCH.set(Some(scratch));
            result
        };
        if x.nrows() <= INFER_CHUNK {
            // One chunk: on the calling thread, without a trip through the pool.
            run(x, seed, maps.view_mut())?;
        } else {
            x.axis_chunks_iter(Axis(0), INFER_CHUNK)
                .into_par_iter()
                .zip(seed.axis_chunks_iter(Axis(0), INFER_CHUNK))
                .zip(maps.axis_chunks_iter_mut(Axis(0), INFER_CHUNK))
                .try_for_each(|((x, seed), maps)| run(x, seed, maps))?;
        }
        Ok(maps)
    }

    /// [`Network::input_vjp`] of one chunk of rows, on the calling thread.
    fn vjp_chunk(
        &self,
        scratch: &mut VjpScratch,
        few: bool,
        x: ArrayView2<'_, f32>,
        output: NetworkOutput,
        seed: ArrayView2<'_, f32>,
        mut maps: ArrayViewMut2<'_, f32>,
    ) -> std::result::Result<(), TensorError> {
        let rows = x.nrows();
        let n_layers = self.layers.len();
        let VjpScratch {
            csr,
            outputs,
            grad,
            below,
            features,
            projected,
        } = scratch;
        // A fixed input projection turns the rows into dense projected rows
        // first (as inference does); every layer below sees those.
        let x = match &self.input_projection {
            None => x,
            Some(projection) => match project_rows(projection, csr, x, projected, false)? {
                Ok(width) => view(projected, rows, width),
                Err(_) => unreachable!("project_rows reports no input without check_finite"),
            },
        };
        // outputs[i]: layer i's output, after its activation for hidden layers.
        outputs.resize_with(n_layers.max(outputs.len()), Vec::new);
        for idx in 0..n_layers {
            let (done, rest) = outputs.split_at_mut(idx);
            let layer = &self.layers[idx];
            let width = layer.weight.ncols();
            rest[0].resize(rows * width, 0.0);
            let mut z = view_mut(&mut rest[0], rows, width);
            if idx == 0 {
                // One sparse row product reads the weight in place; a GEMM
                // would pack all of it first, which dominates for a few rows.
                let max_density = if few { 1.0 } else { SPARSE_MAX_DENSITY };
                let k = x.ncols();
                if (few || worth_compressing(rows, k, width)) && csr.assign_if_sparse(x, max_density) {
                    csr_gemm_serial(1.0, csr, layer.weight.view(), 0.0, z.view_mut())?;
                } else {
                    gemm_serial(1.0, x, Trans::N, layer.weight.view(), Trans::N, 0.0, z.view_mut())?;
                }
            } else {
                let input = view(&done[idx - 1], rows, self.layers[idx - 1].weight.ncols());
                gemm_serial(1.0, input, Trans::N, layer.weight.view(), Trans::N, 0.0, z.view_mut())?;
            }
            add_row_bias(z.view_mut(), layer.bias.row(0));
            if idx + 1 < n_layers {
                self.spec.hidden_activation.apply_in_place(z);
            }
        }
        // The gradient with respect to the output of layer `top`, in `grad`.
        let top = match output {
            NetworkOutput::Logits => {
                grad.clear();
                grad.extend(seed.iter());
                n_layers - 1
            }
            NetworkOutput::Embedding => {
                let top = match self.spec.head_input {
                    HeadInput::Logits => n_layers - 1,
                    HeadInput::Hidden => n_layers - 2,
                };
                let head_in = view(&outputs[top], rows, self.head.weight.nrows());
                self.head_vjp(head_in, seed, grad, features)?;
                top
            }
        };
        for idx in (0..=top).rev() {
            let width = self.layers[idx].weight.ncols();
            let mut g = view_mut(grad, rows, width);
            if idx + 1 < n_layers {
                self.spec
                    .hidden_activation
                    .backward_in_place(view(&outputs[idx], rows, width), g.view_mut());
            }
            let weight = self.layers[idx].weight.view();
            if idx == 0 {
                match &self.input_projection {
                    None => times_transposed(few, g.view(), weight, maps.view_mut())?,
                    Some(projection) => {
                        // Back through the first layer, then the projection, to the inputs.
                        below.resize(rows * weight.nrows(), 0.0);
                        times_transposed(few, g.view(), weight, view_mut(below, rows, weight.nrows()))?;
                        let back = view(below, rows, weight.nrows());
                        times_transposed(few, back, projection.weight.view(), maps.view_mut())?;
                    }
                }
            } else {
                below.resize(rows * weight.nrows(), 0.0);
                times_transposed(few, g.view(), weight, view_mut(below, rows, weight.nrows()))?;
                std::mem::swap(grad, below);
            }
        }
        Ok(())
    }

    /// Writes into `grad` the gradient with respect to the head's input
    /// `head_in` of `seed · map`: back through the output scale, the head and
    /// the feature activation (whose output goes to `features`).
    fn head_vjp(
        &self,
        head_in: ArrayView2<'_, f32>,
        seed: ArrayView2<'_, f32>,
        grad: &mut Vec<f32>,
        features: &mut Vec<f32>,
    ) -> std::result::Result<(), TensorError> {
        let (rows, width) = head_in.dim();
        let scale = self.spec.output_scale;
        // The seed of the head's product: `seed · scale`, as the tape's backward
        // of the scaling computes it. Kept in `features` until that is needed.
        features.clear();
        features.extend(seed.iter().map(|&v| if scale != 1.0 { v * scale } else { v }));
        grad.resize(rows * width, 0.0);
        let mut g = view_mut(grad, rows, width);
        // `head.weight` is `[width, embedding]`: row j holds feature j's weights.
        gemm_nt_rows(
            view(features, rows, seed.ncols()),
            self.head.weight.view(),
            g.view_mut(),
        )?;
        let activation = self.spec.feature_activation;
        if activation != Activation::Identity {
            features.clear();
            features.extend(head_in.iter());
            let mut activated = view_mut(features, rows, width);
            activation.apply_in_place(activated.view_mut());
            activation.backward_in_place(activated.view(), g);
        }
        Ok(())
    }
}

/// Reused buffers of one VJP task: the compressed input chunk,
/// every layer's output, the gradient at the current layer and the one below,
/// the head's scaled seed and activated input, and the projected inputs.
#[derive(Debug, Default)]
struct VjpScratch {
    csr: Csr<f32>,
    outputs: Vec<Vec<f32>>,
    grad: Vec<f32>,
    below: Vec<f32>,
    features: Vec<f32>,
    projected: Vec<f32>,
}

/// `out = a · bᵀ`: by dot products of contiguous rows for a few rows (no
/// packing of `b`), else one GEMM. A sparse product with a transposed copy of
/// the weight, skipping ReLU's zeros, measured slower than this GEMM (which
/// packs the weight itself) on the 784-100 layer.
fn times_transposed(
    few: bool,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    out: ArrayViewMut2<'_, f32>,
) -> std::result::Result<(), TensorError> {
    if few {
        gemm_nt_rows(a, b, out)
    } else {
        gemm_serial(1.0, a, Trans::N, b, Trans::T, 0.0, out)
    }
}

thread_local! {
    /// One scratch per thread, taken out while a chunk runs and put back after,
    /// so a nested use on the same thread gets a fresh one instead of a
    /// borrow error.
    static VJP_SCRATCH: Cell<Option<Box<VjpScratch>>> = const { Cell::new(None) };
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
        sparse_matrix(rows, cols, 0.0, seed)
    }

    /// Entries in [-1, 1), about `zeros` of them exactly 0 (image-like rows).
    fn sparse_matrix(rows: usize, cols: usize, zeros: f64, seed: u64) -> Array2<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Array2::from_shape_simple_fn((rows, cols), || {
            if rng.random_bool(zeros) {
                0.0
            } else {
                rng.random_range(-1.0..1.0)
            }
        })
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

    /// A network of every shape the strategy draws: depth, widths, hidden and
    /// feature activations, head input, output scale, input projection. A
    /// `wide` network has 40 inputs and a first layer of at least 8 units, so
    /// that the sparse first-layer product runs on a chunk, as it does on
    /// images; otherwise 7 inputs.
    fn drawn_network(
        wide: bool,
        mut widths: Vec<usize>,
        [hidden, feature]: [usize; 2],
        head_on_hidden: bool,
        scale: f32,
        projection: Option<usize>,
        seed: u64,
    ) -> Network {
        let n_features = if wide { 40 } else { 7 };
        if wide {
            widths[0] += 8;
        }
        let mut layer_widths = vec![n_features];
        layer_widths.extend(widths);
        let head_input = if head_on_hidden && layer_widths.len() >= 3 {
            HeadInput::Hidden
        } else {
            HeadInput::Logits
        };
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
        test_network(spec, seed)
    }

    fn output_width(net: &Network, output: NetworkOutput) -> usize {
        match output {
            NetworkOutput::Embedding => net.spec.embedding_dim,
            NetworkOutput::Logits => net.spec.n_outputs(),
        }
    }

    /// `seed · output(x)` of one row, on an `f64` tape.
    fn seeded_output_f64(net: &Network, x: &Array2<f64>, output: NetworkOutput, seed: &[f64]) -> f64 {
        let mut tape = Tape::<f64>::new();
        let bound = net.bind(&mut tape, Trainable::None);
        let xv = tape.constant_from(x.view());
        let fwd = net.forward_on(&mut tape, &bound, xv).expect("shapes agree");
        let out = match output {
            NetworkOutput::Logits => fwd.logits,
            NetworkOutput::Embedding => fwd.embedding,
        };
        let y = tape.value(out).expect("a value");
        y.iter().zip(seed).map(|(y, s)| y * s).sum()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Every network shape, both outputs, inputs dense and mostly zeros
        /// (the sparse first layer), an input projection or none, and each path
        /// of the product: a few rows (weights read in place), one chunk, and
        /// several chunks in parallel.
        #[test]
        fn the_tape_free_vjp_equals_the_tapes(
            wide in any::<bool>(),
            widths in proptest::collection::vec(1usize..12, 2..5),
            hidden in 1usize..4,
            feature in 0usize..5,
            head_on_hidden in any::<bool>(),
            scale in prop_oneof![Just(1.0f32), 0.5f32..20.0],
            rows in prop_oneof![1usize..5, 14usize..40, 120usize..300],
            zeros in prop_oneof![Just(0.0), 0.7f64..0.95],
            projection in proptest::option::of(1usize..8),
            seed in any::<u64>(),
        ) {
            let net = drawn_network(wide, widths, [hidden, feature], head_on_hidden, scale, projection, seed);
            let n_features = net.spec.n_features();
            let x = sparse_matrix(rows, n_features, zeros, seed ^ 1);
            for output in [NetworkOutput::Embedding, NetworkOutput::Logits] {
                let s = matrix(rows, output_width(&net, output), seed ^ 2);
                let fast = net.input_vjp(x.view(), output, s.view()).expect("valid shapes");
                let reference = on_tape(&net, x.view(), output, s.view());
                let norm = reference.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                for (a, b) in fast.iter().zip(&reference) {
                    prop_assert!((a - b).abs() <= 1e-5 * (1.0 + norm), "{a} vs {b} ({output:?})");
                }
            }
        }

        /// The tape-free product against central finite differences of
        /// `seed · output(x)` computed in `f64`, on sampled rows and inputs,
        /// through each path (a few rows, one chunk of GEMMs), with and without an
        /// input projection.
        #[test]
        fn the_tape_free_vjp_matches_finite_differences(
            wide in any::<bool>(),
            widths in proptest::collection::vec(1usize..12, 2..4),
            hidden in 1usize..4,
            feature in 0usize..5,
            head_on_hidden in any::<bool>(),
            scale in prop_oneof![Just(1.0f32), 0.5f32..20.0],
            rows in prop_oneof![1usize..4, 16usize..40],
            zeros in prop_oneof![Just(0.0), 0.7f64..0.95],
            projection in proptest::option::of(1usize..8),
            seed in any::<u64>(),
        ) {
            let net = drawn_network(wide, widths, [hidden, feature], head_on_hidden, scale, projection, seed);
            let n_features = net.spec.n_features();
            let x = sparse_matrix(rows, n_features, zeros, seed ^ 3);
            let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 4);
            for output in [NetworkOutput::Embedding, NetworkOutput::Logits] {
                let s = matrix(rows, output_width(&net, output), seed ^ 5);
                let fast = net.input_vjp(x.view(), output, s.view()).expect("valid shapes");
                for row in [0, rows / 2, rows - 1] {
                    let x_row = x.slice(ssne_tensor::ndarray::s![row..row + 1, ..]).mapv(f64::from);
                    let seed_row: Vec<f64> = s.row(row).iter().map(|&v| f64::from(v)).collect();
                    let norm = fast.row(row).iter().fold(0.0f32, |m, v| m.max(v.abs()));
                    for _ in 0..6 {
                        let pixel = rng.random_range(0..n_features);
                        let h = 1e-6 * x_row[[0, pixel]].abs().max(1.0);
                        let (mut plus, mut minus) = (x_row.clone(), x_row.clone());
                        plus[[0, pixel]] += h;
                        minus[[0, pixel]] -= h;
                        let fd = (seeded_output_f64(&net, &plus, output, &seed_row)
                            - seeded_output_f64(&net, &minus, output, &seed_row))
                            / (2.0 * h);
                        let got = f64::from(fast[[row, pixel]]);
                        prop_assert!(
                            (got - fd).abs() <= 1e-4 * (1.0 + f64::from(norm)),
                            "row {row} pixel {pixel}: {got} vs finite differences {fd} ({output:?})"
                        );
                    }
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
