//! "Follow the map": does a small step along the map move the scalar more
//! than a step of the same length in a random direction?

use rand_distr::{Distribution, StandardNormal};
use ssne_tensor::ndarray::{Array1, Array2, ArrayView1, ArrayView2};

use super::{Score, check_maps, stream};
use crate::Result;
use crate::error::invalid;

/// How far the explained scalar moves, per point, when the input takes a step
/// of length `epsilon`.
#[derive(Debug, Clone, PartialEq)]
pub struct Followed {
    /// `f(x + ε φ/‖φ‖) − f(x)`, along the map (0 for a zero map).
    pub along_map: Array1<f64>,
    /// The same along the plain gradient `g/‖g‖`: the largest first-order
    /// change any direction can give.
    pub along_gradient: Array1<f64>,
    /// The mean of `f(x + ε u) − f(x)` over random unit directions `u`.
    pub random_mean: Array1<f64>,
    /// The mean of `|f(x + ε u) − f(x)|` over the same directions.
    pub random_mean_abs: Array1<f64>,
}

/// Moves every point `x_i` by `epsilon` along its normalised map `maps_i`,
/// along its normalised plain gradient `gradients_i`, and along `samples`
/// random unit directions (isotropic Gaussian, normalised; point `i`, sample
/// `s` draws from its own stream of `seed`), and reports how far `score` moves.
///
/// A faithful map moves the scalar almost as far as the gradient does
/// (`ε ‖g‖` to first order) and much further than a random direction.
///
/// # Example
/// ```
/// use ssne_saliency::faithfulness::follow_map;
/// use ssne_tensor::ndarray::{Array1, Array2, ArrayView2};
///
/// // f(x) = 3 x₀ + 4 x₁: the gradient is (3, 4), of norm 5.
/// let score = |z: ArrayView2<'_, f32>| -> ssne_saliency::Result<Array1<f64>> {
///     Ok(z.rows().into_iter().map(|r| 3.0 * f64::from(r[0]) + 4.0 * f64::from(r[1])).collect())
/// };
/// let x = Array2::<f32>::zeros((1, 2));
/// let g = Array2::from_shape_vec((1, 2), vec![3.0, 4.0])?;
/// let followed = follow_map(&score, x.view(), g.view(), g.view(), 0.5, 16, 0)?;
/// assert!((followed.along_gradient[0] - 2.5).abs() < 1e-6);
/// assert!(followed.random_mean_abs[0] < followed.along_map[0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`SaliencyError::InvalidParameter`](crate::SaliencyError::InvalidParameter)
/// for zero samples or a non-finite or non-positive epsilon,
/// [`SaliencyError::MapShape`](crate::SaliencyError::MapShape) for maps or
/// gradients of another shape than `x`; the score's own errors.
pub fn follow_map(
    score: &Score<'_>,
    x: ArrayView2<'_, f32>,
    maps: ArrayView2<'_, f32>,
    gradients: ArrayView2<'_, f32>,
    epsilon: f32,
    samples: usize,
    seed: u64,
) -> Result<Followed> {
    if samples == 0 {
        return Err(invalid("samples", samples, "at least 1"));
    }
    if !(epsilon.is_finite() && epsilon > 0.0) {
        return Err(invalid("epsilon", epsilon, "finite and > 0"));
    }
    let (n, d) = x.dim();
    check_maps(maps, n, d)?;
    check_maps(gradients, n, d)?;
    let fx = score(x)?;
    let step = |direction: ArrayView2<'_, f32>| -> Result<Array1<f64>> {
        let moved = Array2::from_shape_fn((n, d), |(i, j)| x[[i, j]] + direction[[i, j]]);
        Ok(score(moved.view())? - &fx)
    };
    let along_map = step(scaled_rows(maps, epsilon).view())?;
    let along_gradient = step(scaled_rows(gradients, epsilon).view())?;
    let mut moved = Array2::<f32>::zeros((n * samples, d));
    for i in 0..n {
        for s in 0..samples {
            let mut rng = stream(seed, i * samples + s);
            let u: Array1<f32> = (0..d).map(|_| StandardNormal.sample(&mut rng)).collect();
            let u = scaled(u.view(), epsilon);
            let mut row = moved.row_mut(i * samples + s);
            row.assign(&x.row(i));
            row += &u;
        }
    }
    let f_random = score(moved.view())?;
    let per_point = |abs: bool| {
        Array1::from_shape_fn(n, |i| {
            (0..samples)
                .map(|s| {
                    let change = f_random[i * samples + s] - fx[i];
                    if abs { change.abs() } else { change }
                })
                .sum::<f64>()
                / samples as f64
        })
    };
    Ok(Followed {
        along_map,
        along_gradient,
        random_mean: per_point(false),
        random_mean_abs: per_point(true),
    })
}

/// `epsilon · v / ‖v‖` (a zero vector stays zero), the norm in `f64`.
fn scaled(v: ArrayView1<'_, f32>, epsilon: f32) -> Array1<f32> {
    let norm = v.iter().map(|&a| f64::from(a).powi(2)).sum::<f64>().sqrt();
    if norm == 0.0 {
        return Array1::zeros(v.len());
    }
    v.mapv(|a| (f64::from(a) * f64::from(epsilon) / norm) as f32)
}

fn scaled_rows(v: ArrayView2<'_, f32>, epsilon: f32) -> Array2<f32> {
    let mut out = Array2::zeros(v.raw_dim());
    for (mut o, r) in out.rows_mut().into_iter().zip(v.rows()) {
        o.assign(&scaled(r, epsilon));
    }
    out
}
