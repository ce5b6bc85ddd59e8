//! SmoothGrad: the mean of any method's maps over noisy copies of the input
//! (a wrapper, like Captum's `NoiseTunnel`).

use std::num::NonZeroUsize;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use ssne_tensor::ndarray::{Array2, ArrayView2, Axis, s};

use crate::Result;
use crate::attribution::Attribution;
use crate::error::invalid;
use crate::networks::Networks;
use crate::target::Target;
use crate::vjp::CHUNK_ROWS;

/// What the noise level is a fraction of.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum NoiseRange {
    /// Each point's own range, `max(x_i) − min(x_i)` (the SmoothGrad paper's choice).
    #[default]
    PerPoint,
    /// A fixed data range, e.g. `[0, 1]` for scaled MNIST.
    Fixed {
        /// Lowest value of the data.
        min: f32,
        /// Highest value of the data.
        max: f32,
    },
}

/// SmoothGrad (Smilkov et al.) over any [`Attribution`]: the mean of the
/// inner method's maps over `n_samples` copies of each point with Gaussian
/// noise of standard deviation `sigma_fraction × range` added.
///
/// The noise comes from a `ChaCha8Rng` seeded with `seed`, drawn point by
/// point in row order, so the result is the same on any thread count. The
/// target's direction (if it is given as points or groups) is fixed at the
/// clean points, so every noisy copy explains the same scalar. All copies of
/// a batch go through the inner method together (in chunks of about 4096 rows).
///
/// # Example
/// ```
/// use rand::SeedableRng;
/// use ssne_model::{Network, NetworkSpec};
/// use ssne_saliency::{Attribution, Gradient, Networks, SmoothGrad, Target};
/// use ssne_tensor::ndarray::Array2;
///
/// let net = Network::init(NetworkSpec::paper(6, 3), &mut rand_chacha::ChaCha8Rng::seed_from_u64(0))?;
/// let x = Array2::<f32>::from_elem((2, 6), 0.5);
/// let smooth = SmoothGrad::new(Gradient, 16, 0.15, 7)?;
/// let maps = smooth.attribute(Networks::new(&net).with_classifier(&net), x.view(), &Target::Class(2))?;
/// assert_eq!(maps.dim(), (2, 6));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SmoothGrad<A> {
    /// The method whose maps are averaged.
    pub inner: A,
    /// Noisy copies per point.
    pub n_samples: NonZeroUsize,
    /// Noise standard deviation as a fraction of the range (0.1 to 0.2 is typical).
    pub sigma_fraction: f32,
    /// The range the fraction refers to.
    pub range: NoiseRange,
    /// Seed of the noise.
    pub seed: u64,
}

impl<A> SmoothGrad<A> {
    /// SmoothGrad over `inner` with noise relative to each point's own range.
    ///
    /// # Errors
    /// [`SaliencyError::InvalidParameter`](crate::SaliencyError::InvalidParameter)
    /// when `n_samples` is 0 or `sigma_fraction` is negative or not finite.
    pub fn new(inner: A, n_samples: usize, sigma_fraction: f32, seed: u64) -> Result<Self> {
        let n_samples =
            NonZeroUsize::new(n_samples).ok_or_else(|| invalid("n_samples", n_samples, "at least 1 noisy copy"))?;
        let smooth = SmoothGrad {
            inner,
            n_samples,
            sigma_fraction,
            range: NoiseRange::PerPoint,
            seed,
        };
        smooth.validate()?;
        Ok(smooth)
    }

    /// The same with noise relative to a fixed data range.
    pub fn with_range(self, range: NoiseRange) -> Self {
        SmoothGrad { range, ..self }
    }

    fn validate(&self) -> Result<()> {
        if !(self.sigma_fraction.is_finite() && self.sigma_fraction >= 0.0) {
            return Err(invalid("sigma_fraction", self.sigma_fraction, "a finite number >= 0"));
        }
        if let NoiseRange::Fixed { min, max } = self.range
            && !(min.is_finite() && max.is_finite() && min <= max)
        {
            return Err(invalid(
                "range",
                format!("[{min}, {max}]"),
                "finite bounds with min <= max",
            ));
        }
        Ok(())
    }

