//! How much of a map's energy sits on pixels that carry no information.

use ssne_tensor::ndarray::{ArrayView2, Axis};

use crate::{Result, SaliencyError};

/// The share of the squared maps' energy, `Σ m²`, that falls on the pixels
/// marked `true` in `pixels`, over every row of `maps`. `0` when the maps are
/// all zero.
///
/// Use it with [`constant_inputs`] of the training data: a gradient map of a
/// network trained without the input mask puts most of its energy on pixels
/// that were never lit, whose first-layer weights kept their random values.
///
/// # Errors
/// [`SaliencyError::FeatureCount`] when `pixels` is not as long as a map row.
///
/// # Example
/// ```
/// use ssne_tensor::ndarray::array;
/// let maps = array![[3.0_f32, 4.0]];
/// let share = ssne_saliency::energy_share(maps.view(), &[false, true])?;
/// assert!((share - 16.0 / 25.0).abs() < 1e-12);
/// # Ok::<(), ssne_saliency::SaliencyError>(())
/// ```
pub fn energy_share(maps: ArrayView2<'_, f32>, pixels: &[bool]) -> Result<f64> {
    if pixels.len() != maps.ncols() {
        return Err(SaliencyError::FeatureCount {
            expected: maps.ncols(),
            found: pixels.len(),
        });
    }
    let (mut on, mut total) = (0.0_f64, 0.0_f64);
    for row in maps.axis_iter(Axis(0)) {
        for (&m, &marked) in row.iter().zip(pixels) {
            let e = f64::from(m) * f64::from(m);
            total += e;
            if marked {
                on += e;
            }
        }
    }
    Ok(if total > 0.0 { on / total } else { 0.0 })
}

/// `true` for every column of `data` that holds one value on every row: the
/// pixels that are never lit in MNIST. The complement of
/// [`ssne_model::varying_inputs`], the mask the model prunes with.
pub fn constant_inputs(data: ArrayView2<'_, f32>) -> Vec<bool> {
    ssne_model::varying_inputs(data)
        .into_iter()
        .map(|varying| !varying)
        .collect()
}

/// `true` for every column of `data` that is above its own minimum on at
/// most `max_fraction` of the rows: pixels that are *nearly* never lit. Their
/// first-layer weights see almost no gradient during training, so they stay
/// close to their random initial values even when the input mask (which
/// covers only exactly constant inputs) is on.
pub fn rarely_lit(data: ArrayView2<'_, f32>, max_fraction: f64) -> Vec<bool> {
    let n_rows = data.nrows().max(1) as f64;
    data.axis_iter(Axis(1))
        .map(|col| {
            let min = col.iter().copied().fold(f32::INFINITY, f32::min);
            let n_lit = col.iter().filter(|&&v| v > min).count();
            n_lit as f64 / n_rows <= max_fraction
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssne_tensor::ndarray::{Array2, array};

    #[test]
    fn share_of_zero_maps_is_zero_and_widths_are_checked() {
        assert_eq!(
            energy_share(Array2::<f32>::zeros((2, 3)).view(), &[true, false, true]).unwrap(),
            0.0
        );
        assert!(matches!(
            energy_share(Array2::<f32>::zeros((2, 3)).view(), &[true]),
            Err(SaliencyError::FeatureCount { expected: 3, found: 1 })
        ));
        let maps = array![[1.0_f32, 0.0], [1.0, 2.0]];
        assert_eq!(energy_share(maps.view(), &[true, false]).unwrap(), 2.0 / 6.0);
    }

    #[test]
    fn constant_columns_are_found() {
        let data = array![[0.0_f32, 1.0, 5.0], [0.0, 2.0, 5.0]];
        assert_eq!(constant_inputs(data.view()), [true, false, true]);
    }

    #[test]
    fn rarely_lit_columns_are_found() {
        let data = array![[0.0_f32, 1.0, 0.0], [0.0, 2.0, 0.0], [0.0, 3.0, 0.0], [0.5, 4.0, 0.0]];
        assert_eq!(rarely_lit(data.view(), 0.25), [true, false, true]);
        assert_eq!(rarely_lit(data.view(), 0.0), [false, false, true]);
    }
}
