//! The MLP classifier with its 2-D embedding head, and **the** forward pass that
//! training, embedding and saliency all differentiate; plus a tape-free copy of
//! that forward pass for prediction, which records nothing and allocates
//! nothing per call beyond its outputs.

use std::any::Any;
use std::cell::Cell;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;
use ssne_autodiff::{Tape, Var};
use ssne_tensor::ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis};
use ssne_tensor::{
    Csr, Real, SPARSE_MAX_DENSITY, TensorError, Trans, csr_gemm_serial, gemm_serial, sigmoid, softmax_row,
    worth_compressing,
};

use crate::activation::Activation;
use crate::error::config_error;
use crate::{ModelError, Result};

/// Rows per task of the tape-free inference path. Fixed, so the split (and
/// the sparse-or-dense choice made per chunk) never depends on the thread
/// count; small enough that a chunk's input and activations stay in the L2
/// cache while its layers run.
const INFER_CHUNK: usize = 128;

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
        self.run_inference(x, logits.view_mut(), Some(embedding.view_mut()), false)?;
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
    fn check_shapes(&self) -> Result<[usize; 2]> {
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
        x: ArrayView2<'_, f32>,
        mut logits: ArrayViewMut2<'_, f32>,
        embedding: Option<ArrayViewMut2<'_, f32>>,
        check_finite: bool,
    ) -> Result<()> {
        let want_embedding = embedding.is_some();
        let mut no_embedding = Array2::zeros((x.nrows(), 0));
        let mut embedding = embedding.unwrap_or_else(|| no_embedding.view_mut());
        let first_bad = x
            .axis_chunks_iter(Axis(0), INFER_CHUNK)
            .into_par_iter()
            .zip(logits.axis_chunks_iter_mut(Axis(0), INFER_CHUNK))
            .zip(embedding.axis_chunks_iter_mut(Axis(0), INFER_CHUNK))
            .enumerate()
            .map(|(chunk_idx, ((x_chunk, logits_chunk), embedding_chunk))| {
                let mut scratch = INFER_SCRATCH.take().unwrap_or_default();
                let result = self.infer_chunk(
                    &mut scratch,
                    x_chunk,
                    logits_chunk,
                    want_embedding.then_some(embedding_chunk),
                    check_finite,
                );
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
        let InferScratch { csr, buffers, features } = scratch;
        // Layer i writes buffers[i % 2] and reads buffers[(i + 1) % 2], so the
        // logits and the last hidden layer end up in different buffers.
        let [even, odd] = buffers;
        for (idx, layer) in self.layers.iter().enumerate() {
            let width = layer.weight.ncols();
            let (out_buf, in_buf) = if idx.is_multiple_of(2) {
                (&mut *even, &*odd)
            } else {
                (&mut *odd, &*even)
            };
            out_buf.resize(rows * width, 0.0);
            let mut out = view_mut(out_buf, rows, width);
            if idx == 0 {
                let k = x.ncols();
                if worth_compressing(rows, k, width) && csr.assign_if_sparse(x, SPARSE_MAX_DENSITY) {
                    if check_finite && let Some(bad) = first_non_finite_entry(csr) {
                        return Ok(Some(bad));
                    }
                    csr_gemm_serial(1.0, csr, layer.weight.view(), 0.0, out.view_mut())?;
                } else {
                    if check_finite && let Some(bad) = crate::batch::find_non_finite(x) {
                        return Ok(Some(bad));
                    }
                    gemm_serial(1.0, x, Trans::N, layer.weight.view(), Trans::N, 0.0, out.view_mut())?;
                }
            } else {
                let input = view(in_buf, rows, self.layers[idx - 1].weight.ncols());
                gemm_serial(1.0, input, Trans::N, layer.weight.view(), Trans::N, 0.0, out.view_mut())?;
            }
            let bias = layer.bias.row(0);
            for mut row in out.rows_mut() {
                row.zip_mut_with(&bias, |o, &b| *o += b);
            }
            if idx + 1 < n_layers {
                activate(self.spec.hidden_activation, out);
            }
        }
        let logits_width = self.layers[n_layers - 1].weight.ncols();
        let (logits_buf, hidden_buf) = if (n_layers - 1).is_multiple_of(2) {
            (&*even, &*odd)
        } else {
            (&*odd, &*even)
        };
        let logits = view(logits_buf, rows, logits_width);
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
            activate(self.spec.feature_activation, activated);
            view(features, rows, head_in.ncols())
        };
        let head_w = self.head.weight.view();
        gemm_serial(1.0, features, Trans::N, head_w, Trans::N, 0.0, embedding_out.view_mut())?;
        let bias = self.head.bias.row(0);
        let scale = self.spec.output_scale;
        for mut row in embedding_out.rows_mut() {
            row.zip_mut_with(&bias, |o, &b| *o += b);
            if scale != 1.0 {
                row.mapv_inplace(|v| v * scale);
            }
        }
        Ok(None)
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

/// Reused buffers of one inference task: the compressed input chunk, two
/// activation buffers that consecutive layers use in turn, and the activated
/// head input.
#[derive(Debug, Default)]
struct InferScratch {
    csr: Csr<f32>,
    buffers: [Vec<f32>; 2],
    features: Vec<f32>,
}

thread_local! {
    /// One scratch per thread, taken out while a chunk runs and put back after,
    /// so a nested use on the same thread (rayon may run another chunk while a
    /// task waits) gets a fresh one instead of a borrow error.
    static INFER_SCRATCH: Cell<Option<Box<InferScratch>>> = const { Cell::new(None) };
}

/// `buf[..rows * cols]` as a row-major matrix.
fn view(buf: &[f32], rows: usize, cols: usize) -> ArrayView2<'_, f32> {
    // Cannot fail: callers size `buf` to at least `rows * cols` first.
    ArrayView2::from_shape((rows, cols), &buf[..rows * cols]).expect("buffer sized for the layer")
}

/// `buf[..rows * cols]` as a mutable row-major matrix.
fn view_mut(buf: &mut [f32], rows: usize, cols: usize) -> ArrayViewMut2<'_, f32> {
    // Cannot fail: callers size `buf` to at least `rows * cols` first.
    ArrayViewMut2::from_shape((rows, cols), &mut buf[..rows * cols]).expect("buffer sized for the layer")
}

