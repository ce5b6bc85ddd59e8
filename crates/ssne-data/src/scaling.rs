//! Per-feature preprocessing, fitted on training data and recorded so test data gets the same.

use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use crate::error::DataError;

/// Which preprocessing to fit with [`Dataset::fit_scaling`](crate::Dataset::fit_scaling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ScalingKind {
    /// Leave the features as they are.
    #[default]
    None,
    /// Map each feature's training range to `[0, 1]`.
    UnitRange,
    /// Subtract each feature's training mean and divide by its standard deviation.
    Standardize,
}

/// A fitted preprocessing with its per-feature parameters.
///
/// The parameters come from the training data and are applied unchanged to test data (and stored
/// in model checkpoints), so a point is mapped the same way whichever set it is in. Constant
/// features (`max == min`, `std == 0`) are only shifted, never divided by zero.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Scaling {
    /// No preprocessing.
    #[default]
    None,
    /// `x' = (x - min) / (max - min)` per feature (`x - min` when `max == min`).
    UnitRange {
        /// Per-feature minimum on the training data.
        min: Vec<f32>,
        /// Per-feature maximum on the training data.
        max: Vec<f32>,
    },
    /// `x' = (x - mean) / std` per feature (`x - mean` when `std == 0`).
    Standardize {
        /// Per-feature mean on the training data.
        mean: Vec<f32>,
        /// Per-feature population standard deviation on the training data.
        std: Vec<f32>,
    },
}

impl Scaling {
    /// The kind of this scaling, without its parameters.
    pub fn kind(&self) -> ScalingKind {
        match self {
            Scaling::None => ScalingKind::None,
            Scaling::UnitRange { .. } => ScalingKind::UnitRange,
            Scaling::Standardize { .. } => ScalingKind::Standardize,
        }
    }

    /// Fits `kind` on the rows of `features` (sums in `f64`, so 60,000 rows lose nothing).
    ///
    /// With zero rows every parameter is 0, which makes the scaling an identity shift.
    pub(crate) fn fit(features: ArrayView2<'_, f32>, kind: ScalingKind) -> Scaling {
        Self::fit_columns(
            features.ncols(),
            features.nrows(),
            |col| features.column(col).into_iter().copied(),
            kind,
        )
    }

    /// [`Scaling::fit`] over `n_features` columns of `n_points` values each, `column(j)` giving
    /// column `j` in row order: `f32` rows and `u8` codes share this one fit.
    pub(crate) fn fit_columns<I: Iterator<Item = f32> + Clone>(
        n_features: usize,
        n_points: usize,
        column: impl Fn(usize) -> I,
        kind: ScalingKind,
    ) -> Scaling {
        match kind {
            ScalingKind::None => Scaling::None,
            ScalingKind::UnitRange => {
                let mut min = vec![0.0_f32; n_features];
                let mut max = vec![0.0_f32; n_features];
                for col_idx in 0..n_features {
                    let (lo, hi) =
                        column(col_idx).fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
                    if lo <= hi {
                        min[col_idx] = lo;
                        max[col_idx] = hi;
                    }
                }
                Scaling::UnitRange { min, max }
            }
            ScalingKind::Standardize => {
                let mut mean = vec![0.0_f32; n_features];
                let mut std = vec![0.0_f32; n_features];
                if n_points > 0 {
                    for col_idx in 0..n_features {
                        let values = column(col_idx);
                        let mean_f64 = values.clone().map(f64::from).sum::<f64>() / n_points as f64;
                        // Two passes: the one-pass formula cancels badly for large offsets.
                        let var = values.map(|v| (f64::from(v) - mean_f64).powi(2)).sum::<f64>() / n_points as f64;
                        mean[col_idx] = mean_f64 as f32;
                        std[col_idx] = var.sqrt() as f32;
                    }
                }
                Scaling::Standardize { mean, std }
            }
        }
    }

    /// The per-feature offset and divisor of `x' = (x - offset) / divisor`, checked against
    /// `n_features`; `None` for no scaling. A constant feature's divisor is 1.
    ///
    /// # Errors
    /// [`DataError::ScalingMismatch`] when the parameters are not one per feature.
    pub fn parameters(&self, n_features: usize) -> Result<Option<ScalingParameters>, DataError> {
        let (offset, scale) = match self {
            Scaling::None => return Ok(None),
            Scaling::UnitRange { min, max } => {
                check_len(n_features, min.len())?;
                check_len(n_features, max.len())?;
                let range: Vec<f32> = min.iter().zip(max).map(|(&lo, &hi)| hi - lo).collect();
                (min.clone(), range)
            }
            Scaling::Standardize { mean, std } => {
                check_len(n_features, mean.len())?;
                check_len(n_features, std.len())?;
                (mean.clone(), std.clone())
            }
        };
        let divisor = scale.iter().map(|&s| if s > 0.0 { s } else { 1.0 }).collect();
        Ok(Some(ScalingParameters { offset, divisor }))
    }

