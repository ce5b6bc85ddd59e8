//! Approximate k nearest neighbours by NN-descent (Dong, Charikar & Li 2011)
//! seeded by random-projection trees, as pynndescent does: the points sharing a
//! tree leaf start each other's neighbour lists, then rounds of local joins
//! compare the sampled neighbours (and reverse neighbours) of every point with
//! each other, until a round changes fewer than `delta * n * k` slots.
//!
//! Deterministic on any thread count: the trees and the candidate samples draw
//! from their own streams and word positions of one `ChaCha8Rng`; the joins
//! run in fixed chunks whose distances are computed in parallel against the
//! graph as it stood before the chunk, and applied in index order.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use ssne_tensor::Real;
use ssne_tensor::ndarray::{Array2, ArrayView2};

use crate::distance::{Rows, dot, from_product};
use crate::neighbour_heap::{EMPTY, NeighbourHeaps};
use crate::{AffinityError, Knn, rp_forest, validate};

/// The `ChaCha8Rng` stream that completes neighbour lists the trees left short ("NNF").
const FILL_STREAM: u64 = 0x4E4E_4600_0000_0000;
/// Round `r` samples its candidates from stream `SAMPLE_STREAM + r` ("NNS").
const SAMPLE_STREAM: u64 = 0x4E4E_5300_0000_0000;

/// Groups (tree leaves, or points' candidate lists) joined against one frozen
/// graph before their updates are applied: fixed, so the result does not depend
/// on the thread count, and small enough that the buffered updates stay small.
const JOIN_CHUNK: usize = 256;

/// Parameters of [`nn_descent`]; [`NnDescentOptions::for_points`] gives pynndescent's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NnDescentOptions {
    /// Random-projection trees whose leaves seed the graph.
    pub n_trees: usize,
    /// Upper bound on local-join rounds (the search never loops without bound).
    pub n_iters: usize,
    /// Largest candidate list (new or old) per point and round.
    pub max_candidates: usize,
    /// Stop when at most `delta * n * k` neighbour slots changed in a round.
    pub delta: f64,
    /// Seed of the `ChaCha8Rng` that draws the trees and the samples.
    pub seed: u64,
}

impl NnDescentOptions {
    /// pynndescent's defaults for `n_points`: `n_trees = 5 + round(sqrt(n) / 20)` (at
    /// most 64), `n_iters = max(5, round(log2 n))`, `max_candidates = 60`, `delta = 0.001`.
    ///
    /// ```
    /// let opts = ssne_affinity::NnDescentOptions::for_points(60_000, 1);
    /// assert_eq!((opts.n_trees, opts.n_iters, opts.max_candidates), (17, 16, 60));
    /// ```
    pub fn for_points(n_points: usize, seed: u64) -> Self {
        let log2 = (n_points.max(2) as f64).log2().round() as usize;
        let trees = 5 + ((n_points as f64).sqrt() / 20.0).round() as usize;
        Self {
            n_trees: trees.min(64),
            n_iters: log2.max(5),
            max_candidates: 60,
            delta: 0.001,
            seed,
        }
    }

    /// Refuses tree, iteration and candidate counts outside `1..=1000` and a `delta` outside `[0, 1]`.
    ///
    /// # Errors
    /// [`AffinityError::InvalidKnnParameter`] naming the parameter.
    pub fn validate(&self) -> Result<(), AffinityError> {
        let bad = |name: &'static str, value: String, rule: &'static str| {
            Err(AffinityError::InvalidKnnParameter { name, value, rule })
        };
        for (name, value) in [
            ("n_trees", self.n_trees),
            ("n_iters", self.n_iters),
            ("max_candidates", self.max_candidates),
        ] {
            if value == 0 || value > 1000 {
                return bad(name, value.to_string(), "between 1 and 1000");
            }
        }
        if !(0.0..=1.0).contains(&self.delta) {
            return bad("delta", self.delta.to_string(), "in [0, 1]");
        }
        Ok(())
    }
}