/// Applies `activation` in place with the tape ops' own arithmetic (same
/// expressions, same row softmax), so dense chunks give the tape's bits.
fn activate(activation: Activation, mut h: ArrayViewMut2<'_, f32>) {
    match activation {
        Activation::Identity => {}
        Activation::Relu => h.mapv_inplace(|v| if v > 0.0 { v } else { 0.0 }),
        Activation::Tanh => h.mapv_inplace(f32::tanh),
        Activation::Sigmoid => h.mapv_inplace(sigmoid),
        Activation::Softmax => h.rows_mut().into_iter().for_each(softmax_row),
    }
}

/// Position of the first non-finite stored entry of `csr` in row-major order.
fn first_non_finite_entry(csr: &Csr<f32>) -> Option<(usize, usize)> {
    (0..csr.nrows()).find_map(|i| {
        let (cols, vals) = csr.row(i);
        let finite = vals.iter().fold(true, |ok, v| ok & v.is_finite());
        let pos = if finite {
            None
        } else {
            vals.iter().position(|v| !v.is_finite())
        };
        pos.map(|p| (i, cols[p] as usize))
    })
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use ssne_autodiff::Tape;
    use ssne_tensor::ndarray::{Array2, ArrayView2, s};

    use super::*;

    fn network(spec: NetworkSpec, seed: u64) -> Network {
        let mut net = Network::init(spec, &mut ChaCha8Rng::seed_from_u64(seed)).expect("valid spec");
        // Non-zero biases, so a bias added twice or not at all shows.
        let mut rng = ChaCha8Rng::seed_from_u64(seed + 1);
        for p in net.parameters_mut() {
            if p.nrows() == 1 {
                p.mapv_inplace(|_| rng.random_range(-0.5..0.5));
            }
        }
        net
    }

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
        for (seed, (hidden, feature, head_input, scale)) in activations.into_iter().enumerate() {
            let spec = NetworkSpec {
                layer_widths: vec![40, 30, 20, 10],
                hidden_activation: hidden,
                head_input,
                feature_activation: feature,
                embedding_dim: 2,
                output_scale: scale,
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
    /// number of threads.
    #[test]
    fn sparse_inputs_match_the_tape_and_do_not_depend_on_threads() {
        let net = network(NetworkSpec::paper(300, 10), 3);
        let x = data(700, 300, 0.8, 8);
        let (logits, embedding) = on_threads(1, || net.infer(x.view())).expect("valid shapes");
        for threads in [2, 3] {
            let (l, e) = on_threads(threads, || net.infer(x.view())).expect("valid shapes");
            assert_eq!(bits(&l), bits(&logits));
            assert_eq!(bits(&e), bits(&embedding));
        }
        let (tape_logits, tape_embedding) = on_tape(&net, x.view());
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

    /// Dense chunks are checked as they are, compressed ones on their entries.
    #[test]
    fn embed_into_reports_the_first_non_finite_input_in_row_major_order() {
        for (width, outputs, zeros) in [(300, 10, 0.8), (50, 4, 0.5)] {
            let net = network(NetworkSpec::paper(width, outputs), 5);
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