    /// Applies the recorded parameters to `features` in place.
    pub(crate) fn apply(&self, features: &mut Array2<f32>) -> Result<(), DataError> {
        let Some(ScalingParameters { offset, divisor }) = self.parameters(features.ncols())? else {
            return Ok(());
        };
        // A true division, not a multiplication by 1/scale: the training maximum must map to
        // exactly 1.0 under UnitRange.
        for mut row in features.rows_mut() {
            for ((v, &shift), &div) in row.iter_mut().zip(&offset).zip(&divisor) {
                *v = scaled(*v, shift, div);
            }
        }
        Ok(())
    }

    /// Turns gradients with respect to the scaled features (one row per gradient) into gradients
    /// with respect to the raw features, in place: the chain rule through `(x - offset) / divisor`
    /// divides each column by its divisor.
    ///
    /// # Errors
    /// [`DataError::ScalingMismatch`] when the rows are not one entry per feature.
    ///
    /// # Example
    /// ```
    /// use ssne_data::Scaling;
    /// use ndarray::array;
    /// let scaling = Scaling::UnitRange { min: vec![0.0, 10.0], max: vec![255.0, 10.0] };
    /// let mut grads = array![[255.0_f32, 3.0]];
    /// scaling.gradient_to_raw(grads.view_mut())?;
    /// assert_eq!(grads, array![[1.0, 3.0]]); // the constant feature's divisor is 1
    /// # Ok::<(), ssne_data::DataError>(())
    /// ```
    pub fn gradient_to_raw(&self, mut grads: ArrayViewMut2<'_, f32>) -> Result<(), DataError> {
        let Some(ScalingParameters { divisor, .. }) = self.parameters(grads.ncols())? else {
            return Ok(());
        };
        for mut row in grads.rows_mut() {
            for (g, &div) in row.iter_mut().zip(&divisor) {
                *g /= div;
            }
        }
        Ok(())
    }
}

/// `(value - shift) / div`: a true division, not a multiplication by `1 / div`, so the training
/// maximum maps to exactly 1.0 under UnitRange. The one formula of scaling, for `f32` rows and for
/// the table of `u8` codes ([`ByteFeatures`](crate::ByteFeatures)).
#[inline]
pub(crate) fn scaled(value: f32, shift: f32, div: f32) -> f32 {
    (value - shift) / div
}

/// The per-feature parameters of a scaling `x' = (x - offset) / divisor`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingParameters {
    /// Subtracted from each feature.
    pub offset: Vec<f32>,
    /// Each feature is then divided by this (1 for a constant feature).
    pub divisor: Vec<f32>,
}

fn check_len(expected: usize, found: usize) -> Result<(), DataError> {
    if expected == found {
        Ok(())
    } else {
        Err(DataError::ScalingMismatch { expected, found })
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::{Scaling, ScalingKind};

    #[test]
    fn unit_range_maps_training_range_to_unit_interval() {
        let mut x = array![[0.0_f32, 5.0, 2.0], [10.0, 5.0, 4.0], [5.0, 5.0, 3.0]];
        let scaling = Scaling::fit(x.view(), ScalingKind::UnitRange);
        assert_eq!(
            scaling,
            Scaling::UnitRange {
                min: vec![0.0, 5.0, 2.0],
                max: vec![10.0, 5.0, 4.0]
            }
        );
        scaling.apply(&mut x).unwrap();
        // The constant middle column is shifted, not divided by zero.
        assert_eq!(x, array![[0.0_f32, 0.0, 0.0], [1.0, 0.0, 1.0], [0.5, 0.0, 0.5]]);
    }

    #[test]
    fn standardize_gives_zero_mean_unit_std() {
        let mut x = array![[1.0_f32, 7.0], [3.0, 7.0]];
        let scaling = Scaling::fit(x.view(), ScalingKind::Standardize);
        assert_eq!(
            scaling,
            Scaling::Standardize {
                mean: vec![2.0, 7.0],
                std: vec![1.0, 0.0]
            }
        );
        scaling.apply(&mut x).unwrap();
        assert_eq!(x, array![[-1.0_f32, 0.0], [1.0, 0.0]]);
    }

    #[test]
    fn mismatched_parameters_are_rejected() {
        let mut x = array![[1.0_f32, 2.0]];
        let scaling = Scaling::Standardize {
            mean: vec![0.0],
            std: vec![1.0],
        };
        assert!(matches!(
            scaling.apply(&mut x),
            Err(crate::DataError::ScalingMismatch { expected: 2, found: 1 })
        ));
    }

    #[test]
    fn empty_data_fits_zeros() {
        let x = ndarray::Array2::<f32>::zeros((0, 2));
        assert_eq!(
            Scaling::fit(x.view(), ScalingKind::UnitRange),
            Scaling::UnitRange {
                min: vec![0.0; 2],
                max: vec![0.0; 2]
            }
        );
        assert_eq!(Scaling::fit(x.view(), ScalingKind::None), Scaling::None);
    }
}
