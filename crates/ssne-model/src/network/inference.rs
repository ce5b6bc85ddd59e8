//! The forward pass without a tape, for prediction: it records nothing and
//! allocates nothing per call beyond its outputs.

use std::cell::Cell;

use rayon::prelude::*;
use ssne_data::FeatureRows;
use ssne_tensor::ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis};
use ssne_tensor::{
    Csr, SPARSE_MAX_DENSITY, TensorError, Trans, add_row_bias, csr_gemm_serial, gemm_serial, worth_compressing,
};

use super::{Dense, HeadInput, Network};
use crate::activation::Activation;
use crate::non_finite::{find_non_finite, first_non_finite_entry};
use crate::{ModelError, Result};

/// Rows per task of the tape-free inference path. Fixed, so the split (and
/// the sparse-or-dense choice made per chunk) never depends on the thread
/// count; small enough that a chunk's input and activations stay in the L2
/// cache while its layers run.
pub(crate) const INFER_CHUNK: usize = 128;

impl Network {
    /// The forward pass without a tape: `(logits, embedding)` of the rows of `x`.
    ///
    /// The same function as [`Network::forward_on`] (same layers, activations
    /// and head, in the same order), computed in fixed chunks of rows in
    /// parallel, with per-thread buffers reused across calls. Each fixed chunk
    /// of rows takes the sparse first-layer product when it is mostly zeros, so
    /// results may differ from the tape's in the last bits, and a row's last
    /// bits may depend on which rows share its chunk (its position in `x`);
    /// they never depend on the thread count. Non-finite inputs give
    /// non-finite outputs.
    ///
    /// # Errors
    /// [`ModelError::FeatureCount`] when `x` has the wrong width;
    /// [`ModelError::Tensor`] when the parameters' shapes do not chain.
    pub fn infer(&self, x: ArrayView2<'_, f32>) -> Result<(Array2<f32>, Array2<f32>)> {
        self.check_features(x.ncols())?;
        let [logits_width, embedding_width] = self.check_shapes()?;
        let mut logits = Array2::zeros((x.nrows(), logits_width));
        let mut embedding = Array2::zeros((x.nrows(), embedding_width));
        self.run_inference(x.into(), logits.view_mut(), Some(embedding.view_mut()), false)?;
        Ok((logits, embedding))
    }

    /// The map of the rows of `x` into `out` (`[x.nrows(), embedding_dim]`),
    /// by the tape-free forward pass of [`Network::infer`], checking in the same
    /// pass that every input is finite. The classifier's logits are not kept.
    ///
    /// # Errors
    /// [`ModelError::FeatureCount`] when `x` has the wrong width,
    /// [`ModelError::NonFinite`] for the first non-finite input in row-major
    /// order, [`ModelError::Tensor`] when `out` or the parameters have the
    /// wrong shape.
    pub fn embed_into(&self, x: ArrayView2<'_, f32>, out: ArrayViewMut2<'_, f32>) -> Result<()> {
        self.embed_rows_into(x.into(), out)
    }

    /// [`Network::embed_into`] of rows in either storage: `u8` codes are decoded a fixed chunk
    /// at a time inside the parallel tasks, into per-thread buffers that stay in cache, so a
    /// large batch of codes is never held as `f32`. The map equals [`Network::embed_into`]'s of
    /// the decoded rows bit for bit.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use ssne_data::{ByteDecoding, ByteFeatures, FeatureRows};
    /// use ssne_model::{Network, Preset, TrainConfig};
    /// use ssne_tensor::ndarray::{Array2, array};
    ///
    /// let spec = TrainConfig::preset(Preset::Default, 1).network_spec(2, 3);
    /// let net = Network::init(spec, &mut rand_chacha::ChaCha8Rng::seed_from_u64(1))?;
    /// let codes = ByteFeatures::new(array![[0_u8, 255], [51, 102]], ByteDecoding::UnitInterval);
    /// let mut from_codes = Array2::zeros((2, 2));
    /// net.embed_rows_into(FeatureRows::Bytes(&codes), from_codes.view_mut())?;
    /// let mut from_values = Array2::zeros((2, 2));
    /// net.embed_into(codes.to_f32().view(), from_values.view_mut())?;
    /// assert_eq!(from_codes, from_values);
    /// # Ok::<(), ssne_model::ModelError>(())
    /// ```
    ///
    /// # Errors
    /// As [`Network::embed_into`].
    pub fn embed_rows_into(&self, x: FeatureRows<'_>, out: ArrayViewMut2<'_, f32>) -> Result<()> {
        self.check_features(x.ncols())?;
        let [_, embedding_width] = self.check_shapes()?;
        if out.dim() != (x.nrows(), embedding_width) {
            return Err(TensorError::ShapeMismatch {
                op: "embed_into (output)",
                left: [x.nrows(), embedding_width],
                right: [out.nrows(), out.ncols()],
            }
            .into());
        }
        // Zero columns: the logits are computed chunk by chunk but not kept.
        let mut no_logits = Array2::zeros((x.nrows(), 0));
        self.run_inference(x, no_logits.view_mut(), Some(out), true)
    }