/// Progress of [`nn_descent_observed`], reported after the trees (round 0) and after every join round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnnRound {
    /// Rounds done: 0 once the trees have seeded the graph, then 1, 2, ...
    pub round: usize,
    /// The bound on rounds ([`NnDescentOptions::n_iters`]); the search may stop earlier.
    pub max_rounds: usize,
    /// Neighbour slots that changed in this round.
    pub changed: usize,
    /// Whether the search stops after this round (converged, or at the bound).
    pub last: bool,
}

/// The approximate `k` nearest other points of every row of `x`, by NN-descent
/// seeded by random-projection trees; same ordering conventions as [`crate::knn`]
/// and the same squared-distance formula (`|a|^2 + |b|^2 - 2 a.b`, products in `R`).
///
/// Leaves hold at most `max(10, k)` points (pynndescent's rule). Time about
/// `O(n^1.14 d)` in practice, memory `O(n k)` plus the trees' `O(n_trees n)`.
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
    nn_descent_observed(x, k, options, &mut |_| {})
}

/// [`nn_descent`], calling `on_round` after the trees and after every round of joins.
///
/// # Errors
/// As [`nn_descent`].
pub fn nn_descent_observed<R: Real>(
    x: ArrayView2<'_, R>,
    k: usize,
    options: &NnDescentOptions,
    on_round: &mut dyn FnMut(KnnRound),
) -> Result<Knn<R>, AffinityError> {
    options.validate()?;
    validate::points(x)?;
    let (n, dim) = x.dim();
    if n < 2 {
        return Err(AffinityError::TooFewPoints { n_points: n, min: 2 });
    }
    validate::k(k, n - 1)?;
    let data = x.as_standard_layout();
    let norms = ssne_tensor::row_sq_norms(x);
    let (Some(data), Some(norms)) = (data.as_slice(), norms.as_slice()) else {
        unreachable!("standard-layout arrays are contiguous");
    };
    let rows = Rows::new(data, dim, norms);
    let base_rng = ChaCha8Rng::seed_from_u64(options.seed);

    let mut heaps = NeighbourHeaps::new(n, k);
    let forest = rp_forest::forest(&rows, n, options.n_trees, k.max(10), options.seed);
    let leaves: Vec<(&[u32], &[u32])> = forest.iter().flat_map(|t| t.leaves()).map(|l| (l, &[][..])).collect();
    let mut changed = join(&rows, &mut heaps, &leaves);
    drop(leaves);
    drop(forest);
    changed += fill_short_rows(&rows, &mut heaps, &base_rng);
    let stop =
        |round: usize, changed: usize| round >= options.n_iters || changed as f64 <= options.delta * (n * k) as f64;
    on_round(KnnRound {
        round: 0,
        max_rounds: options.n_iters,
        changed,
        last: false,
    });

    let mut candidates = Candidates::new(n, options.max_candidates);
    for round in 1..=options.n_iters {
        let mut rng = base_rng.clone();
        rng.set_stream(SAMPLE_STREAM + round as u64);
        candidates.sample(&mut heaps, &rng);
        let groups: Vec<(&[u32], &[u32])> = (0..n).map(|u| (candidates.fresh(u), candidates.stale(u))).collect();
        let changed = join(&rows, &mut heaps, &groups);
        let last = stop(round, changed);
        on_round(KnnRound {
            round,
            max_rounds: options.n_iters,
            changed,
            last,
        });
        if last {
            break;
        }
    }

    let mut indices = Array2::zeros((n, k));
    let mut sq_dists = Array2::from_elem((n, k), R::zero());
    let mut row = Vec::with_capacity(k);
    for i in 0..n {
        heaps.sorted_row(i, &mut row);
        for (c, &(d, j)) in row.iter().enumerate() {
            indices[[i, c]] = j;
            sq_dists[[i, c]] = d;
        }
    }
    Ok(Knn { indices, sq_dists })
}

