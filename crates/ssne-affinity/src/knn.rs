//! Exact k nearest neighbours by blocked GEMM distances, deterministic under ties.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rayon::prelude::*;
use ssne_tensor::Real;
use ssne_tensor::ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut1, Axis, s};

use crate::{AffinityError, validate};

/// The `k` nearest neighbours of each query point, nearest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Knn<R> {
    /// `n_queries x k` indices into the reference points, by ascending squared
    /// distance, ties broken by ascending index.
    pub indices: Array2<u32>,
    /// `n_queries x k` squared distances matching `indices`.
    pub sq_dists: Array2<R>,
}

impl<R> Knn<R> {
    /// Number of query points (rows).
    pub fn n_points(&self) -> usize {
        self.indices.nrows()
    }

    /// Neighbours per point (columns).
    pub fn k(&self) -> usize {
        self.indices.ncols()
    }
}

/// Query rows whose distances to all reference points come from one call of
/// `sq_dists_between` (which splits its GEMM over rows in parallel itself).
/// Every call recomputes the reference points' norms, which at 64 rows per
/// call was a fifth of the k-NN time on MNIST; 256 rows make that ~5% while
/// the `256 x n_reference` block stays small (10 MB for 10,000 `f32` points).
const QUERY_BLOCK: usize = 256;

/// The `k` nearest OTHER points of every row of `x` (a point is never its own
/// neighbour, but its duplicates are, at distance 0).
///
/// Exact: squared distances of blocks of rows against all rows through
/// [`ssne_tensor::sq_dists_between`], then a bounded heap per row. Ties are
/// broken by the smaller index, so the result is the same on any thread count.
/// Time `O(n^2 d)`, memory `O(n k)` plus one `64 x n` block per thread.
///
/// # Errors
/// [`AffinityError::Empty`], [`AffinityError::NonFinite`],
/// [`AffinityError::Overflow`], [`AffinityError::TooFewPoints`] (one point),
/// [`AffinityError::KZero`], [`AffinityError::KTooLarge`] (`k > n - 1`),
/// [`AffinityError::TooManyPoints`].
///
/// # Example
/// ```
/// use ssne_affinity::knn;
/// use ssne_tensor::ndarray::array;
///
/// let x = array![[0.0_f32], [1.0], [3.0], [7.0]];
/// let nn = knn(x.view(), 2)?;
/// assert_eq!(nn.indices, array![[1, 2], [0, 2], [1, 0], [2, 1]]);
/// assert_eq!(nn.sq_dists.row(3).to_vec(), vec![16.0, 36.0]);
/// # Ok::<(), ssne_affinity::AffinityError>(())
/// ```
pub fn knn<R: Real>(x: ArrayView2<'_, R>, k: usize) -> Result<Knn<R>, AffinityError> {
    validate::points(x)?;
    let n_points = x.nrows();
    if n_points < 2 {
        return Err(AffinityError::TooFewPoints { n_points, min: 2 });
    }
    validate::k(k, n_points - 1)?;
    knn_validated(x, k)
}

/// [`knn`] for input already validated (`1 <= k <= n - 1`).
pub(crate) fn knn_validated<R: Real>(x: ArrayView2<'_, R>, k: usize) -> Result<Knn<R>, AffinityError> {
    search(x, x, k, Exclude::SameIndex)
}

/// The `k` nearest reference points of every query point, e.g. to place new
/// points against a training set. A query equal to a reference point finds it
/// at distance 0.
///
/// # Errors
/// [`AffinityError::Empty`] (no queries or no reference points),
/// [`AffinityError::FeatureMismatch`], [`AffinityError::NonFinite`],
/// [`AffinityError::Overflow`], [`AffinityError::KZero`],
/// [`AffinityError::KTooLarge`] (`k > n_reference`), [`AffinityError::TooManyPoints`].
///
/// # Example
/// ```
/// use ssne_affinity::knn_between;
/// use ssne_tensor::ndarray::array;
///
/// let train = array![[0.0_f64, 0.0], [10.0, 0.0], [0.0, 10.0]];
/// let new = array![[9.0_f64, 1.0]];
/// let nn = knn_between(new.view(), train.view(), 2)?;
/// assert_eq!(nn.indices, array![[1, 0]]);
/// assert_eq!(nn.sq_dists, array![[2.0, 82.0]]);
/// # Ok::<(), ssne_affinity::AffinityError>(())
/// ```
pub fn knn_between<R: Real>(
    queries: ArrayView2<'_, R>,
    reference: ArrayView2<'_, R>,
    k: usize,
) -> Result<Knn<R>, AffinityError> {
    validate::points(queries)?;
    validate::points(reference)?;
    if queries.ncols() != reference.ncols() {
        return Err(AffinityError::FeatureMismatch {
            queries: queries.ncols(),
            reference: reference.ncols(),
        });
    }
    validate::k(k, reference.nrows())?;
    search(queries, reference, k, Exclude::Nothing)
}

/// Whether query `i` must skip reference `i` (queries and references are the same points).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Exclude {
    SameIndex,
    Nothing,
}