    /// Checks that the parameters chain from the input to the logits and the
    /// head, and returns the widths `[logits, embedding]`.
    pub(super) fn check_shapes(&self) -> Result<[usize; 2]> {
        let mismatch = |left: [usize; 2], right: [usize; 2]| -> ModelError {
            TensorError::ShapeMismatch {
                op: "network parameters",
                left,
                right,
            }
            .into()
        };
        let shape = |m: &Array2<f32>| [m.nrows(), m.ncols()];
        let mut width = self.n_features();
        if let Some(projection) = &self.input_projection {
            if projection.weight.nrows() != width {
                return Err(mismatch([1, width], shape(&projection.weight)));
            }
            if shape(&projection.bias) != [1, projection.weight.ncols()] {
                return Err(mismatch([1, projection.weight.ncols()], shape(&projection.bias)));
            }
            width = projection.weight.ncols();
        }
        let mut last_hidden = width;
        for (idx, layer) in self.layers.iter().enumerate() {
            if layer.weight.nrows() != width {
                return Err(mismatch([1, width], shape(&layer.weight)));
            }
            if shape(&layer.bias) != [1, layer.weight.ncols()] {
                return Err(mismatch([1, layer.weight.ncols()], shape(&layer.bias)));
            }
            if idx + 1 < self.layers.len() {
                last_hidden = layer.weight.ncols();
            }
            width = layer.weight.ncols();
        }
        let head_in = match self.spec.head_input {
            HeadInput::Logits => width,
            HeadInput::Hidden => last_hidden,
        };
        if self.head.weight.nrows() != head_in {
            return Err(mismatch([1, head_in], shape(&self.head.weight)));
        }
        if shape(&self.head.bias) != [1, self.head.weight.ncols()] {
            return Err(mismatch([1, self.head.weight.ncols()], shape(&self.head.bias)));
        }
        Ok([width, self.head.weight.ncols()])
    }

    /// Runs the tape-free forward pass over fixed chunks of rows in parallel.
    /// `logits` may have zero columns (not wanted); `embedding` is skipped
    /// when `None`. Shapes must be checked. With `check_finite`, a chunk that
    /// holds a non-finite input is not computed, and the first such input
    /// over all chunks (row-major) is the error: all chunks run, so which one
    /// is reported does not depend on the scheduling.
    fn run_inference(
        &self,
        x: FeatureRows<'_>,
        mut logits: ArrayViewMut2<'_, f32>,
        embedding: Option<ArrayViewMut2<'_, f32>>,
        check_finite: bool,
    ) -> Result<()> {
        // Codes whose every decoded value is finite need no check chunk by chunk.
        let check_finite = check_finite && (!x.is_bytes() || x.find_non_finite().is_some());
        let want_embedding = embedding.is_some();
        let mut no_embedding = Array2::zeros((x.nrows(), 0));
        let mut embedding = embedding.unwrap_or_else(|| no_embedding.view_mut());
        let first_bad = logits
            .axis_chunks_iter_mut(Axis(0), INFER_CHUNK)
            .into_par_iter()
            .zip(embedding.axis_chunks_iter_mut(Axis(0), INFER_CHUNK))
            .enumerate()
            .map(|(chunk_idx, (logits_chunk, embedding_chunk))| {
                let mut scratch = INFER_SCRATCH.take().unwrap_or_default();
                let start = chunk_idx * INFER_CHUNK;
                // Codes are decoded here, per task, into a buffer kept with the scratch.
                let mut decoded = std::mem::take(&mut scratch.decoded);
                let x_chunk = x.chunk_in(start..start + logits_chunk.nrows(), &mut decoded);
                let result = self.infer_chunk(
                    &mut scratch,
                    x_chunk,
                    logits_chunk,
                    want_embedding.then_some(embedding_chunk),
                    check_finite,
                );
                scratch.decoded = decoded;
                INFER_SCRATCH.set(Some(scratch));
                result.map(|bad| bad.map(|(row, col)| (chunk_idx * INFER_CHUNK + row, col)))
            })
            .try_reduce(|| None, |a, b| Ok(a.into_iter().chain(b).min()))?;
        match first_bad {
            Some((row, col)) => Err(ModelError::NonFinite { row, col }),
            None => Ok(()),
        }
    }

