//! Cutting training rows into seeded batches, and gathering a batch's rows.

use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use ssne_tensor::ndarray::{Array2, ArrayView2, Axis, Zip};

/// Copies the rows `indices` of `x` into a new matrix (in that order).
pub(crate) fn gather_rows(x: ArrayView2<'_, f32>, indices: &[usize]) -> Array2<f32> {
    let mut out = Array2::zeros((indices.len(), x.ncols()));
    Zip::from(out.axis_iter_mut(Axis(0)))
        .and(indices)
        .par_for_each(|mut row, &i| row.assign(&x.row(i)));
    out
}

/// `n` indices in a seeded random order.
pub(crate) fn permutation(n: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(rng);
    idx
}

/// Cuts `order` into `ceil(n / batch_size)` batches of as equal sizes as possible,
/// so no batch is a tiny remainder.
pub(crate) fn even_batches(order: &[usize], batch_size: usize) -> Vec<Vec<usize>> {
    let n = order.len();
    if n == 0 {
        return Vec::new();
    }
    let n_batches = n.div_ceil(batch_size.max(1));
    let base = n / n_batches;
    let extra = n % n_batches;
    let mut out = Vec::with_capacity(n_batches);
    let mut start = 0;
    for b in 0..n_batches {
        let len = base + usize::from(b < extra);
        out.push(order[start..start + len].to_vec());
        start += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_batches_cover_everything_without_tiny_remainders() {
        let order: Vec<usize> = (0..2500).collect();
        let batches = even_batches(&order, 1000);
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), vec![834, 833, 833]);
        assert_eq!(batches.concat(), order);
    }
}
