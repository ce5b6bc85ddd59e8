//! Exact k nearest neighbours by blocked GEMM distances, deterministic under ties.

use std::cmp::Ordering;

use rayon::prelude::*;
use ssne_tensor::ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut1, Axis, s};
use ssne_tensor::{Real, Trans};

use crate::distance::from_product;
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

/// Query rows whose inner products with all reference points come from one
/// GEMM (which splits itself over columns in parallel): the `256 x n_reference`
/// block stays small (10 MB for 10,000 `f32` points) while the GEMM is large
/// enough to run at full speed.
const QUERY_BLOCK: usize = 256;

/// The `k` nearest OTHER points of every row of `x` (a point is never its own
/// neighbour, but its duplicates are, at distance 0).
///
/// Exact: squared distances of blocks of rows against all rows by one GEMM per
/// block (the values of [`ssne_tensor::sq_dists_between`]), then a bounded
/// selection per row. Ties are broken by the smaller index, so the result is the
/// same on any thread count. Time `O(n^2 d)`, memory `O(n k)` plus one
/// `256 x n` block per thread.
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
///
/// Squared distances are `(-2 q.r + |q|^2 + |r|^2)` clamped at 0, the formula and
/// the order of [`ssne_tensor::sq_dists_between`] (so the same values), but the
/// norms are computed once rather than per block, and the sum is formed while
/// selecting the neighbours instead of in a separate pass over the block.
fn search<R: Real>(
    queries: ArrayView2<'_, R>,
    reference: ArrayView2<'_, R>,
    k: usize,
    exclude: Exclude,
) -> Result<Knn<R>, AffinityError> {
    let n_queries = queries.nrows();
    let query_norms = ssne_tensor::row_sq_norms(queries);
    let reference_norms = ssne_tensor::row_sq_norms(reference);
    let mut indices = Array2::<u32>::zeros((n_queries, k));
    let mut sq_dists = Array2::<R>::zeros((n_queries, k));
    indices
        .axis_chunks_iter_mut(Axis(0), QUERY_BLOCK)
        .into_par_iter()
        .zip(sq_dists.axis_chunks_iter_mut(Axis(0), QUERY_BLOCK))
        .enumerate()
        .try_for_each(|(block_idx, (mut idx_block, mut dist_block))| {
            let start = block_idx * QUERY_BLOCK;
            let rows = start..start + idx_block.nrows();
            let block_queries = queries.slice(s![rows.clone(), ..]);
            let mut products = Array2::<R>::zeros((rows.len(), reference.nrows()));
            ssne_tensor::gemm(
                R::from_f64(-2.0),
                block_queries,
                Trans::N,
                reference,
                Trans::T,
                R::zero(),
                products.view_mut(),
            )
            .map_err(|_| AffinityError::FeatureMismatch {
                queries: queries.ncols(),
                reference: reference.ncols(),
            })?;
            idx_block
                .outer_iter_mut()
                .into_par_iter()
                .zip(dist_block.outer_iter_mut())
                .zip(products.outer_iter())
                .enumerate()
                .for_each_init(
                    || (Vec::with_capacity(buffer_len(k)), Vec::new()),
                    |(buffer, minima), (row_in_block, ((idx_row, dist_row), row))| {
                        let i = start + row_in_block;
                        let skip = match exclude {
                            Exclude::SameIndex => Some(i),
                            Exclude::Nothing => None,
                        };
                        nearest(row, query_norms[i], reference_norms.view(), skip, k, buffer, minima);
                        write_sorted(buffer, idx_row, dist_row);
                    },
                );
            Ok(())
        })?;
    Ok(Knn { indices, sq_dists })
}

/// A neighbour candidate, ordered by `(sq_dist, idx)`: equal distances prefer
/// the smaller index.
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

/// Candidates whose distances are formed, and tested against the threshold,
/// together: the test is branch-free over the group, so only the few groups
/// holding a candidate that can enter (a small multiple of k ln(n / k) of n)
/// take the slow path.
const GROUP: usize = 8;

/// Candidates kept per row before the buffer is cut back to the best `k`: each
/// cut costs O(buffer) and tightens the threshold, so a few times `k` makes the
/// cuts rare and cheap (an `O(log k)` heap update per entering candidate was
/// a fifth of the search time at k = 90).
fn buffer_len(k: usize) -> usize {
    4 * k.max(8)
}

