//! Deletion and insertion curves (Petsiuk et al. 2018, RISE).

use ssne_tensor::ndarray::{Array2, ArrayView1};

use super::Score;
use crate::error::invalid;
use crate::{Result, SaliencyError};

/// Which way a curve walks between the point and the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Order {
    /// Start at the point; set the top-ranked features to the baseline first.
    Deletion,
    /// Start at the baseline; restore the top-ranked features first.
    Insertion,
}

/// A curve of the explained scalar against the fraction of features changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// The scalar after `k` of `steps` steps, `steps + 1` values.
    pub scores: Vec<f64>,
    /// Area under the curve over the fraction `[0, 1]` (trapezoids).
    pub area: f64,
}

/// The deletion or insertion curve of one point `x` ranked by `map` (largest
/// value first; ties in index order), in `steps` equal steps toward (or from)
/// `baseline`.
///
/// A faithful map makes the deletion curve fall fast (small area) and the
/// insertion curve rise fast (large area).
///
/// # Example
/// ```
/// use ssne_saliency::faithfulness::{Order, deletion_curve};
/// use ssne_tensor::ndarray::{Array1, ArrayView2, array};
///
/// // f(x) = 3 x₀ + x₁; deleting x₀ first drops the score fastest.
/// let score = |z: ArrayView2<'_, f32>| -> ssne_saliency::Result<Array1<f64>> {
///     Ok(z.rows().into_iter().map(|r| 3.0 * f64::from(r[0]) + f64::from(r[1])).collect())
/// };
/// let (x, zero) = (array![1.0f32, 1.0], array![0.0f32, 0.0]);
/// let curve = deletion_curve(&score, x.view(), array![3.0f32, 1.0].view(), zero.view(), Order::Deletion, 2)?;
/// assert_eq!(curve.scores, vec![4.0, 1.0, 0.0]);
/// assert_eq!(curve.area, 1.5);
/// # Ok::<(), ssne_saliency::SaliencyError>(())
/// ```
///
/// # Errors
/// [`SaliencyError::InvalidParameter`] for zero steps,
/// [`SaliencyError::BaselineShape`] when `map` or `baseline` is not as wide as
/// `x`; the score's own errors.
pub fn deletion_curve(
    score: &Score<'_>,
    x: ArrayView1<'_, f32>,
    map: ArrayView1<'_, f32>,
    baseline: ArrayView1<'_, f32>,
    order: Order,
    steps: usize,
) -> Result<Curve> {
    let d = x.len();
    if steps == 0 {
        return Err(invalid("steps", steps, "at least 1"));
    }
    for v in [map, baseline] {
        if v.len() != d {
            return Err(SaliencyError::BaselineShape {
                found: [1, v.len()],
                n_points: 1,
                n_features: d,
            });
        }
    }
    let mut rank: Vec<usize> = (0..d).collect();
    rank.sort_by(|&a, &b| map[b].total_cmp(&map[a]).then(a.cmp(&b)));
    let (start, end) = match order {
        Order::Deletion => (x, baseline),
        Order::Insertion => (baseline, x),
    };
    let mut batch = Array2::<f32>::zeros((steps + 1, d));
    for k in 0..=steps {
        let changed = k * d / steps;
        let mut row = batch.row_mut(k);
        row.assign(&start);
        for &j in &rank[..changed] {
            row[j] = end[j];
        }
    }
    let scores = score(batch.view())?.to_vec();
    let area = scores.windows(2).map(|w| (w[0] + w[1]) / 2.0).sum::<f64>() / steps as f64;
    Ok(Curve { scores, area })
}
