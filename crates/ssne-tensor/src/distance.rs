//! Pairwise squared Euclidean distances through GEMM.

use ndarray::{Array1, Array2, ArrayView2, Axis, Zip};

use crate::{Real, TensorError, Trans, gemm};

/// Squared Euclidean norm of every row, accumulated in `f64`.
pub fn row_sq_norms<R: Real>(x: ArrayView2<'_, R>) -> Array1<R> {
    let mut out = Array1::zeros(x.nrows());
    Zip::from(&mut out).and(x.axis_iter(Axis(0))).par_for_each(|o, row| {
        *o = R::from_f64(row.iter().map(|&v| v.to_f64() * v.to_f64()).sum());
    });
    out
}

/// All pairwise squared distances `|x_i - x_j|^2` of the rows of `x`, as
/// `|x_i|^2 + |x_j|^2 - 2 x_i.x_j` (one GEMM), clamped at 0 against rounding and
/// exactly 0 on the diagonal. The result is exactly symmetric.
///
/// # Example
/// ```
/// use ssne_tensor::{sq_dists, ndarray::array};
/// let d = sq_dists(array![[0.0_f32, 0.0], [3.0, 4.0], [0.0, 0.0]].view());
/// assert_eq!(d[[0, 1]], 25.0);
/// assert_eq!(d[[0, 2]], 0.0);
/// assert_eq!(d[[1, 1]], 0.0);
/// ```
pub fn sq_dists<R: Real>(x: ArrayView2<'_, R>) -> Array2<R> {
    let n = x.nrows();
    let norms = row_sq_norms(x);
    let mut d = Array2::zeros((n, n));
    // Cannot fail: both operands are x, so the inner dimensions agree.
    if gemm(R::from_f64(-2.0), x, Trans::N, x, Trans::T, R::zero(), d.view_mut()).is_err() {
        unreachable!("x x^T always has matching inner dimensions");
    }
    Zip::indexed(d.rows_mut()).par_for_each(|i, mut row| {
        let ni = norms[i];
        for (j, v) in row.iter_mut().enumerate() {
            *v = (*v + ni + norms[j]).max(R::zero());
        }
        row[i] = R::zero();
    });
    // GEMM may round x_i.x_j and x_j.x_i differently; symmetry is an invariant
    // that callers (the joint P, the t-SNE loss) rely on, so enforce it.
    for i in 0..n {
        for j in (i + 1)..n {
            let v = d[[i, j]].min(d[[j, i]]);
            d[[i, j]] = v;
            d[[j, i]] = v;
        }
    }
    d
}

/// Squared distances between every row of `x` (m rows) and every row of `y`
/// (n rows), an m x n matrix, clamped at 0.
///
/// # Errors
/// [`TensorError::ShapeMismatch`] when `x` and `y` have different column counts.
///
/// # Example
/// ```
/// use ssne_tensor::{sq_dists_between, ndarray::array};
/// let d = sq_dists_between(array![[0.0_f64, 0.0]].view(), array![[1.0, 1.0], [0.0, 2.0]].view())?;
/// assert_eq!(d, array![[2.0, 4.0]]);
/// # Ok::<(), ssne_tensor::TensorError>(())
/// ```
pub fn sq_dists_between<R: Real>(x: ArrayView2<'_, R>, y: ArrayView2<'_, R>) -> Result<Array2<R>, TensorError> {
    if x.ncols() != y.ncols() {
        return Err(TensorError::ShapeMismatch {
            op: "sq_dists_between",
            left: [x.nrows(), x.ncols()],
            right: [y.nrows(), y.ncols()],
        });
    }
    let nx = row_sq_norms(x);
    let ny = row_sq_norms(y);
    let mut d = Array2::zeros((x.nrows(), y.nrows()));
    gemm(R::from_f64(-2.0), x, Trans::N, y, Trans::T, R::zero(), d.view_mut())?;
    Zip::indexed(d.rows_mut()).par_for_each(|i, mut row| {
        let ni = nx[i];
        Zip::from(&mut row)
            .and(&ny)
            .for_each(|v, &nj| *v = (*v + ni + nj).max(R::zero()));
    });
    Ok(d)
}
