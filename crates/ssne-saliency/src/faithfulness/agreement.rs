//! Agreement between models: the correlation of their maps at the same point.

use ssne_tensor::ndarray::{Array1, ArrayView2};

use crate::{Result, SaliencyError};

/// Mean pairwise Pearson correlation, per point, of the maps that several
/// models give for the same points (`maps[m]` is model `m`'s `[n, features]`).
/// A pair in which either map is constant contributes 0.
///
/// # Example
/// ```
/// use ssne_saliency::faithfulness::agreement;
/// use ssne_tensor::ndarray::array;
///
/// let a = array![[1.0f32, 2.0, 3.0]];
/// let scaled = array![[2.0f32, 4.0, 6.0]];
/// let reversed = array![[3.0f32, 2.0, 1.0]];
/// assert!((agreement(&[a.view(), scaled.view()])?[0] - 1.0).abs() < 1e-12);
/// assert!((agreement(&[a.view(), reversed.view()])?[0] + 1.0).abs() < 1e-12);
/// # Ok::<(), ssne_saliency::SaliencyError>(())
/// ```
///
/// # Errors
/// [`SaliencyError::EmptyEnsemble`] for fewer than two models,
/// [`SaliencyError::BaselineShape`] when the maps differ in shape.
pub fn agreement(maps: &[ArrayView2<'_, f32>]) -> Result<Array1<f64>> {
    if maps.len() < 2 {
        return Err(SaliencyError::EmptyEnsemble);
    }
    let (n, d) = maps[0].dim();
    if let Some(m) = maps.iter().find(|m| m.dim() != (n, d)) {
        return Err(SaliencyError::BaselineShape {
            found: [m.nrows(), m.ncols()],
            n_points: n,
            n_features: d,
        });
    }
    let pairs = maps.len() * (maps.len() - 1) / 2;
    Ok(Array1::from_shape_fn(n, |i| {
        let mut sum = 0.0;
        for a in 0..maps.len() {
            for b in a + 1..maps.len() {
                sum += pearson(maps[a].row(i).iter(), maps[b].row(i).iter());
            }
        }
        sum / pairs as f64
    }))
}

fn pearson<'a>(a: impl Iterator<Item = &'a f32> + Clone, b: impl Iterator<Item = &'a f32> + Clone) -> f64 {
    let n = a.clone().count() as f64;
    let ma = a.clone().map(|&v| v as f64).sum::<f64>() / n;
    let mb = b.clone().map(|&v| v as f64).sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.zip(b) {
        let (x, y) = (x as f64 - ma, y as f64 - mb);
        sab += x * y;
        saa += x * x;
        sbb += y * y;
    }
    if saa == 0.0 || sbb == 0.0 {
        0.0
    } else {
        sab / (saa * sbb).sqrt()
    }
}
