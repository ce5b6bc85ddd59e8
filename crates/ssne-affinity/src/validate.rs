//! Input checks shared by the entry points, run before any work starts.

use rayon::prelude::*;
use ssne_tensor::Real;
use ssne_tensor::ndarray::ArrayView2;

use crate::AffinityError;

/// Largest number of points whose indices fit the `u32` neighbour lists.
pub(crate) const MAX_POINTS: usize = u32::MAX as usize;

/// Checks a point matrix: non-empty, every value finite, and every squared
/// norm small enough that `|x|^2 + |y|^2 - 2 x.y` cannot overflow `R`.
pub(crate) fn points<R: Real>(x: ArrayView2<'_, R>) -> Result<(), AffinityError> {
    let (n_points, n_features) = x.dim();
    if n_points == 0 || n_features == 0 {
        return Err(AffinityError::Empty { n_points, n_features });
    }
    if n_points > MAX_POINTS {
        return Err(AffinityError::TooManyPoints {
            n_points,
            max: MAX_POINTS,
        });
    }
    // Squared distances are at most 2 (|x|^2 + |y|^2) <= 4 max |x|^2.
    let limit = R::max_value().to_f64() / 4.0;
    // `find_map_first` returns the problem in the lowest row whatever the thread count.
    let problem = (0..n_points).into_par_iter().find_map_first(|row| {
        let mut sq_norm = 0.0_f64;
        for (col, &v) in x.row(row).iter().enumerate() {
            if !v.is_finite() {
                return Some(AffinityError::NonFinite {
                    row,
                    col,
                    value: v.to_f64(),
                });
            }
            sq_norm += v.to_f64() * v.to_f64();
        }
        (sq_norm > limit).then_some(AffinityError::Overflow {
            row,
            sq_norm,
            dtype: R::NAME,
        })
    });
    problem.map_or(Ok(()), Err)
}

/// Checks squared distances given by the caller: finite and non-negative.
pub(crate) fn sq_dists<R: Real>(d: ArrayView2<'_, R>) -> Result<(), AffinityError> {
    // `find_map_first` reports the first bad entry in row order on any thread count.
    let problem = (0..d.nrows()).into_par_iter().find_map_first(|row| {
        d.row(row).iter().enumerate().find_map(|(col, &v)| {
            if !v.is_finite() {
                Some(AffinityError::NonFinite {
                    row,
                    col,
                    value: v.to_f64(),
                })
            } else if v < R::zero() {
                Some(AffinityError::NegativeDistance {
                    row,
                    col,
                    value: v.to_f64(),
                })
            } else {
                None
            }
        })
    });
    problem.map_or(Ok(()), Err)
}

/// Checks `1 <= k <= max`.
pub(crate) fn k(k: usize, max: usize) -> Result<(), AffinityError> {
    if k == 0 {
        Err(AffinityError::KZero { max })
    } else if k > max {
        Err(AffinityError::KTooLarge { k, max })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssne_tensor::ndarray::{Array2, array};

    #[test]
    fn rejects_empty_non_finite_and_overflowing_points() {
        assert_eq!(
            points(Array2::<f32>::zeros((0, 3)).view()),
            Err(AffinityError::Empty {
                n_points: 0,
                n_features: 3
            })
        );
        assert_eq!(
            points(Array2::<f32>::zeros((4, 0)).view()),
            Err(AffinityError::Empty {
                n_points: 4,
                n_features: 0
            })
        );
        assert!(matches!(
            points(array![[0.0_f64, 1.0], [f64::NAN, 0.0]].view()),
            Err(AffinityError::NonFinite { row: 1, col: 0, .. })
        ));
        assert!(matches!(
            points(array![[0.0_f32, 1e19], [0.0, 0.0]].view()),
            Err(AffinityError::Overflow {
                row: 0,
                dtype: "f32",
                ..
            })
        ));
        // The same point is fine in f64.
        assert_eq!(points(array![[0.0_f64, 1e19], [0.0, 0.0]].view()), Ok(()));
    }

    #[test]
    fn rejects_bad_distances() {
        assert!(matches!(
            sq_dists(array![[0.0_f32, -1.0], [1.0, 0.0]].view()),
            Err(AffinityError::NegativeDistance { row: 0, col: 1, .. })
        ));
        assert!(matches!(
            sq_dists(array![[0.0_f32, f32::INFINITY], [1.0, 0.0]].view()),
            Err(AffinityError::NonFinite { row: 0, col: 1, .. })
        ));
    }

    #[test]
    fn k_range() {
        assert_eq!(k(0, 5), Err(AffinityError::KZero { max: 5 }));
        assert_eq!(k(6, 5), Err(AffinityError::KTooLarge { k: 6, max: 5 }));
        assert_eq!(k(5, 5), Ok(()));
    }
}
