//! Integrated gradients along the straight path from a baseline, with the
//! completeness check.

use std::num::NonZeroUsize;

use rayon::prelude::*;
use ssne_tensor::ndarray::{Array1, Array2, ArrayView2, Axis, Zip, s};

use crate::attribution::{Attribution, Gradient};
use crate::error::invalid;
use crate::networks::Networks;
use crate::target::Target;
use crate::vjp::CHUNK_ROWS;
use crate::{Result, SaliencyError};

/// The reference input integrated gradients start from.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Baseline {
    /// The all-zero input (black image): the usual choice for MNIST.
    #[default]
    Zeros,
    /// Every feature at this value.
    Constant(f32),
    /// Explicit baselines, `[1, features]` shared or `[n, features]` per point.
    Points(Array2<f32>),
}

impl Baseline {
    /// The mean of the rows of `x` (accumulated in `f64`), shared by every point: the
    /// "average input" baseline. With no rows it is [`Baseline::Zeros`].
    pub fn mean_of(x: ArrayView2<'_, f32>) -> Baseline {
        if x.nrows() == 0 {
            return Baseline::Zeros;
        }
        Baseline::Points(crate::target::column_means(x).insert_axis(Axis(0)))
    }

    /// The baseline as an `[n, features]` matrix.
    fn expand(&self, n_points: usize, n_features: usize) -> Result<Array2<f32>> {
        match self {
            Baseline::Zeros => Ok(Array2::zeros((n_points, n_features))),
            Baseline::Constant(value) => Ok(Array2::from_elem((n_points, n_features), *value)),
            Baseline::Points(points) => {
                let (rows, cols) = points.dim();
                if cols != n_features || (rows != 1 && rows != n_points) {
                    return Err(SaliencyError::BaselineShape {
                        found: [rows, cols],
                        n_points,
                        n_features,
                    });
                }
                Ok(Array2::from_shape_fn((n_points, n_features), |(i, j)| {
                    points[[if rows == 1 { 0 } else { i }, j]]
                }))
            }
        }
    }
}

/// Integrated gradients (Sundararajan et al.): `(x − x') ⊙` the mean gradient
/// along the straight path from the baseline `x'` to `x`.
///
/// The path integral uses the **midpoint rule**: gradients at
/// `x' + α (x − x')` for `α = (k + ½) / m`, `k = 0..m`. All `m` path points of
/// a batch go through one VJP (in chunks of about 4096 rows).
///
/// *Completeness*: the attributions of a point sum to the change of its
/// target scalar, `F(x) − F(x')`, up to the quadrature error that
/// [`attribute_with_delta`](IntegratedGradients::attribute_with_delta) reports
/// (as Captum's `compute_convergence_delta` does).
///
/// # Example
/// ```
/// use rand::SeedableRng;
/// use ssne_model::{Network, NetworkSpec};
/// use ssne_saliency::{Baseline, IntegratedGradients, Networks, Target};
/// use ssne_tensor::ndarray::Array2;
///
/// let net = Network::init(NetworkSpec::paper(6, 3), &mut rand_chacha::ChaCha8Rng::seed_from_u64(0))?;
/// let x = Array2::<f32>::from_elem((2, 6), 0.5);
/// let ig = IntegratedGradients::new(Baseline::Zeros, 64)?;
/// let out = ig.attribute_with_delta(Networks::new(&net), x.view(), &Target::unit_direction(&[0.0, 1.0]))?;
/// for (delta, change) in out.delta.iter().zip(&out.change) {
///     assert!(delta.abs() <= 1e-2 * change.abs().max(1e-3));
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct IntegratedGradients {
    /// Where the path starts.
    pub baseline: Baseline,
    /// Points on the path (`m`).
    pub steps: NonZeroUsize,
}

impl Default for IntegratedGradients {
    /// A zero baseline and 32 steps.
    fn default() -> Self {
        IntegratedGradients {
            baseline: Baseline::Zeros,
            steps: NonZeroUsize::new(32).unwrap_or(NonZeroUsize::MIN),
        }
    }
}

/// Integrated-gradients maps with their completeness check.
#[derive(Debug, Clone, PartialEq)]
pub struct IntegratedMaps {
    /// The attributions, `[n, features]`.
    pub maps: Array2<f32>,
    /// `Σ attributions − (F(x) − F(x'))` per point: the quadrature error
    /// (Captum's convergence delta).
    pub delta: Array1<f64>,
    /// `F(x) − F(x')` per point: what the attributions should add up to.
    pub change: Array1<f64>,
}

impl IntegratedGradients {
    /// Integrated gradients from `baseline` with `steps` path points.
    ///
    /// # Errors
    /// [`SaliencyError::InvalidParameter`] when `steps` is 0.
    pub fn new(baseline: Baseline, steps: usize) -> Result<Self> {
        let steps = NonZeroUsize::new(steps).ok_or_else(|| invalid("steps", steps, "at least 1 path point"))?;
        Ok(IntegratedGradients { baseline, steps })
    }