/// Leaves the `k` smallest `(sq_dist, idx)` in `buffer` (in no particular
/// order), where the squared distance to reference `j` is
/// `(products[j] + query_norm + reference_norms[j])` clamped at 0, skipping `skip`.
fn nearest<R: Real>(
    products: ArrayView1<'_, R>,
    query_norm: R,
    reference_norms: ArrayView1<'_, R>,
    skip: Option<usize>,
    k: usize,
    buffer: &mut Vec<Candidate>,
    minima: &mut Vec<R>,
) {
    buffer.clear();
    let products = products.as_standard_layout();
    let norms = reference_norms.as_standard_layout();
    let (Some(products), Some(norms)) = (products.as_slice(), norms.as_slice()) else {
        unreachable!("standard-layout 1-D arrays are contiguous");
    };
    let (product_groups, product_rest) = products.as_chunks::<GROUP>();
    let (norm_groups, norm_rest) = norms.as_chunks::<GROUP>();
    let mut selection = Selection {
        buffer,
        k,
        capacity: buffer_len(k),
        skip,
        threshold: R::infinity(),
        inclusive: true,
    };
    // A first bound: the k-th smallest of the groups' minima. Those minima are
    // k distinct candidates, so the k-th nearest is at most that far; in practice
    // only one to two times k candidates are that near, against several times
    // more that would enter while the threshold is still being lowered by cuts.
    if product_groups.len() >= k {
        minima.clear();
        for (g, (p, n)) in product_groups.iter().zip(norm_groups).enumerate() {
            let mut m = R::infinity();
            for l in 0..GROUP {
                let d = from_product(p[l], query_norm, n[l]);
                m = if d < m && Some(g * GROUP + l) != skip { d } else { m };
            }
            minima.push(m);
        }
        minima.select_nth_unstable_by(k - 1, |a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        selection.threshold = minima[k - 1];
    }
    for (g, (p, n)) in product_groups.iter().zip(norm_groups).enumerate() {
        let mut d = [R::zero(); GROUP];
        let mut below = 0_u32;
        for l in 0..GROUP {
            d[l] = from_product(p[l], query_norm, n[l]);
            below += u32::from(d[l] <= selection.threshold);
        }
        if below > 0 {
            for (l, &dl) in d.iter().enumerate() {
                selection.offer(g * GROUP + l, dl);
            }
        }
    }
    let base = product_groups.len() * GROUP;
    for (l, (&p, &n)) in product_rest.iter().zip(norm_rest).enumerate() {
        selection.offer(base + l, from_product(p, query_norm, n));
    }
    selection.cut();
}

/// One row's candidates that may still be among its `k` nearest.
struct Selection<'a, R> {
    buffer: &'a mut Vec<Candidate>,
    k: usize,
    capacity: usize,
    skip: Option<usize>,
    /// A bound on the k-th smallest distance: nothing beyond it can enter.
    threshold: R,
    /// Whether a candidate exactly at `threshold` may still enter: yes for the
    /// first bound, no once the threshold is the k-th distance of a cut (an equal
    /// distance then comes with a larger index).
    inclusive: bool,
}

impl<R: Real> Selection<'_, R> {
    /// Offers candidate `j` at squared distance `d`; candidates come in
    /// increasing `j`.
    #[inline]
    fn offer(&mut self, j: usize, d: R) {
        // Later candidates have larger indices, so one at exactly the threshold
        // ranks after the k kept ones: a strict `<` is the (dist, idx) order.
        if d > self.threshold || (d == self.threshold && !self.inclusive) || Some(j) == self.skip {
            return;
        }
        // `+ 0.0` turns a -0.0 from the clamp into +0.0, so that `total_cmp`
        // ranks exact ties by index only. Indices are validated to fit u32
        // (validate::MAX_POINTS).
        self.buffer.push(Candidate {
            sq_dist: d.to_f64() + 0.0,
            idx: j as u32,
        });
        if self.buffer.len() >= self.capacity {
            self.cut();
        }
    }

    /// Keeps the best `k` in `(sq_dist, idx)` order and lowers the threshold to the worst of them.
    fn cut(&mut self) {
        if self.buffer.len() > self.k {
            self.buffer.select_nth_unstable(self.k - 1);
            self.buffer.truncate(self.k);
        }
        if self.buffer.len() == self.k {
            // Distances came from R, so the round trip through f64 is exact.
            let worst = self.buffer.iter().map(|c| c.sq_dist).fold(f64::NEG_INFINITY, f64::max);
            self.threshold = R::from_f64(worst);
            self.inclusive = false;
        }
    }
}

/// Sorts one row's `k` nearest into the output row, nearest first.
fn write_sorted<R: Real>(
    buffer: &mut [Candidate],
    mut indices: ArrayViewMut1<'_, u32>,
    mut sq_dists: ArrayViewMut1<'_, R>,
) {
    buffer.sort_unstable();
    for ((c, idx), d) in buffer.iter().zip(indices.iter_mut()).zip(sq_dists.iter_mut()) {
        *idx = c.idx;
        *d = R::from_f64(c.sq_dist);
    }
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
    fn many_cuts_with_many_ties_match_a_full_sort() {
        // Integer grid points: many exact ties, and far more candidates than the
        // buffer holds, so the selection is cut many times per row.
        let reference = Array2::from_shape_fn((1500, 3), |(i, c)| ((i * (7 + 5 * c) + c) % 9) as f32);
        let queries = Array2::from_shape_fn((40, 3), |(i, c)| ((i * (3 + c)) % 7) as f32 + 0.5 * (c % 2) as f32);
        for k in [1, 5, 37, 200] {
            let nn = knn_between(queries.view(), reference.view(), k).unwrap();
            for (q, row) in queries.rows().into_iter().enumerate() {
                let mut all: Vec<(f32, u32)> = reference
                    .rows()
                    .into_iter()
                    .enumerate()
                    .map(|(j, r)| (row.iter().zip(r).map(|(a, b)| (a - b) * (a - b)).sum(), j as u32))
                    .collect();
                all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                let expected: Vec<u32> = all[..k].iter().map(|c| c.1).collect();
                assert_eq!(nn.indices.row(q).to_vec(), expected, "query {q}, k = {k}");
            }
        }
        // Within one set: the point itself never counts, even where its zero
        // distance would be its group's minimum (duplicates do count).
        let x = reference.slice(s![..400, ..]);
        for k in [3, 20] {
            let nn = knn(x, k).unwrap();
            for (i, row) in x.rows().into_iter().enumerate() {
                let mut all: Vec<(f32, u32)> = x
                    .rows()
                    .into_iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .map(|(j, r)| (row.iter().zip(r).map(|(a, b)| (a - b) * (a - b)).sum(), j as u32))
                    .collect();
                all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                let expected: Vec<u32> = all[..k].iter().map(|c| c.1).collect();
                assert_eq!(nn.indices.row(i).to_vec(), expected, "point {i}, k = {k}");
            }
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
