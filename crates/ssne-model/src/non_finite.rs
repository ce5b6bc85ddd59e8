//! Finding the first non-finite input, in row-major order, of a dense or a
//! compressed matrix: what the errors that name a bad input's row and column report.

use ssne_tensor::Csr;
use ssne_tensor::ndarray::ArrayView2;

/// The position of the first non-finite value in row-major order. Each
/// contiguous row is first tested with a branch-free fold (vectorised), and only
/// a row that fails is searched for the column.
pub(crate) fn find_non_finite(x: ArrayView2<'_, f32>) -> Option<(usize, usize)> {
    for (row_idx, row) in x.rows().into_iter().enumerate() {
        let finite = match row.as_slice() {
            Some(values) => values.iter().fold(true, |ok, v| ok & v.is_finite()),
            None => row.iter().all(|v| v.is_finite()),
        };
        if !finite {
            let col = row.iter().position(|v| !v.is_finite()).unwrap_or(0);
            return Some((row_idx, col));
        }
    }
    None
}

/// Position of the first non-finite stored entry of `csr` in row-major order.
pub(crate) fn first_non_finite_entry(csr: &Csr<f32>) -> Option<(usize, usize)> {
    (0..csr.nrows()).find_map(|i| {
        let (cols, vals) = csr.row(i);
        let finite = vals.iter().fold(true, |ok, v| ok & v.is_finite());
        let pos = if finite {
            None
        } else {
            vals.iter().position(|v| !v.is_finite())
        };
        pos.map(|p| (i, cols[p] as usize))
    })
}