    /// The maps and, per point, the completeness error and the output change.
    ///
    /// # Errors
    /// As [`Attribution::attribute`], plus [`SaliencyError::BaselineShape`].
    pub fn attribute_with_delta(
        &self,
        networks: Networks<'_>,
        x: ArrayView2<'_, f32>,
        target: &Target,
    ) -> Result<IntegratedMaps> {
        let target = target.resolve(networks, x)?;
        let baseline = self.baseline.expand(x.nrows(), x.ncols())?;
        let maps = self.integrate(networks, x, baseline.view(), &target)?;
        let change = target.score(networks, x)? - target.score(networks, baseline.view())?;
        let delta = maps
            .axis_iter(Axis(0))
            .zip(&change)
            .map(|(row, change)| row.iter().map(|&a| f64::from(a)).sum::<f64>() - change)
            .collect();
        Ok(IntegratedMaps { maps, delta, change })
    }

    /// The attributions for an explicit target and an expanded baseline.
    fn integrate(
        &self,
        networks: Networks<'_>,
        x: ArrayView2<'_, f32>,
        baseline: ArrayView2<'_, f32>,
        target: &Target,
    ) -> Result<Array2<f32>> {
        networks.check_features(x.ncols())?;
        let n_steps = self.steps.get();
        let alphas: Vec<f32> = (0..n_steps)
            .map(|k| ((k as f64 + 0.5) / n_steps as f64) as f32)
            .collect();
        let rows_per_chunk = (CHUNK_ROWS / n_steps).max(1);
        let n_features = x.ncols();
        let mut maps = Array2::zeros(x.raw_dim());
        // One path buffer for every chunk; each point's rows are written by one task.
        let mut path = Array2::zeros((rows_per_chunk.min(x.nrows()) * n_steps, n_features));
        let mut start = 0;
        while start < x.nrows() {
            let rows = start..(start + rows_per_chunk).min(x.nrows());
            let n_rows = rows.len();
            let x_chunk = x.slice(s![rows.clone(), ..]);
            let b_chunk = baseline.slice(s![rows.clone(), ..]);
            let mut path = path.slice_mut(s![..n_rows * n_steps, ..]);
            path.axis_chunks_iter_mut(Axis(0), n_steps)
                .into_par_iter()
                .zip(x_chunk.axis_iter(Axis(0)))
                .zip(b_chunk.axis_iter(Axis(0)))
                .for_each(|((mut block, x_row), b_row)| {
                    for (mut row, &alpha) in block.axis_iter_mut(Axis(0)).zip(&alphas) {
                        Zip::from(&mut row)
                            .and(&x_row)
                            .and(&b_row)
                            .for_each(|p, &x, &b| *p = b + alpha * (x - b));
                    }
                });
            let grads = Gradient.attribute(networks, path.view(), &target.select(rows.clone()).repeat_each(n_steps))?;
            maps.slice_mut(s![rows, ..])
                .axis_iter_mut(Axis(0))
                .into_par_iter()
                .zip(grads.axis_chunks_iter(Axis(0), n_steps))
                .zip(x_chunk.axis_iter(Axis(0)))
                .zip(b_chunk.axis_iter(Axis(0)))
                .for_each(|(((mut out, grads), x_row), b_row)| {
                    // The path's gradients summed in f64, in path order.
                    let mut sums = vec![0.0_f64; n_features];
                    for g in grads.axis_iter(Axis(0)) {
                        for (sum, &g) in sums.iter_mut().zip(g) {
                            *sum += f64::from(g);
                        }
                    }
                    Zip::from(&mut out)
                        .and(&sums)
                        .and(&x_row)
                        .and(&b_row)
                        .for_each(|o, &sum, &x, &b| {
                            let diff = f64::from(x) - f64::from(b);
                            *o = (diff * sum / n_steps as f64) as f32;
                        });
                });
            start += n_rows;
        }
        Ok(maps)
    }
}

impl Attribution for IntegratedGradients {
    fn attribute(&self, networks: Networks<'_>, x: ArrayView2<'_, f32>, target: &Target) -> Result<Array2<f32>> {
        let target = target.resolve(networks, x)?;
        let baseline = self.baseline.expand(x.nrows(), x.ncols())?;
        self.integrate(networks, x, baseline.view(), &target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssne_tensor::ndarray::array;

    #[test]
    fn baseline_expands_shared_and_per_row() {
        assert_eq!(Baseline::Zeros.expand(2, 3).unwrap(), Array2::<f32>::zeros((2, 3)));
        assert_eq!(Baseline::Constant(0.5).expand(1, 2).unwrap(), array![[0.5, 0.5]]);
        let shared = Baseline::Points(array![[1.0, 2.0]]);
        assert_eq!(shared.expand(2, 2).unwrap(), array![[1.0, 2.0], [1.0, 2.0]]);
        let wrong = Baseline::Points(array![[1.0, 2.0, 3.0]]);
        assert!(matches!(
            wrong.expand(2, 2),
            Err(SaliencyError::BaselineShape {
                found: [1, 3],
                n_points: 2,
                n_features: 2
            })
        ));
    }

    #[test]
    fn zero_steps_are_rejected() {
        assert!(matches!(
            IntegratedGradients::new(Baseline::Zeros, 0),
            Err(SaliencyError::InvalidParameter { name: "steps", .. })
        ));
        assert_eq!(IntegratedGradients::default().steps.get(), 32);
    }
}
