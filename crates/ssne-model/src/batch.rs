//! Row gathering, seeded random streams and small numeric helpers shared by the trainers.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use ssne_tensor::ndarray::{Array2, ArrayView2, Axis, Zip};

/// Independent random streams derived from one seed, one per purpose, so that a
/// change in how often one purpose draws does not shift the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RngStream {
    Init = 1,
    PretrainOrder = 2,
    FinetuneBatches = 3,
    FinetuneOrder = 4,
    EdgeSampling = 5,
    Augment = 6,
}

pub(crate) fn rng_for(seed: u64, stream: RngStream) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream as u64);
    rng
}

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

/// Index of the largest value in each row (the predicted class); ties go to the lower index.
pub(crate) fn argmax_rows(x: ArrayView2<'_, f32>) -> Vec<u32> {
    x.rows()
        .into_iter()
        .map(|row| {
            let mut best = 0usize;
            for (j, &v) in row.iter().enumerate() {
                if v > row[best] {
                    best = j;
                }
            }
            best as u32
        })
        .collect()
}

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

    #[test]
    fn streams_differ_and_repeat() {
        use rand::Rng;
        let a: u64 = rng_for(7, RngStream::Init).random();
        let b: u64 = rng_for(7, RngStream::EdgeSampling).random();
        let c: u64 = rng_for(7, RngStream::Init).random();
        assert_ne!(a, b);
        assert_eq!(a, c);
    }
}
