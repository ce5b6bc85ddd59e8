//! Faithfulness metrics: do the pixels a map marks move the scalar it explains?
//!
//! Every metric takes the explained scalar as a function of a batch of inputs
//! (a [`Score`]), so that it can be checked on models with a known answer and
//! applied to any [`Target`] of a network through [`network_score`].

mod agreement;
mod deletion;
mod infidelity;

pub use agreement::agreement;
pub use deletion::{Curve, Order, deletion_curve};
pub use infidelity::{Perturbation, infidelity};

use ssne_tensor::ndarray::{Array1, ArrayView2};

use crate::Result;
use crate::networks::Networks;
use crate::target::Target;

/// The explained scalar, one value per row of a batch of inputs.
pub type Score<'a> = dyn Fn(ArrayView2<'_, f32>) -> Result<Array1<f64>> + 'a;

/// The scalar `target` explains for `networks`, fixed at the points `x` (a
/// direction toward points or groups is resolved once, so perturbed inputs
/// are scored along the same direction as the points they came from).
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