    /// [`Network::forward_on`] for one chunk of rows, on the calling thread:
    /// each layer's product (sparse for a mostly-zero input), bias and
    /// activation, then the feature activation, the head and the output scale.
    ///
    /// With `check_finite`, returns the first non-finite input (row-major,
    /// within the chunk) instead of computing. A compressed input is checked
    /// on its stored entries only (zeros are finite, and NaN and infinities
    /// are stored), so the check costs a fraction of a pass over the input.
    fn infer_chunk(
        &self,
        scratch: &mut InferScratch,
        x: ArrayView2<'_, f32>,
        mut logits_out: ArrayViewMut2<'_, f32>,
        embedding_out: Option<ArrayViewMut2<'_, f32>>,
        check_finite: bool,
    ) -> std::result::Result<Option<(usize, usize)>, TensorError> {
        let rows = x.nrows();
        let n_layers = self.layers.len();
        let InferScratch {
            csr,
            buffers,
            features,
            projected,
            ..
        } = scratch;
        // The fixed projection reads the inputs (sparse when mostly zero, as a
        // first layer would); the layers then read its dense output.
        let x = match &self.input_projection {
            None => x,
            Some(projection) => match project_rows(projection, csr, x, projected, check_finite)? {
                Err(bad) => return Ok(Some(bad)),
                Ok(width) => view(projected, rows, width),
            },
        };
        // Layer i writes buffers[i % 2] and reads buffers[(i + 1) % 2], so the
        // logits and the last hidden layer end up in different buffers.
        let [even, odd] = buffers;
        // A map read from the last hidden layer, with no logits wanted, needs no classifier layer.
        let skip_classifier = logits_out.ncols() == 0
            && embedding_out.is_some()
            && self.spec.head_input == HeadInput::Hidden
            && n_layers > 1;
        let n_run = if skip_classifier { n_layers - 1 } else { n_layers };
        for (idx, layer) in self.layers.iter().enumerate().take(n_run) {
            let width = layer.weight.ncols();
            let (out_buf, in_buf) = if idx.is_multiple_of(2) {
                (&mut *even, &*odd)
            } else {
                (&mut *odd, &*even)
            };
            out_buf.resize(rows * width, 0.0);
            let mut out = view_mut(out_buf, rows, width);
            if idx == 0 {
                // A projection's output is finite where the inputs were (checked above).
                let check = check_finite && self.input_projection.is_none();
                if let Some(bad) = first_product(csr, x, layer.weight.view(), out.view_mut(), check)? {
                    return Ok(Some(bad));
                }
            } else {
                let input = view(in_buf, rows, self.layers[idx - 1].weight.ncols());
                gemm_serial(1.0, input, Trans::N, layer.weight.view(), Trans::N, 0.0, out.view_mut())?;
            }
            add_row_bias(out.view_mut(), layer.bias.row(0));
            if idx + 1 < n_layers {
                self.spec.hidden_activation.apply_in_place(out);
            }
        }
        let logits_width = self.layers[n_layers - 1].weight.ncols();
        let (logits_buf, hidden_buf) = if (n_layers - 1).is_multiple_of(2) {
            (&*even, &*odd)
        } else {
            (&*odd, &*even)
        };
        let logits = view(logits_buf, rows, if skip_classifier { 0 } else { logits_width });
        if logits_out.ncols() > 0 {
            logits_out.assign(&logits);
        }
        let Some(mut embedding_out) = embedding_out else {
            return Ok(None);
        };
        let head_in = match self.spec.head_input {
            HeadInput::Logits => logits,
            HeadInput::Hidden => view(hidden_buf, rows, self.head.weight.nrows()),
        };
        let features = if self.spec.feature_activation == Activation::Identity {
            head_in
        } else {
            features.resize(head_in.len(), 0.0);
            let mut activated = view_mut(features, rows, head_in.ncols());
            activated.assign(&head_in);
            self.spec.feature_activation.apply_in_place(activated);
            view(features, rows, head_in.ncols())
        };
        let head_w = self.head.weight.view();
        gemm_serial(1.0, features, Trans::N, head_w, Trans::N, 0.0, embedding_out.view_mut())?;
        add_row_bias(embedding_out.view_mut(), self.head.bias.row(0));
        let scale = self.spec.output_scale;
        if scale != 1.0 {
            embedding_out.mapv_inplace(|v| v * scale);
        }
        Ok(None)
    }
}