/// The local join: for every group `(new, old)`, every pair of `new` points and
/// every pair of a `new` with an `old` point is offered to both points' lists.
/// Returns the number of slots that changed.
///
/// Distances are computed in parallel within a chunk of groups, and only
/// pairs that can enter one of the two lists (as the lists stood before the
/// chunk) are kept; the updates are then applied in parallel over blocks of
/// rows, every row taking its offers in group order, so the graph is the one a
/// serial pass would leave, whatever the number of threads.
fn join<R: Real>(rows: &Rows<'_, R>, heaps: &mut NeighbourHeaps<R>, groups: &[(&[u32], &[u32])]) -> usize {
    let n = heaps.n_points();
    // Enough blocks to keep every thread busy; the graph does not depend on their number.
    let rows_per_block = n.div_ceil(4 * rayon::current_num_threads()).max(1);
    let mut changed = 0;
    for chunk in groups.chunks(JOIN_CHUNK) {
        let frozen = &*heaps;
        let updates: Vec<Vec<Update<R>>> = chunk
            .par_iter()
            .map_init(GroupScratch::default, |scratch, &(new, old)| {
                group_updates(rows, frozen, new, old, scratch)
            })
            .collect();
        changed += heaps
            .blocks_mut(rows_per_block)
            .into_par_iter()
            .map(|mut block| {
                let mut entered = 0;
                for u in updates.iter().flatten() {
                    if u.to_p && block.owns(u.p as usize) {
                        entered += usize::from(block.push(u.p as usize, u.d, u.q));
                    }
                    if u.to_q && block.owns(u.q as usize) {
                        entered += usize::from(block.push(u.q as usize, u.d, u.p));
                    }
                }
                entered
            })
            .sum::<usize>();
    }
    changed
}

/// One group's points gathered next to each other: their rows (contiguous, so the
/// group's pairs read them from cache rather than from all over the data), squared
/// norms and list thresholds. Reused from group to group.
struct GroupScratch<R> {
    ids: Vec<u32>,
    rows: Vec<R>,
    norms: Vec<R>,
    thresholds: Vec<R>,
}

impl<R> Default for GroupScratch<R> {
    fn default() -> Self {
        Self {
            ids: Vec::new(),
            rows: Vec::new(),
            norms: Vec::new(),
            thresholds: Vec::new(),
        }
    }
}

/// The pairs of one group that may enter a list, against the graph `frozen`.
fn group_updates<R: Real>(
    rows: &Rows<'_, R>,
    frozen: &NeighbourHeaps<R>,
    new: &[u32],
    old: &[u32],
    scratch: &mut GroupScratch<R>,
) -> Vec<Update<R>> {
    scratch.ids.clear();
    scratch.ids.extend_from_slice(new);
    scratch.ids.extend_from_slice(old);
    scratch.rows.clear();
    scratch.norms.clear();
    scratch.thresholds.clear();
    for &i in &scratch.ids {
        scratch.rows.extend_from_slice(rows.row(i as usize));
        scratch.norms.push(rows.norm(i as usize));
        scratch.thresholds.push(frozen.threshold(i as usize));
    }
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { group_updates_avx2(rows.dim(), frozen, new.len(), scratch) };
        }
    }
    group_updates_portable(rows.dim(), frozen, new.len(), scratch)
}

/// [`group_updates_portable`] on AVX2 registers: the same IEEE operations (no FMA is
/// enabled, so nothing is fused) and so the same bits, about twice as fast here.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn group_updates_avx2<R: Real>(
    dim: usize,
    frozen: &NeighbourHeaps<R>,
    n_new: usize,
    scratch: &GroupScratch<R>,
) -> Vec<Update<R>> {
    group_updates_portable(dim, frozen, n_new, scratch)
}

/// The pairs `(a, b)` of the gathered group with `a` among its first `n_new` points
/// and `b` after `a`, at the distance [`Rows::sq_dist`] gives (the smaller index's
/// norm added first).
#[inline(always)]
fn group_updates_portable<R: Real>(
    dim: usize,
    frozen: &NeighbourHeaps<R>,
    n_new: usize,
    scratch: &GroupScratch<R>,
) -> Vec<Update<R>> {
    let GroupScratch {
        ids,
        rows,
        norms,
        thresholds,
    } = scratch;
    let minus_two = R::from_f64(-2.0);
    let mut out = Vec::new();
    for a in 0..n_new {
        let p = ids[a];
        let row_a = &rows[a * dim..(a + 1) * dim];
        for b in a + 1..ids.len() {
            let q = ids[b];
            if p == q {
                continue;
            }
            let product = minus_two * dot(row_a, &rows[b * dim..(b + 1) * dim]);
            let d = if p < q {
                from_product(product, norms[a], norms[b])
            } else {
                from_product(product, norms[b], norms[a])
            };
            // `<=`: a tie at the threshold still enters with a smaller index. Pairs
            // already linked are dropped here, in parallel, rather than by the
            // push (after a round or two, most pairs are).
            let to_p = d <= thresholds[a] && !frozen.contains(p as usize, q);
            let to_q = d <= thresholds[b] && !frozen.contains(q as usize, p);
            if to_p || to_q {
                out.push(Update { p, q, d, to_p, to_q });
            }
        }
    }
    out
}