    /// Standard deviation of the noise for one point.
    fn sigma(&self, point: ArrayView2<'_, f32>) -> f64 {
        let range = match self.range {
            NoiseRange::PerPoint => {
                let (lo, hi) = point.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                    (lo.min(v), hi.max(v))
                });
                if hi >= lo { f64::from(hi) - f64::from(lo) } else { 0.0 }
            }
            NoiseRange::Fixed { min, max } => f64::from(max) - f64::from(min),
        };
        f64::from(self.sigma_fraction) * range
    }
}

impl<A: Attribution> Attribution for SmoothGrad<A> {
    fn attribute(&self, networks: Networks<'_>, x: ArrayView2<'_, f32>, target: &Target) -> Result<Array2<f32>> {
        self.validate()?;
        networks.check_features(x.ncols())?;
        let target = target.resolve(networks, x)?;
        let n_samples = self.n_samples.get();
        let n_features = x.ncols();
        let rows_per_chunk = (CHUNK_ROWS / n_samples).max(1);
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut maps = Array2::zeros(x.raw_dim());
        let mut sums = vec![0.0_f64; n_features];
        let mut start = 0;
        while start < x.nrows() {
            let rows = start..(start + rows_per_chunk).min(x.nrows());
            let n_rows = rows.len();
            let mut noisy = Array2::zeros((n_rows * n_samples, n_features));
            for (i, point_idx) in rows.clone().enumerate() {
                let point = x.slice(s![point_idx..point_idx + 1, ..]);
                let sigma = self.sigma(point);
                for sample in 0..n_samples {
                    let mut row = noisy.row_mut(i * n_samples + sample);
                    for (dst, &v) in row.iter_mut().zip(point.iter()) {
                        let z: f64 = StandardNormal.sample(&mut rng);
                        *dst = (f64::from(v) + sigma * z) as f32;
                    }
                }
            }
            let inner_maps = self.inner.attribute(
                networks,
                noisy.view(),
                &target.select(rows.clone()).repeat_each(n_samples),
            )?;
            for (i, mut out) in maps.slice_mut(s![rows, ..]).axis_iter_mut(Axis(0)).enumerate() {
                sums.fill(0.0);
                for m in inner_maps
                    .slice(s![i * n_samples..(i + 1) * n_samples, ..])
                    .axis_iter(Axis(0))
                {
                    for (sum, &m) in sums.iter_mut().zip(m) {
                        *sum += f64::from(m);
                    }
                }
                for (o, &sum) in out.iter_mut().zip(&sums) {
                    *o = (sum / n_samples as f64) as f32;
                }
            }
            start += n_rows;
        }
        Ok(maps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Gradient;
    use crate::SaliencyError;

    #[test]
    fn settings_are_validated() {
        assert!(matches!(
            SmoothGrad::new(Gradient, 0, 0.1, 0),
            Err(SaliencyError::InvalidParameter { name: "n_samples", .. })
        ));
        assert!(matches!(
            SmoothGrad::new(Gradient, 4, -0.1, 0),
            Err(SaliencyError::InvalidParameter {
                name: "sigma_fraction",
                ..
            })
        ));
        assert!(matches!(
            SmoothGrad::new(Gradient, 4, f32::NAN, 0),
            Err(SaliencyError::InvalidParameter {
                name: "sigma_fraction",
                ..
            })
        ));
        let bad_range = SmoothGrad::new(Gradient, 4, 0.1, 0)
            .unwrap()
            .with_range(NoiseRange::Fixed { min: 1.0, max: 0.0 });
        assert!(matches!(
            bad_range.validate(),
            Err(SaliencyError::InvalidParameter { name: "range", .. })
        ));
    }

    #[test]
    fn sigma_follows_the_range() {
        let smooth = SmoothGrad::new(Gradient, 1, 0.5, 0).unwrap();
        let point = ssne_tensor::ndarray::array![[0.0_f32, 2.0, 1.0]];
        assert_eq!(smooth.sigma(point.view()), 1.0);
        let fixed = smooth.with_range(NoiseRange::Fixed { min: 0.0, max: 4.0 });
        assert_eq!(fixed.sigma(point.view()), 2.0);
    }
}