/// `out = x W` for the first product of a chunk, the one that reads the
/// inputs: sparse when `x` is mostly zero, else dense. With `check_finite`,
/// returns the first non-finite input (row-major) instead of computing.
/// Writes `x · W + b` of the fixed input `projection` into `projected` (rows
/// of the projection's width, returned as `Ok(width)`), reading `x` compressed
/// when it is mostly zero, as a first layer does; with `check_finite`, the
/// first non-finite input instead, as `Err((row, column))`.
pub(super) fn project_rows(
    projection: &Dense,
    csr: &mut Csr<f32>,
    x: ArrayView2<'_, f32>,
    projected: &mut Vec<f32>,
    check_finite: bool,
) -> std::result::Result<std::result::Result<usize, (usize, usize)>, TensorError> {
    let (rows, width) = (x.nrows(), projection.weight.ncols());
    projected.resize(rows * width, 0.0);
    let mut out = view_mut(projected, rows, width);
    if let Some(bad) = first_product(csr, x, projection.weight.view(), out.view_mut(), check_finite)? {
        return Ok(Err(bad));
    }
    add_row_bias(out.view_mut(), projection.bias.row(0));
    Ok(Ok(width))
}

fn first_product(
    csr: &mut Csr<f32>,
    x: ArrayView2<'_, f32>,
    weight: ArrayView2<'_, f32>,
    mut out: ArrayViewMut2<'_, f32>,
    check_finite: bool,
) -> std::result::Result<Option<(usize, usize)>, TensorError> {
    if worth_compressing(x.nrows(), x.ncols(), weight.ncols()) && csr.assign_if_sparse(x, SPARSE_MAX_DENSITY) {
        if check_finite && let Some(bad) = first_non_finite_entry(csr) {
            return Ok(Some(bad));
        }
        csr_gemm_serial(1.0, csr, weight, 0.0, out.view_mut())?;
    } else {
        if check_finite && let Some(bad) = find_non_finite(x) {
            return Ok(Some(bad));
        }
        gemm_serial(1.0, x, Trans::N, weight, Trans::N, 0.0, out.view_mut())?;
    }
    Ok(None)
}

/// Reused buffers of one inference task: the compressed input chunk, two
/// activation buffers that consecutive layers use in turn, the activated
/// head input and the projected inputs.
#[derive(Debug, Default)]
struct InferScratch {
    csr: Csr<f32>,
    buffers: [Vec<f32>; 2],
    features: Vec<f32>,
    projected: Vec<f32>,
    /// The chunk's inputs decoded from `u8` codes.
    decoded: Vec<f32>,
}

thread_local! {
    /// One scratch per thread, taken out while a chunk runs and put back after,
    /// so a nested use on the same thread (rayon may run another chunk while a
    /// task waits) gets a fresh one instead of a borrow error.
    static INFER_SCRATCH: Cell<Option<Box<InferScratch>>> = const { Cell::new(None) };
}

