//! Faithfulness metrics: do the pixels a map marks move the scalar it explains?
//!
//! Every metric takes the explained scalar as a function of a batch of inputs
//! (a [`Score`]), so that it can be checked on models with a known answer and
//! applied to any [`Target`] of a network through [`network_score`].

mod agreement;
mod deletion;
mod follow;
mod infidelity;
mod sensitivity;

pub use agreement::agreement;
pub use deletion::{Curve, Order, deletion_curve};
pub use follow::{Followed, follow_map};
pub use infidelity::{Perturbation, infidelity};
pub use sensitivity::max_sensitivity;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use ssne_tensor::ndarray::{Array1, Array2, ArrayView2};

use crate::attribution::Attribution;
use crate::networks::Networks;
use crate::target::Target;
use crate::{Result, SaliencyError};

/// The explained scalar, one value per row of a batch of inputs.
pub type Score<'a> = dyn Fn(ArrayView2<'_, f32>) -> Result<Array1<f64>> + 'a;

/// A saliency method as a function of a batch of inputs: one map per row.
pub type Explain<'a> = dyn Fn(ArrayView2<'_, f32>) -> Result<Array2<f32>> + 'a;

/// The scalar `target` explains for `networks`, fixed at the points `x` (a
/// direction toward points or groups is resolved once, so perturbed inputs
/// are scored along the same direction as the points they came from).
///
/// # Example
/// ```
/// use rand::SeedableRng;
/// use ssne_model::{Network, NetworkSpec};
/// use ssne_saliency::faithfulness::{max_sensitivity, network_explainer, network_score};
/// use ssne_saliency::{Gradient, Networks, Target};
/// use ssne_tensor::ndarray::{Array2, s};
///
/// let net = Network::init(NetworkSpec::paper(6, 3), &mut rand_chacha::ChaCha8Rng::seed_from_u64(0))?;
/// let x = Array2::from_shape_fn((4, 6), |(i, j)| (i + j) as f32 / 9.0);
/// let target = Target::BetweenGroups {
///     from: x.slice(s![..2, ..]).to_owned(),
///     to: x.slice(s![2.., ..]).to_owned(),
/// };
/// let networks = Networks::new(&net);
/// let score = network_score(networks, x.view(), &target)?;
/// assert_eq!(score(x.view())?.len(), 4);
/// let explain = network_explainer(Gradient, networks, x.view(), &target)?;
/// let sensitivity = max_sensitivity(&explain, x.view(), 0.01, 4, 0)?;
/// assert!(sensitivity.iter().all(|s| s.is_finite()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`Target::resolve`].
pub fn network_score<'a>(
    networks: Networks<'a>,
    x: ArrayView2<'_, f32>,
    target: &Target,
) -> Result<impl Fn(ArrayView2<'_, f32>) -> Result<Array1<f64>> + 'a> {
    let fixed = target.resolve(networks, x)?;
    Ok(move |z: ArrayView2<'_, f32>| fixed.score(networks, z))
}

/// The maps `method` gives for `target` and `networks`, with the target fixed
/// at the points `x` (as in [`network_score`]), so that perturbed inputs are
/// explained along the same direction as the points they came from.
///
/// # Errors
/// As [`Target::resolve`].
pub fn network_explainer<'a, A: Attribution + 'a>(
    method: A,
    networks: Networks<'a>,
    x: ArrayView2<'_, f32>,
    target: &Target,
) -> Result<impl Fn(ArrayView2<'_, f32>) -> Result<Array2<f32>> + 'a> {
    let fixed = target.resolve(networks, x)?;
    Ok(move |z: ArrayView2<'_, f32>| method.attribute(networks, z, &fixed))
}

/// The random stream of item `k` (a point and sample) of a seeded metric, so
/// that no item's draws depend on how many came before it.
pub(crate) fn stream(seed: u64, k: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(k as u64);
    rng
}

/// Maps must be `[n, d]`, one per point.
pub(crate) fn check_maps(maps: ArrayView2<'_, f32>, n: usize, d: usize) -> Result<()> {
    if maps.dim() == (n, d) {
        Ok(())
    } else {
        Err(SaliencyError::MapShape {
            found: [maps.nrows(), maps.ncols()],
            expected: [n, d],
        })
    }
}
