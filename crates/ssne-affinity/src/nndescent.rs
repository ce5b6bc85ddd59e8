//! Approximate k nearest neighbours by NN-descent (Dong et al. 2011): a local
//! join over neighbours-of-neighbours, with candidate sampling `rho` and early
//! stop `delta`. Deterministic on any thread count: every random draw comes from
//! one `ChaCha8Rng` in index order, the joins run in parallel but their proposed
//! updates are applied sequentially in point order.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use ssne_tensor::Real;
use ssne_tensor::ndarray::{Array2, ArrayView2};

use crate::{AffinityError, Knn, validate};

/// Parameters of [`nn_descent`]; [`NnDescentOptions::for_points`] gives pynndescent's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NnDescentOptions {
    /// Upper bound on local-join rounds (the search never loops without bound).
    pub n_iters: usize,
    /// Largest candidate list per point and round.
    pub max_candidates: usize,
    /// Stop when fewer than `delta * n * k` neighbour slots changed in a round.
    pub delta: f64,
    /// Seed of the `ChaCha8Rng` that draws the initial graph and the samples.
    pub seed: u64,
}

impl NnDescentOptions {
    /// pynndescent's defaults for `n_points`: `n_iters = max(5, round(log2 n))`,
    /// `max_candidates = 60`, `delta = 0.001`.
    pub fn for_points(n_points: usize, seed: u64) -> Self {
        let log2 = (n_points.max(2) as f64).log2().round() as usize;
        Self {
            n_iters: log2.max(5),
            max_candidates: 60,
            delta: 0.001,
            seed,
        }
    }

    /// Refuses a zero iteration bound or candidate count and a `delta` outside `[0, 1]`.
    ///
    /// # Errors
    /// [`AffinityError::InvalidKnnParameter`] naming the parameter.
    pub fn validate(&self) -> Result<(), AffinityError> {
        let bad = |name: &'static str, value: String, rule: &'static str| {
            Err(AffinityError::InvalidKnnParameter { name, value, rule })
        };
        if self.n_iters == 0 || self.n_iters > 1000 {
            return bad("n_iters", self.n_iters.to_string(), "between 1 and 1000");
        }
        if self.max_candidates == 0 || self.max_candidates > 1000 {
            return bad("max_candidates", self.max_candidates.to_string(), "between 1 and 1000");
        }
        if !(0.0..=1.0).contains(&self.delta) {
            return bad("delta", self.delta.to_string(), "in [0, 1]");
        }
        Ok(())
    }
}

/// Points whose local joins are buffered at once.
const JOIN_CHUNK: usize = 256;

/// One neighbour slot: squared distance, index, and whether it is new since it was last joined.
type Slot = (f64, u32, bool);

fn sq_dist<R: Real>(x: ArrayView2<'_, R>, a: usize, b: usize) -> f64 {
    let (ra, rb) = (x.row(a), x.row(b));
    let mut acc = 0.0_f64;
    for (&p, &q) in ra.iter().zip(rb.iter()) {
        let d = ssne_tensor::Real::to_f64(p - q);
        acc += d * d;
    }
    acc
}

/// Inserts `(d, j)` into the sorted list `row` of length `k` if it beats the
/// worst slot and is not there yet; ties by the smaller index. Returns whether it changed.
fn push(row: &mut Vec<Slot>, k: usize, d: f64, j: u32) -> bool {
    if row.len() == k {
        let (wd, wj, _) = row[k - 1];
        if (d, j) >= (wd, wj) {
            return false;
        }
    }
    if row.iter().any(|s| s.1 == j) {
        return false;
    }
    let at = row.partition_point(|s| (s.0, s.1) < (d, j));
    row.insert(at, (d, j, true));
    row.truncate(k);
    true
}

