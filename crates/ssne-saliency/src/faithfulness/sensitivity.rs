//! Max-sensitivity (Yeh et al. 2019, as `captum.metrics.sensitivity_max` defines it).

use rand_distr::{Distribution, Uniform};
use ssne_tensor::ndarray::{Array1, Array2, ArrayView2};

use super::{Explain, check_maps, stream};
use crate::Result;
use crate::error::invalid;

/// Max-sensitivity of the maps `explain` gives the points `x`, one value per
/// point: the largest `‖φ(x + δ) − φ(x)‖ / ‖φ(x)‖` over `samples` noises `δ`
/// drawn uniformly from `[−radius, radius]` on every feature (Captum's default
/// perturbation), with Euclidean norms. A zero map is divided by 1, as in
/// Captum.
///
/// Point `i`, sample `s` draws from its own stream of `seed`, so the value of
/// a point does not depend on the batch it is in.
///
/// Zero means the map does not change near the point, as the gradient of a
/// linear model does not.
///
/// # Example
/// ```
/// use ssne_saliency::faithfulness::max_sensitivity;
/// use ssne_tensor::ndarray::{Array2, ArrayView2};
///
/// // Input x gradient of f(x) = 2 Σ x: the map is 2x, so it moves with the input.
/// let explain = |z: ArrayView2<'_, f32>| -> ssne_saliency::Result<Array2<f32>> { Ok(z.mapv(|v| 2.0 * v)) };
/// let x = Array2::<f32>::ones((3, 4));
/// let s = max_sensitivity(&explain, x.view(), 0.1, 8, 0)?;
/// // ‖2δ‖ / ‖2x‖ with |δ_j| ≤ 0.1 and ‖x‖ = 2.
/// assert!(s.iter().all(|&v| v > 0.0 && v <= 0.1 + 1e-6));
/// # Ok::<(), ssne_saliency::SaliencyError>(())
/// ```
///
/// # Errors
/// [`SaliencyError::InvalidParameter`](crate::SaliencyError::InvalidParameter)
/// for zero samples or a negative or non-finite radius,
/// [`SaliencyError::MapShape`](crate::SaliencyError::MapShape) when `explain`
/// returns maps of another shape than its input; the explainer's own errors.
pub fn max_sensitivity(
    explain: &Explain<'_>,
    x: ArrayView2<'_, f32>,
    radius: f32,
    samples: usize,
    seed: u64,
) -> Result<Array1<f64>> {
    if samples == 0 {
        return Err(invalid("samples", samples, "at least 1"));
    }
    if !(radius.is_finite() && radius >= 0.0) {
        return Err(invalid("radius", radius, "finite and >= 0"));
    }
    let (n, d) = x.dim();
    let phi = explain(x)?;
    check_maps(phi.view(), n, d)?;
    let noise = Uniform::new_inclusive(-radius, radius).map_err(|_| invalid("radius", radius, "finite and >= 0"))?;
    let mut moved = Array2::<f32>::zeros((n * samples, d));
    for i in 0..n {
        for s in 0..samples {
            let mut rng = stream(seed, i * samples + s);
            let mut row = moved.row_mut(i * samples + s);
            for (v, &xj) in row.iter_mut().zip(x.row(i)) {
                *v = xj + noise.sample(&mut rng);
            }
        }
    }
    let phi_moved = explain(moved.view())?;
    check_maps(phi_moved.view(), n * samples, d)?;
    Ok(Array1::from_shape_fn(n, |i| {
        let base = phi.row(i);
        let norm = base.iter().map(|&a| f64::from(a).powi(2)).sum::<f64>().sqrt();
        let norm = if norm == 0.0 { 1.0 } else { norm };
        (0..samples)
            .map(|s| {
                let diff: f64 = phi_moved
                    .row(i * samples + s)
                    .iter()
                    .zip(base)
                    .map(|(&b, &a)| (f64::from(b) - f64::from(a)).powi(2))
                    .sum();
                diff.sqrt() / norm
            })
            .fold(0.0, f64::max)
    }))
}
