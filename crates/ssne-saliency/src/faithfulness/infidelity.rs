//! Infidelity (Yeh et al. 2019, as `captum.metrics.infidelity` defines it).

use rand::Rng;
use rand_distr::{Distribution, Normal};
use ssne_tensor::ndarray::{Array1, Array2, ArrayView2};

use super::{Score, stream};
use crate::error::invalid;
use crate::{Result, SaliencyError};

/// How infidelity perturbs a point: the perturbation `I` is subtracted from
/// the input, and the map should predict `f(x) - f(x - I)` as `Iᵀ φ`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Perturbation {
    /// `I ~ N(0, sigma²)` on every feature.
    Gaussian {
        /// Standard deviation of the noise, in input units.
        sigma: f32,
    },
    /// `I = x - baseline` on one random `side x side` square of an image of
    /// `shape` `[height, width]`, zero elsewhere (the square is set to the
    /// baseline value).
    Square {
        /// Image `[height, width]`; its product must be the feature count.
        shape: [usize; 2],
        /// Side of the square, in pixels.
        side: usize,
        /// The value a removed pixel takes.
        baseline: f32,
    },
}

/// Infidelity of the maps `phi` of the points `x`, one value per point:
/// `E_I[(Iᵀ φ − (f(x) − f(x − I)))²]` over `samples` perturbations drawn from
/// `seed` (point `i`, sample `s` uses its own stream, so the result does not
/// depend on how the work is split).
///
/// Zero means the map predicts every perturbation's effect exactly, as the
/// weights of a linear model do.
///
/// # Example
/// ```
/// use ssne_saliency::faithfulness::{Perturbation, infidelity};
/// use ssne_tensor::ndarray::{Array1, Array2, ArrayView2};
///
/// // f(x) = x₀ − 2 x₁: its weights are its exact attribution.
/// let score = |z: ArrayView2<'_, f32>| -> ssne_saliency::Result<Array1<f64>> {
///     Ok(z.rows().into_iter().map(|r| f64::from(r[0]) - 2.0 * f64::from(r[1])).collect())
/// };
/// let x = Array2::<f32>::ones((2, 2));
/// let exact = Array2::from_shape_vec((2, 2), vec![1.0, -2.0, 1.0, -2.0])?;
/// let noise = Perturbation::Gaussian { sigma: 0.1 };
/// let infd = infidelity(&score, x.view(), exact.view(), noise, 16, 0)?;
/// assert!(infd.iter().all(|&v| v < 1e-10));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`SaliencyError::InvalidParameter`] for zero samples, a negative or
/// non-finite sigma, or a square that does not fit the image; the score's own errors.
pub fn infidelity(
    score: &Score<'_>,
    x: ArrayView2<'_, f32>,
    phi: ArrayView2<'_, f32>,
    perturbation: Perturbation,
    samples: usize,
    seed: u64,
) -> Result<Array1<f64>> {
    if samples == 0 {
        return Err(invalid("samples", samples, "at least 1"));
    }
    if phi.dim() != x.dim() {
        return Err(SaliencyError::BaselineShape {
            found: [phi.nrows(), phi.ncols()],
            n_points: x.nrows(),
            n_features: x.ncols(),
        });
    }
    check(perturbation, x.ncols())?;
    let (n, d) = x.dim();
    let fx = score(x)?;
    let mut perturbations = Array2::<f32>::zeros((n * samples, d));
    for i in 0..n {
        for s in 0..samples {
            let mut rng = stream(seed, i * samples + s);
            let mut row = perturbations.row_mut(i * samples + s);
            match perturbation {
                Perturbation::Gaussian { sigma } => {
                    let normal = Normal::new(0.0f32, sigma).map_err(|_| invalid("sigma", sigma, "finite and >= 0"))?;
                    row.iter_mut().for_each(|v| *v = normal.sample(&mut rng));
                }
                Perturbation::Square { shape, side, baseline } => {
                    let top = rng.random_range(0..=shape[0] - side);
                    let left = rng.random_range(0..=shape[1] - side);
                    for r in top..top + side {
                        for c in left..left + side {
                            let j = r * shape[1] + c;
                            row[j] = x[[i, j]] - baseline;
                        }
                    }
                }
            }
        }
    }
    let moved = Array2::from_shape_fn((n * samples, d), |(k, j)| x[[k / samples, j]] - perturbations[[k, j]]);
    let f_moved = score(moved.view())?;
    Ok(Array1::from_shape_fn(n, |i| {
        let mut sum = 0.0f64;
        for s in 0..samples {
            let k = i * samples + s;
            let predicted: f64 = perturbations
                .row(k)
                .iter()
                .zip(phi.row(i))
                .map(|(&p, &a)| p as f64 * a as f64)
                .sum();
            let err = predicted - (fx[i] - f_moved[k]);
            sum += err * err;
        }
        sum / samples as f64
    }))
}

fn check(perturbation: Perturbation, n_features: usize) -> Result<()> {
    match perturbation {
        Perturbation::Gaussian { sigma } if !(sigma.is_finite() && sigma >= 0.0) => {
            Err(invalid("sigma", sigma, "finite and >= 0"))
        }
        Perturbation::Square { shape, side, .. } => {
            if shape[0] * shape[1] != n_features {
                return Err(SaliencyError::ImageShape {
                    shape,
                    n_values: n_features,
                });
            }
            if side == 0 || side > shape[0].min(shape[1]) {
                return Err(invalid("side", side, "1 to the image's shorter side"));
            }
            Ok(())
        }
        Perturbation::Gaussian { .. } => Ok(()),
    }
}
