//! The one primitive every map is built from: a vector-Jacobian product of the
//! model's own forward pass with respect to its input rows.

use ssne_autodiff::Tape;
use ssne_model::{Network, NetworkOutput, Trainable};
use ssne_tensor::Real;
use ssne_tensor::ndarray::{Array2, ArrayView2};

use crate::networks::check_features;
use crate::{Result, SaliencyError};

/// Rows per forward pass when a caller hands over more: large enough for GEMM
/// efficiency, small enough to bound the tape's memory (a few MB for MNIST).
pub(crate) const CHUNK_ROWS: usize = 4096;

/// Which output of [`Network::forward_on`] a seed weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Output {
    /// The classifier scores before the softmax, `[n, n_classes]`.
    Logits,
    /// The map, `[n, embedding_dim]`.
    Embedding,
}

impl Output {
    /// Columns of this output for `network`.
    pub fn width(self, network: &Network) -> usize {
        match self {
            Output::Logits => network.spec.n_outputs(),
            Output::Embedding => network.spec.embedding_dim,
        }
    }
}

/// `seedᵀ (∂output/∂x)` for every row of `x` at once: row `i` of the result is
/// the gradient of `seed[i] · output(x[i])` with respect to `x[i]`.
///
/// This is one forward and one backward pass of [`Network::forward_on`] (the
/// model's single definition of its function) on `tape`, whatever the number
/// of rows: the rows of an MLP do not interact, so seeding each output row with
/// its own vector gives every row's map at once. The parameters are bound as
/// constants, so no weight gradient is computed. Generic over the float type so
/// that tests can run it in `f64`.
///
/// # Errors
/// [`SaliencyError::FeatureCount`] when `x` is not as wide as the network's input,
/// [`SaliencyError::TargetRows`] / [`SaliencyError::DirectionWidth`] when `seed`
/// is not `[x.nrows(), output width]`.
///
/// # Example
/// ```
/// use rand::SeedableRng;
/// use ssne_autodiff::Tape;
/// use ssne_model::{Network, NetworkSpec};
/// use ssne_saliency::{Output, input_gradient};
/// use ssne_tensor::ndarray::{Array2, array};
///
/// let network = Network::init(NetworkSpec::paper(4, 3), &mut rand_chacha::ChaCha8Rng::seed_from_u64(1))?;
/// let x = Array2::<f64>::ones((2, 4));
/// // d(y_0)/dx for the first row, d(y_1)/dx for the second.
/// let seed = array![[1.0, 0.0], [0.0, 1.0]];
/// let maps = input_gradient(&mut Tape::new(), &network, x.view(), Output::Embedding, seed.view())?;
/// assert_eq!(maps.dim(), (2, 4));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn input_gradient<R: Real>(
    tape: &mut Tape<R>,
    network: &Network,
    x: ArrayView2<'_, R>,
    output: Output,
    seed: ArrayView2<'_, R>,
) -> Result<Array2<R>> {
    check_seed(network, x.dim(), output, seed.dim())?;
    tape.clear();
    let bound = network.bind(tape, Trainable::None);
    let x_var = tape.var_from(x);
    let forward = network.forward_on(tape, &bound, x_var)?;
    let out = match output {
        Output::Logits => forward.logits,
        Output::Embedding => forward.embedding,
    };
    let mut grads = tape.vjp(out, seed)?;
    // `None` only if the output did not depend on the input at all, which a
    // forward pass cannot produce; zeros are the honest answer then.
    let grad = grads.take(x_var).unwrap_or_else(|| Array2::zeros(x.raw_dim()));
    tape.recycle(grads);
    Ok(grad)
}

/// [`input_gradient`] in `f32` without a tape: the network's own tape-free
/// vector-Jacobian product ([`Network::input_vjp`]), which shares the inference
/// kernels and equals the tape's product up to `f32` rounding. Every map of the
/// crate's methods is built from it.
///
/// # Errors
/// As [`input_gradient`].
pub(crate) fn input_gradient_f32(
    network: &Network,
    x: ArrayView2<'_, f32>,
    output: Output,
    seed: ArrayView2<'_, f32>,
) -> Result<Array2<f32>> {
    check_seed(network, x.dim(), output, seed.dim())?;
    let output = match output {
        Output::Logits => NetworkOutput::Logits,
        Output::Embedding => NetworkOutput::Embedding,
    };
    Ok(network.input_vjp(x, output, seed)?)
}

/// Errors unless `x` fits the network and `seed` is `[x rows, output width]`.
fn check_seed(network: &Network, x: (usize, usize), output: Output, seed: (usize, usize)) -> Result<()> {
    check_features(network, x.1)?;
    if seed.0 != x.0 {
        return Err(SaliencyError::TargetRows {
            what: "the seed",
            found: seed.0,
            n_points: x.0,
        });
    }
    let width = output.width(network);
    if seed.1 != width {
        return Err(SaliencyError::DirectionWidth {
            expected: width,
            found: seed.1,
        });
    }
    Ok(())
}

/// Both outputs of the forward pass for the rows of `x`, in chunks, in `f32`.
pub(crate) fn forward_outputs(network: &Network, x: ArrayView2<'_, f32>) -> Result<(Array2<f32>, Array2<f32>)> {
    check_features(network, x.ncols())?;
    Ok(network.infer(x)?)
}

/// The map of the rows of `x` (the fine-tuned network's head output).
pub(crate) fn embed(network: &Network, x: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
    Ok(forward_outputs(network, x)?.1)
}