/// `buf[..rows * cols]` as a row-major matrix.
pub(super) fn view(buf: &[f32], rows: usize, cols: usize) -> ArrayView2<'_, f32> {
    // Cannot fail: callers size `buf` to at least `rows * cols` first.
    ArrayView2::from_shape((rows, cols), &buf[..rows * cols]).expect("buffer sized for the layer")
}

/// `buf[..rows * cols]` as a mutable row-major matrix.
pub(super) fn view_mut(buf: &mut [f32], rows: usize, cols: usize) -> ArrayViewMut2<'_, f32> {
    // Cannot fail: callers size `buf` to at least `rows * cols` first.
    ArrayViewMut2::from_shape((rows, cols), &mut buf[..rows * cols]).expect("buffer sized for the layer")
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use ssne_autodiff::Tape;
    use ssne_tensor::ndarray::{Array2, ArrayView2, s};

    use super::*;
    use crate::network::test_network as network;
    use crate::{NetworkSpec, Trainable};

    /// `rows x cols` inputs in [0, 1), with about `zeros` of them exactly 0.
    fn data(rows: usize, cols: usize, zeros: f64, seed: u64) -> Array2<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Array2::from_shape_simple_fn((rows, cols), || {
            if rng.random_bool(zeros) {
                0.0
            } else {
                rng.random_range(0.0..1.0)
            }
        })
    }

    /// The tape's forward pass, the reference.
    fn on_tape(net: &Network, x: ArrayView2<'_, f32>) -> (Array2<f32>, Array2<f32>) {
        let mut tape = Tape::<f32>::new();
        let bound = net.bind(&mut tape, Trainable::None);
        let xv = tape.constant_from(x);
        let fwd = net.forward_on(&mut tape, &bound, xv).expect("shapes agree");
        (
            tape.value(fwd.logits).unwrap().to_owned(),
            tape.value(fwd.embedding).unwrap().to_owned(),
        )
    }

    fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a test pool")
            .install(f)
    }

    fn bits(a: &Array2<f32>) -> Vec<u32> {
        a.iter().map(|v| v.to_bits()).collect()
    }

    /// Dense inputs take dense products on both paths, and every element of a
    /// GEMM is summed in the same order however the rows are split, so the
    /// tape-free pass must reproduce the tape's bits for every activation and
    /// head, over several chunks (300 rows: 128 + 128 + 44).
    #[test]
    fn infer_gives_the_tapes_bits_on_dense_inputs() {
        let activations = [
            (Activation::Relu, Activation::Identity, HeadInput::Logits, 1.0),
            (Activation::Tanh, Activation::Tanh, HeadInput::Logits, 10.0),
            (Activation::Sigmoid, Activation::Softmax, HeadInput::Hidden, 3.0),
            (Activation::Relu, Activation::Sigmoid, HeadInput::Hidden, 1.0),
        ];
        let cases = activations.into_iter().flat_map(|a| [(a, None), (a, Some(12))]);
        for (seed, ((hidden, feature, head_input, scale), projection)) in cases.enumerate() {
            let spec = NetworkSpec {
                layer_widths: vec![40, 30, 20, 10],
                hidden_activation: hidden,
                head_input,
                feature_activation: feature,
                embedding_dim: 2,
                output_scale: scale,
                biases: true,
                input_projection: projection,
            };
            let net = network(spec, seed as u64);
            let x = data(300, 40, 0.0, 7);
            let (logits, embedding) = net.infer(x.view()).expect("valid shapes");
            let (tape_logits, tape_embedding) = on_tape(&net, x.view());
            assert_eq!(
                bits(&logits),
                bits(&tape_logits),
                "{hidden:?} {feature:?} {head_input:?}"
            );
            assert_eq!(
                bits(&embedding),
                bits(&tape_embedding),
                "{hidden:?} {feature:?} {head_input:?}"
            );
        }
    }

    /// Mostly-zero inputs take the sparse first layer (in both paths, with
    /// different chunks): equal up to rounding, and the same bits on any
    /// number of threads; likewise the sparse product of an input projection.
    #[test]
    fn sparse_inputs_match_the_tape_and_do_not_depend_on_threads() {
        for projection in [None, Some(50)] {
            let spec = NetworkSpec {
                input_projection: projection,
                ..NetworkSpec::paper(300, 10)
            };
            sparse_inputs_case(&network(spec, 3));
        }
    }

    fn sparse_inputs_case(net: &Network) {
        let x = data(700, 300, 0.8, 8);
        let (logits, embedding) = on_threads(1, || net.infer(x.view())).expect("valid shapes");
        for threads in [2, 3] {
            let (l, e) = on_threads(threads, || net.infer(x.view())).expect("valid shapes");
            assert_eq!(bits(&l), bits(&logits));
            assert_eq!(bits(&e), bits(&embedding));
        }
        let (tape_logits, tape_embedding) = on_tape(net, x.view());
        for (a, b) in logits
            .iter()
            .zip(&tape_logits)
            .chain(embedding.iter().zip(&tape_embedding))
        {
            assert!((a - b).abs() <= 1e-4 * (1.0 + b.abs()), "{a} vs {b}");
        }
        let mut out = Array2::zeros((700, 2));
        net.embed_into(x.view(), out.view_mut()).expect("finite inputs");
        assert_eq!(bits(&out), bits(&embedding));
    }

    /// Dense chunks are checked as they are, compressed ones on their entries;
    /// with an input projection, the inputs before it.
    #[test]
    fn embed_into_reports_the_first_non_finite_input_in_row_major_order() {
        let cases = [
            (300, 10, 0.8, None),
            (50, 4, 0.5, None),
            (300, 10, 0.8, Some(20)),
            (50, 4, 0.5, Some(8)),
        ];
        for (width, outputs, zeros, projection) in cases {
            let spec = NetworkSpec {
                input_projection: projection,
                ..NetworkSpec::paper(width, outputs)
            };
            let net = network(spec, 5);
            let mut x = data(400, width, zeros, 9);
            x[[300, 2]] = f32::INFINITY; // a later chunk
            x[[130, 40]] = f32::NAN; // chunk 1
            x[[130, 45]] = f32::NEG_INFINITY;
            let mut out = Array2::zeros((400, 2));
            let err = on_threads(2, || net.embed_into(x.view(), out.view_mut()));
            assert!(
                matches!(err, Err(ModelError::NonFinite { row: 130, col: 40 })),
                "{err:?}"
            );
            x[[130, 40]] = 0.0;
            let err = on_threads(2, || net.embed_into(x.view(), out.view_mut()));
            assert!(
                matches!(err, Err(ModelError::NonFinite { row: 130, col: 45 })),
                "{err:?}"
            );
        }
        let net = network(NetworkSpec::paper(50, 4), 5);
        let mut x = data(400, 50, 0.5, 9);
        x[[300, 2]] = f32::INFINITY;
        x[[130, 40]] = f32::NAN;
        // Not an error for `infer`: the values flow through the layers as on
        // the tape (where ReLU maps a NaN to 0).
        let (_, embedding) = net.infer(x.view()).expect("valid shapes");
        let (_, tape_embedding) = on_tape(&net, x.view());
        assert_eq!(bits(&embedding), bits(&tape_embedding));
        assert!(embedding.slice(s![..128, ..]).iter().all(|v| v.is_finite()));
    }

    #[test]
    fn shape_errors_are_errors() {
        let mut net = network(NetworkSpec::paper(20, 3), 6);
        let x = data(5, 20, 0.0, 1);
        assert!(matches!(
            net.infer(data(5, 21, 0.0, 1).view()),
            Err(ModelError::FeatureCount {
                expected: 20,
                found: 21
            })
        ));
        assert!(matches!(
            net.embed_into(x.view(), Array2::zeros((5, 3)).view_mut()),
            Err(ModelError::Tensor(_))
        ));
        net.head.weight = Array2::zeros((4, 2)); // the head no longer fits the 3 logits
        assert!(matches!(net.infer(x.view()), Err(ModelError::Tensor(_))));
        let (logits, embedding) = network(NetworkSpec::paper(20, 3), 6)
            .infer(Array2::zeros((0, 20)).view())
            .expect("no rows is fine");
        assert_eq!((logits.dim(), embedding.dim()), ((0, 3), (0, 2)));
    }
}