/// The approximate `k` nearest other points of every row of `x`, by NN-descent
/// from a random graph; same ordering conventions as [`crate::knn`].
///
/// Not yet used by training, and not yet faster than the exact search: one
/// measurement on 10,000 points of 50 dimensions, k = 90, took 59.4 s here
/// (recall 1.0 on 100 sampled rows) against 1.9 s for [`crate::knn`]. The joins
/// compare every candidate pair each round, in `f64`, one pair at a time, and
/// start from a random graph rather than random-projection trees.
///
/// # Errors
/// As [`crate::knn`], plus [`AffinityError::InvalidKnnParameter`].
///
/// # Example
/// ```
/// use ssne_affinity::{NnDescentOptions, nn_descent};
/// use ssne_tensor::ndarray::array;
///
/// let x = array![[0.0_f32], [1.0], [3.0], [7.0]];
/// let nn = nn_descent(x.view(), 2, &NnDescentOptions::for_points(4, 7))?;
/// assert_eq!(nn.indices, array![[1, 2], [0, 2], [1, 0], [2, 1]]);
/// # Ok::<(), ssne_affinity::AffinityError>(())
/// ```
pub fn nn_descent<R: Real>(
    x: ArrayView2<'_, R>,
    k: usize,
    options: &NnDescentOptions,
) -> Result<Knn<R>, AffinityError> {
    options.validate()?;
    validate::points(x)?;
    let n = x.nrows();
    if n < 2 {
        return Err(AffinityError::TooFewPoints { n_points: n, min: 2 });
    }
    validate::k(k, n - 1)?;
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut graph: Vec<Vec<Slot>> = Vec::with_capacity(n);
    for i in 0..n {
        let mut row = Vec::with_capacity(k + 1);
        while row.len() < k {
            let j = rng.random_range(0..n);
            if j != i {
                push(&mut row, k, sq_dist(x, i, j), j as u32);
            }
        }
        graph.push(row);
    }
    let cap = options.max_candidates;
    for _ in 0..options.n_iters {
        // Candidate lists (forward and reverse), sampled to `cap` by random priority.
        let mut new_c: Vec<Vec<(u64, u32)>> = vec![Vec::new(); n];
        let mut old_c: Vec<Vec<(u64, u32)>> = vec![Vec::new(); n];
        for (i, row) in graph.iter().enumerate() {
            for &(_, j, is_new) in row {
                let lists = if is_new { &mut new_c } else { &mut old_c };
                let p: u64 = rng.random();
                lists[i].push((p, j));
                lists[j as usize].push((p, i as u32));
            }
        }
        for list in new_c.iter_mut().chain(old_c.iter_mut()) {
            list.sort_unstable();
            list.dedup_by_key(|e| e.1);
            list.truncate(cap);
        }
        for (i, row) in graph.iter_mut().enumerate() {
            for slot in row.iter_mut() {
                if new_c[i].iter().any(|e| e.1 == slot.1) {
                    slot.2 = false;
                }
            }
        }
        // The join reads only `x` and the candidate lists, so fixed chunks of
        // points give the same result as one pass while bounding the buffer of
        // proposed updates (a whole round at 60,000 points would be gigabytes).
        let mut changed = 0_usize;
        for start in (0..n).step_by(JOIN_CHUNK) {
            let updates: Vec<Vec<(u32, u32, f64)>> = (start..(start + JOIN_CHUNK).min(n))
                .into_par_iter()
                .map(|u| {
                    let (nc, oc) = (&new_c[u], &old_c[u]);
                    let mut out = Vec::new();
                    for (a, &(_, p)) in nc.iter().enumerate() {
                        for &(_, q) in nc[a + 1..].iter().chain(oc.iter()) {
                            if p != q {
                                out.push((p, q, sq_dist(x, p as usize, q as usize)));
                            }
                        }
                    }
                    out
                })
                .collect();
            for (p, q, d) in updates.into_iter().flatten() {
                changed += usize::from(push(&mut graph[p as usize], k, d, q));
                changed += usize::from(push(&mut graph[q as usize], k, d, p));
            }
        }
        if (changed as f64) <= options.delta * (n * k) as f64 {
            break;
        }
    }
    let mut indices = Array2::zeros((n, k));
    let mut sq_dists = Array2::from_elem((n, k), R::zero());
    for (i, row) in graph.iter().enumerate() {
        for (c, &(d, j, _)) in row.iter().enumerate() {
            indices[[i, c]] = j;
            sq_dists[[i, c]] = <R as Real>::from_f64(d);
        }
    }
    Ok(Knn { indices, sq_dists })
}

/// Mean fraction of the exact `k` neighbours found by `approx`, over the rows
/// `sample` (exact neighbours of those rows computed by brute force).
///
/// # Errors
/// [`AffinityError::Empty`] for an empty sample; a sampled row out of range is
/// [`AffinityError::InvalidKnnParameter`].
pub fn knn_recall<R: Real>(x: ArrayView2<'_, R>, approx: &Knn<R>, sample: &[usize]) -> Result<f64, AffinityError> {
    let n = x.nrows();
    let k = approx.k();
    if sample.is_empty() || k == 0 {
        return Err(AffinityError::Empty {
            n_points: sample.len(),
            n_features: k,
        });
    }
    let mut total = 0.0_f64;
    for &i in sample {
        if i >= n || approx.n_points() != n {
            return Err(AffinityError::InvalidKnnParameter {
                name: "sample row",
                value: i.to_string(),
                rule: "below the number of points",
            });
        }
        let mut all: Vec<(f64, usize)> = (0..n).filter(|&j| j != i).map(|j| (sq_dist(x, i, j), j)).collect();
        all.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        // Ties at the k-th distance count as found: any of them is a correct neighbour.
        let kth = all.get(k - 1).map_or(f64::INFINITY, |e| e.0);
        let found = approx
            .indices
            .row(i)
            .iter()
            .filter(|&&j| sq_dist(x, i, j as usize) <= kth)
            .count();
        total += found as f64 / k as f64;
    }
    Ok(total / sample.len() as f64)
}