/// A pair of the join at squared distance `d`, and which of the two lists it may enter.
struct Update<R> {
    p: u32,
    q: u32,
    d: R,
    to_p: bool,
    to_q: bool,
}

/// Completes the rows the trees left with empty slots (leaves smaller than
/// `k + 1`) with random other points; returns the slots filled. Row `i` draws
/// from word `i * 2^32` of its stream, so the fill does not depend on the order of rows.
fn fill_short_rows<R: Real>(rows: &Rows<'_, R>, heaps: &mut NeighbourHeaps<R>, base_rng: &ChaCha8Rng) -> usize {
    let (n, k) = (heaps.idx.len() / heaps.k(), heaps.k());
    let mut filled = 0;
    for i in 0..n {
        let mut missing = heaps.idx[i * k..(i + 1) * k].iter().filter(|&&j| j == EMPTY).count();
        if missing == 0 {
            continue;
        }
        let mut rng = base_rng.clone();
        rng.set_stream(FILL_STREAM);
        rng.set_word_pos((i as u128) << 32);
        // k <= n - 1, so enough distinct other points exist and the draws end.
        while missing > 0 {
            let j = rng.random_range(0..n);
            if j != i && heaps.push(i, rows.sq_dist(i, j), j as u32) {
                missing -= 1;
                filled += 1;
            }
        }
    }
    filled
}

/// Every point's candidates for one round: up to `cap` new and `cap` old ones,
/// each drawn from its neighbours and reverse neighbours by random priority.
struct Candidates {
    cap: usize,
    new: Vec<u32>,
    new_len: Vec<usize>,
    old: Vec<u32>,
    old_len: Vec<usize>,
}

/// A neighbour (forward or reverse) offered to a point's candidates: its random
/// priority (lower is kept), index, and whether it is new.
#[derive(Clone, Copy)]
struct Offer {
    priority: u32,
    idx: u32,
    fresh: bool,
}

/// An [`Offer`] in one point's pool, with the slot of the point's own list that
/// holds `idx` (or [`NO_SLOT`] when only the reverse edge brought it).
#[derive(Clone, Copy)]
struct PoolEntry {
    priority: u32,
    idx: u32,
    slot: u32,
    fresh: bool,
}

/// [`PoolEntry::slot`] of a candidate that is not in the point's own list.
const NO_SLOT: u32 = u32::MAX;

impl Candidates {
    fn new(n: usize, cap: usize) -> Self {
        Self {
            cap,
            new: vec![0; n * cap],
            new_len: vec![0; n],
            old: vec![0; n * cap],
            old_len: vec![0; n],
        }
    }

    fn fresh(&self, u: usize) -> &[u32] {
        &self.new[u * self.cap..u * self.cap + self.new_len[u]]
    }

    fn stale(&self, u: usize) -> &[u32] {
        &self.old[u * self.cap..u * self.cap + self.old_len[u]]
    }

