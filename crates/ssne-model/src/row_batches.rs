//! Cutting training rows into seeded batches, and reading training rows: every stage of training
//! reads its inputs through [`gather_rows`] (a batch) or [`for_chunks`] (all rows, a block at a
//! time), so `f32` rows and `u8` codes give the same numbers and the whole `f32` matrix of `u8`
//! data is never formed.

use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use ssne_data::FeatureRows;
use ssne_tensor::ndarray::{Array2, ArrayView2};

use crate::Result;

/// Rows read at a time by the stages that go over every training row (PCA, the reference map,
/// accuracy): a multiple of [`crate::EMBED_BLOCK_ROWS`], so embedding by chunks equals embedding
/// the whole matrix, and small enough that a chunk of decoded `u8` rows stays a few megabytes.
pub(crate) const CHUNK_ROWS: usize = 4096;

const _: () = assert!(CHUNK_ROWS.is_multiple_of(crate::EMBED_BLOCK_ROWS));

/// Copies the rows `indices` of `x` into a new matrix (in that order), decoding and scaling `u8`
/// codes as they are copied.
///
/// # Errors
/// [`ssne_data::DataError::RowIndex`] for an index past the rows.
pub(crate) fn gather_rows(x: FeatureRows<'_>, indices: &[usize]) -> Result<Array2<f32>> {
    let d = x.ncols();
    let mut values = vec![0.0_f32; indices.len() * d];
    if d > 0 {
        values
            .par_chunks_mut(d)
            .zip(indices.par_iter())
            .try_for_each(|(row, &i)| x.copy_row(i, row))?;
    }
    Ok(Array2::from_shape_vec((indices.len(), d), values).unwrap_or_else(|_| {
        unreachable!("indices.len() rows of d values");
    }))
}

/// Calls `f(first_row, rows)` on the rows of `x` in order, [`CHUNK_ROWS`] at a time.
///
/// # Errors
/// The first error of `f`.
pub(crate) fn for_chunks(
    x: FeatureRows<'_>,
    mut f: impl FnMut(usize, ArrayView2<'_, f32>) -> Result<()>,
) -> Result<()> {
    for (start, chunk) in x.chunks(CHUNK_ROWS) {
        f(start, chunk.view())?;
    }
    Ok(())
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