/// Blocked exact search; inputs already validated (`1 <= k <=` number of candidates).
fn search<R: Real>(
    queries: ArrayView2<'_, R>,
    reference: ArrayView2<'_, R>,
    k: usize,
    exclude: Exclude,
) -> Result<Knn<R>, AffinityError> {
    let n_queries = queries.nrows();
    let mut indices = Array2::<u32>::zeros((n_queries, k));
    let mut sq_dists = Array2::<R>::zeros((n_queries, k));
    indices
        .axis_chunks_iter_mut(Axis(0), QUERY_BLOCK)
        .into_par_iter()
        .zip(sq_dists.axis_chunks_iter_mut(Axis(0), QUERY_BLOCK))
        .enumerate()
        .try_for_each(|(block_idx, (mut idx_block, mut dist_block))| {
            let start = block_idx * QUERY_BLOCK;
            let block_queries = queries.slice(s![start..start + idx_block.nrows(), ..]);
            let block_dists = ssne_tensor::sq_dists_between(block_queries, reference).map_err(|_| {
                AffinityError::FeatureMismatch {
                    queries: queries.ncols(),
                    reference: reference.ncols(),
                }
            })?;
            idx_block
                .outer_iter_mut()
                .into_par_iter()
                .zip(dist_block.outer_iter_mut())
                .zip(block_dists.outer_iter())
                .enumerate()
                .for_each_init(
                    || BinaryHeap::with_capacity(k + 1),
                    |heap, (row_in_block, ((idx_row, dist_row), row))| {
                        let skip = match exclude {
                            Exclude::SameIndex => Some(start + row_in_block),
                            Exclude::Nothing => None,
                        };
                        nearest(row, skip, k, heap);
                        write_sorted(heap, idx_row, dist_row);
                    },
                );
            Ok(())
        })?;
    Ok(Knn { indices, sq_dists })
}

/// A neighbour candidate, ordered by `(sq_dist, idx)`: the heap's maximum is the
/// candidate to evict, and equal distances prefer the smaller index.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    sq_dist: f64,
    idx: u32,
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        self.sq_dist.total_cmp(&other.sq_dist).then(self.idx.cmp(&other.idx))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Candidate {}

/// Leaves the `k` smallest `(sq_dist, idx)` of `row` (skipping `skip`) in `heap`.
fn nearest<R: Real>(row: ArrayView1<'_, R>, skip: Option<usize>, k: usize, heap: &mut BinaryHeap<Candidate>) {
    heap.clear();
    for (j, &d) in row.iter().enumerate() {
        if Some(j) == skip {
            continue;
        }
        // `+ 0.0` turns a -0.0 from the clamp into +0.0, so that `total_cmp`
        // ranks exact ties by index only.
        let sq_dist = d.to_f64() + 0.0;
        // Indices are validated to fit u32 (validate::MAX_POINTS).
        let candidate = Candidate { sq_dist, idx: j as u32 };
        if heap.len() < k {
            heap.push(candidate);
        } else if heap.peek().is_some_and(|worst| sq_dist < worst.sq_dist) {
            // Later candidates have larger indices, so an equal distance never
            // displaces the current worst: a strict `<` is the (dist, idx) order.
            heap.pop();
            heap.push(candidate);
        }
    }
}

/// Drains `heap` into one output row, nearest first.
fn write_sorted<R: Real>(
    heap: &mut BinaryHeap<Candidate>,
    mut indices: ArrayViewMut1<'_, u32>,
    mut sq_dists: ArrayViewMut1<'_, R>,
) {
    let mut sorted = std::mem::take(heap).into_sorted_vec();
    for ((c, idx), d) in sorted.iter().zip(indices.iter_mut()).zip(sq_dists.iter_mut()) {
        *idx = c.idx;
        *d = R::from_f64(c.sq_dist);
    }
    // Hand the allocation back for the next row (an empty Vec makes an empty heap in O(1)).
    sorted.clear();
    *heap = BinaryHeap::from(sorted);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssne_tensor::ndarray::array;

    #[test]
    fn ties_are_broken_by_index() {
        // Points 1, 2, 3 are all at distance 1 from point 0.
        let x = array![[0.0_f64, 0.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]];
        let nn = knn(x.view(), 2).unwrap();
        assert_eq!(nn.indices.row(0).to_vec(), vec![1, 2]);
        assert_eq!(nn.sq_dists.row(0).to_vec(), vec![1.0, 1.0]);
    }

    #[test]
    fn duplicates_are_neighbours_but_self_is_not() {
        let x = array![[1.0_f32, 1.0], [1.0, 1.0], [1.0, 1.0], [5.0, 5.0]];
        let nn = knn(x.view(), 2).unwrap();
        assert_eq!(nn.indices.row(0).to_vec(), vec![1, 2]);
        assert_eq!(nn.indices.row(1).to_vec(), vec![0, 2]);
        assert_eq!(nn.indices.row(2).to_vec(), vec![0, 1]);
        assert_eq!(nn.sq_dists.row(0).to_vec(), vec![0.0, 0.0]);
    }

    #[test]
    fn more_rows_than_one_block() {
        let n = 3 * QUERY_BLOCK + 5;
        let x = Array2::from_shape_fn((n, 1), |(i, _)| (i * i) as f64);
        let nn = knn(x.view(), 1).unwrap();
        // On a parabola the nearest point is always the previous one (or 1 for 0).
        assert_eq!(nn.indices[[0, 0]], 1);
        for i in 1..n {
            assert_eq!(nn.indices[[i, 0]] as usize, i - 1);
        }
    }

    #[test]
    fn k_bounds_are_errors() {
        let x = array![[0.0_f32], [1.0], [2.0]];
        assert_eq!(knn(x.view(), 0), Err(AffinityError::KZero { max: 2 }));
        assert_eq!(knn(x.view(), 3), Err(AffinityError::KTooLarge { k: 3, max: 2 }));
        assert_eq!(
            knn_between(x.view(), x.view(), 4),
            Err(AffinityError::KTooLarge { k: 4, max: 3 })
        );
        assert_eq!(
            knn(array![[1.0_f32]].view(), 1),
            Err(AffinityError::TooFewPoints { n_points: 1, min: 2 })
        );
        assert_eq!(
            knn_between(x.view(), array![[0.0_f32, 1.0]].view(), 1),
            Err(AffinityError::FeatureMismatch {
                queries: 1,
                reference: 2
            })
        );
    }
}