    /// Draws this round's candidates (slot `s` of row `i` gets the priority at
    /// word `i * 2^32 + s` of `rng`): for each point and each kind (new, old), the
    /// `cap` distinct neighbours and reverse neighbours of lowest priority, in
    /// index order (so the join gathers their rows in memory order). The
    /// neighbours sampled as new candidates are marked old in `heaps`.
    fn sample<R: Real>(&mut self, heaps: &mut NeighbourHeaps<R>, rng: &ChaCha8Rng) {
        let k = heaps.k();
        let n = self.new_len.len();
        let mut priority = vec![0_u32; n * k];
        priority.par_chunks_mut(k).enumerate().for_each(|(i, row)| {
            let mut rng = rng.clone();
            rng.set_word_pos((i as u128) << 32);
            row.iter_mut().for_each(|p| *p = rng.random());
        });
        // Reverse neighbours, grouped by the point they point to, in source order.
        let mut start = vec![0_usize; n + 1];
        for &j in &heaps.idx {
            start[j as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut reverse = vec![
            Offer {
                priority: 0,
                idx: 0,
                fresh: false
            };
            n * k
        ];
        let mut next = start.clone();
        for (slot, &j) in heaps.idx.iter().enumerate() {
            reverse[next[j as usize]] = Offer {
                priority: priority[slot],
                idx: (slot / k) as u32,
                fresh: heaps.fresh[slot],
            };
            next[j as usize] += 1;
        }
        drop(next);
        let cap = self.cap;
        let idx = &heaps.idx;
        self.new
            .par_chunks_mut(cap)
            .zip(self.new_len.par_iter_mut())
            .zip(self.old.par_chunks_mut(cap).zip(self.old_len.par_iter_mut()))
            .zip(heaps.fresh.par_chunks_mut(k))
            .enumerate()
            .for_each_init(Vec::new, |pool, (i, (((new, new_len), (old, old_len)), fresh))| {
                pool.clear();
                pool.extend((0..k).map(|c| PoolEntry {
                    priority: priority[i * k + c],
                    idx: idx[i * k + c],
                    slot: c as u32,
                    fresh: fresh[c],
                }));
                pool.extend(reverse[start[i]..start[i + 1]].iter().map(|o| PoolEntry {
                    priority: o.priority,
                    idx: o.idx,
                    slot: NO_SLOT,
                    fresh: o.fresh,
                }));
                let pool = distinct_offers(pool);
                // Old offers sort first (`false < true`).
                let n_old = pool.partition_point(|e| !e.fresh);
                let (stale, fresh_offers) = pool.split_at_mut(n_old);
                *old_len = lowest_priorities(stale, old);
                *new_len = lowest_priorities(fresh_offers, new);
                // A new neighbour sampled this round is old from the next round on.
                for e in &fresh_offers[..*new_len] {
                    if e.slot != NO_SLOT {
                        fresh[e.slot as usize] = false;
                    }
                }
            });
    }
}

/// Sorts `pool` by (kind, index) and keeps one entry per (kind, index): the lowest
/// priority, with the slot of the point's own list if any entry had one. Returns
/// the distinct entries (`pool`, shortened to them).
fn distinct_offers(pool: &mut Vec<PoolEntry>) -> &mut [PoolEntry] {
    pool.sort_unstable_by_key(|e| (e.fresh, e.idx, e.priority, e.slot));
    // Sorted by priority within a run of equal (kind, index): the kept entry, the
    // first, has the lowest one.
    pool.dedup_by(|e, kept| {
        let same = kept.fresh == e.fresh && kept.idx == e.idx;
        if same {
            kept.slot = kept.slot.min(e.slot);
        }
        same
    });
    pool
}

/// Moves the (at most `out.len()`) entries of lowest `(priority, index)` to the
/// front of `offers`, writes their indices into `out` in index order, and returns how many.
fn lowest_priorities(offers: &mut [PoolEntry], out: &mut [u32]) -> usize {
    let len = offers.len().min(out.len());
    if offers.len() > len && len > 0 {
        offers.select_nth_unstable_by_key(len - 1, |e| (e.priority, e.idx));
    }
    let kept = &mut offers[..len];
    kept.sort_unstable_by_key(|e| e.idx);
    for (o, e) in out.iter_mut().zip(kept.iter()) {
        *o = e.idx;
    }
    len
}

/// Mean fraction of the exact `k` neighbours found by `approx`, over the rows
/// `sample`, the exact neighbours of those rows found by brute force with the
/// same distance formula. A neighbour tied with the exact `k`-th distance counts
/// as found: any of the tied points is a correct answer.
///
/// # Errors
/// [`AffinityError::Empty`] for an empty sample or `k = 0`;
/// [`AffinityError::ShapeMismatch`] when `approx` has not one row per point of `x`;
/// a sampled row out of range is [`AffinityError::PointOutOfRange`].
///
/// # Example
/// ```
/// use ssne_affinity::{knn, knn_recall};
/// use ssne_tensor::ndarray::array;
///
/// let x = array![[0.0_f32], [1.0], [3.0], [7.0]];
/// let exact = knn(x.view(), 2)?;
/// assert_eq!(knn_recall(x.view(), &exact, &[0, 1, 2, 3])?, 1.0);
/// # Ok::<(), ssne_affinity::AffinityError>(())
/// ```
pub fn knn_recall<R: Real>(x: ArrayView2<'_, R>, approx: &Knn<R>, sample: &[usize]) -> Result<f64, AffinityError> {
    let (n, dim) = x.dim();
    let k = approx.k();
    if sample.is_empty() || k == 0 {
        return Err(AffinityError::Empty {
            n_points: sample.len(),
            n_features: k,
        });
    }
    if approx.n_points() != n {
        return Err(AffinityError::ShapeMismatch {
            what: "the points and the neighbour lists",
            left: [n, dim],
            right: [approx.n_points(), k],
        });
    }
    if let Some(&point) = sample.iter().find(|&&i| i >= n) {
        return Err(AffinityError::PointOutOfRange { point, n_points: n });
    }
    let data = x.as_standard_layout();
    let norms = ssne_tensor::row_sq_norms(x);
    let (Some(data), Some(norms)) = (data.as_slice(), norms.as_slice()) else {
        unreachable!("standard-layout arrays are contiguous");
    };
    let rows = Rows::new(data, dim, norms);
    let found: Vec<usize> = sample
        .par_iter()
        .map(|&i| {
            let mut all: Vec<R> = (0..n).filter(|&j| j != i).map(|j| rows.sq_dist(i, j)).collect();
            let kth = match all.len().checked_sub(k) {
                Some(_) => {
                    *all.select_nth_unstable_by(k - 1, |a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal))
                        .1
                }
                None => R::infinity(),
            };
            approx
                .indices
                .row(i)
                .iter()
                .filter(|&&j| (j as usize) < n && j as usize != i && rows.sq_dist(i, j as usize) <= kth)
                .count()
        })
        .collect();
    // Summed in sample order, so the figure is the same on any thread count.
    Ok(found.iter().sum::<usize>() as f64 / (sample.len() * k) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(priority: u32, idx: u32, slot: u32, fresh: bool) -> PoolEntry {
        PoolEntry {
            priority,
            idx,
            slot,
            fresh,
        }
    }

    #[test]
    fn pools_keep_one_entry_per_kind_and_index_with_the_lowest_priority() {
        // Point 4 comes forward (slot 1, priority 9) and reverse (priority 2), both new;
        // point 7 comes new forward and old reverse, so it stays in both kinds.
        let mut pool = vec![
            entry(9, 4, 1, true),
            entry(5, 7, 0, true),
            entry(2, 4, NO_SLOT, true),
            entry(3, 7, NO_SLOT, false),
            entry(8, 1, NO_SLOT, true),
        ];
        let distinct = distinct_offers(&mut pool);
        let got: Vec<(u32, u32, u32, bool)> = distinct.iter().map(|e| (e.priority, e.idx, e.slot, e.fresh)).collect();
        assert_eq!(
            got,
            vec![
                (3, 7, NO_SLOT, false),
                (8, 1, NO_SLOT, true),
                (2, 4, 1, true),
                (5, 7, 0, true)
            ]
        );
        // The two new ones of lowest priority are 4 (2) and 7 (5), written in index order.
        let mut out = [0_u32; 2];
        let n_old = distinct.partition_point(|e| !e.fresh);
        assert_eq!(lowest_priorities(&mut distinct[n_old..], &mut out), 2);
        assert_eq!(out, [4, 7]);
        // A cap above the pool takes all of it.
        let mut wide = [0_u32; 5];
        assert_eq!(lowest_priorities(&mut distinct[..n_old], &mut wide), 1);
        assert_eq!(wide[0], 7);
    }
}
