//! Refined placement of new points: start from the network's output and take
//! gradient steps on each point's own 2-D position, minimising its row of the
//! t-SNE KL against the frozen training map (like openTSNE's `transform`).
//!
//! Each new point's P comes from its k = 3 x perplexity nearest reference
//! inputs (exact search, `ssne-affinity`); its Q is normalised over every
//! reference point (exact up to [`RefineConfig::max_exact_reference`]
//! reference points; beyond, the normaliser is estimated from a fixed seeded
//! subsample of that size, scaled up). Points are independent, so they are
//! refined in parallel and the result does not depend on the thread count.

use rand::seq::index::sample;
use ssne_affinity::{Perplexity, SearchOptions};
use ssne_autodiff::StudentT;
use ssne_autodiff::kernel::{Cauchy, General, PairKernel, cauchy};
use ssne_tensor::ndarray::{Array2, ArrayView2, Axis, Zip};

use crate::error::config_error;
use crate::random_streams::{RngStream, rng_for};
use crate::{ModelError, Result};

/// Settings of the refinement.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RefineConfig {
    /// Gradient steps per point (0 returns the network's output unchanged).
    pub steps: usize,
    /// Perplexity of each new point's affinities to its reference neighbours.
    pub perplexity: f64,
    /// Adam step size as a fraction of the map's spread; decays to 0 (cosine).
    pub step_fraction: f64,
    /// Degrees of freedom of the Student-t kernel (the model's).
    pub dof: f64,
    /// Reference points up to which the normaliser is exact.
    pub max_exact_reference: usize,
    /// Seed of the subsample used beyond `max_exact_reference`.
    pub seed: u64,
}

impl Default for RefineConfig {
    fn default() -> Self {
        // Chosen on the validation split (docs/QUALITY.md): perplexity 50 keeps
        // trustworthiness highest for 0.001 of 10-NN against 30.
        RefineConfig {
            steps: 50,
            perplexity: 50.0,
            step_fraction: 0.05,
            dof: 1.0,
            max_exact_reference: 50_000,
            seed: 0,
        }
    }
}

/// The frozen training map new points are placed against.
#[derive(Debug, Clone, Copy)]
pub struct RefineReference<'a> {
    /// Reference inputs, in the same space as the queries (raw or projected).
    pub inputs: ArrayView2<'a, f32>,
    /// Their 2-D map positions.
    pub map: ArrayView2<'a, f32>,
    /// Their labels, for the label-change summary.
    pub labels: Option<&'a [u32]>,
}

/// Refined positions and how far they moved.
#[derive(Debug, Clone, PartialEq)]
pub struct Refined {
    /// Final positions, `[m, 2]`.
    pub positions: Array2<f32>,
    /// Per point: |refined - start| in units of the reference map's spread.
    pub shifts: Vec<f32>,
    /// Summary figures.
    pub summary: RefineSummary,
}

/// Summary of a refinement.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RefineSummary {
    /// Steps taken per point.
    pub steps: usize,
    /// Mean shift in units of the map's spread (RMS per-axis standard deviation).
    pub mean_shift: f64,
    /// Share of points whose 10-NN label in the map changed (needs labels).
    pub label_change: Option<f64>,
    /// Points whose perplexity search did not converge.
    pub unconverged: usize,
}

/// The row KL(p_i || q_i) of one new point at position `y` and its gradient.
/// `neighbours` are (reference index, p) with p summing to 1; the normaliser
/// runs over `repulsion` (all reference positions, or a subsample weighted by
/// `repulsion_weight`).
pub fn kl_row_and_gradient(
    y: [f64; 2],
    neighbours: &[(usize, f64)],
    map: ArrayView2<'_, f32>,
    repulsion: &[usize],
    repulsion_weight: f64,
    dof: f64,
) -> (f64, [f64; 2]) {
    let kernel = StudentT { dof };
    let factor = kernel.gradient_factor();
    if kernel.is_cauchy() {
        kl_row(Cauchy, factor, y, neighbours, map, repulsion, repulsion_weight)
    } else {
        kl_row(
            General::new(dof),
            factor,
            y,
            neighbours,
            map,
            repulsion,
            repulsion_weight,
        )
    }
}

/// [`kl_row_and_gradient`] for one form of the kernel (`ssne_autodiff::kernel`, its one
/// definition); `factor` is its [`StudentT::gradient_factor`].
fn kl_row<K: PairKernel>(
    kernel: K,
    factor: f64,
    y: [f64; 2],
    neighbours: &[(usize, f64)],
    map: ArrayView2<'_, f32>,
    repulsion: &[usize],
    repulsion_weight: f64,
) -> (f64, [f64; 2]) {
    let (mut z, mut rep) = (0.0_f64, [0.0_f64; 2]);
    for &l in repulsion {
        let dx = y[0] - f64::from(map[[l, 0]]);
        let dy = y[1] - f64::from(map[[l, 1]]);
        let (w, u) = kernel.weight(dx * dx + dy * dy);
        z += w;
        rep[0] += w * u * dx;
        rep[1] += w * u * dy;
    }
    z *= repulsion_weight;
    let (mut kl, mut att) = (z.ln(), [0.0_f64; 2]);
    for &(j, p) in neighbours {
        if p <= 0.0 {
            continue;
        }
        let dx = y[0] - f64::from(map[[j, 0]]);
        let dy = y[1] - f64::from(map[[j, 1]]);
        let sq_dist = dx * dx + dy * dy;
        kl += p * (p.ln() + kernel.neg_ln_weight(sq_dist));
        let u = kernel.u(sq_dist);
        att[0] += p * u * dx;
        att[1] += p * u * dy;
    }
    let scale = repulsion_weight / z;
    (
        kl,
        [factor * (att[0] - scale * rep[0]), factor * (att[1] - scale * rep[1])],
    )
}

/// Points of the repulsion set in structure-of-arrays form, for the vectorised
/// Cauchy (dof = 1) kernel.
struct RepulsionSet {
    xs: Vec<f32>,
    ys: Vec<f32>,
}

/// Lanes of the f32 accumulators: one 256-bit register of independent sums.
/// Spelling the lanes out fixes the order of every addition, so the result is
/// the same on every CPU path (AVX or not) and thread count.
const LANES: usize = 8;
/// Points per block whose lane sums are folded into the `f64` totals: short
/// enough that the f32 partial sums stay accurate.
const BLOCK: usize = 256;

/// `(Z, Σ w² (y - y_l))` for the Cauchy kernel w = 1 / (1 + d²).
type CauchySums = (f64, [f64; 2]);

impl RepulsionSet {
    fn new(map: ArrayView2<'_, f32>, idx: &[usize]) -> Self {
        RepulsionSet {
            xs: idx.iter().map(|&l| map[[l, 0]]).collect(),
            ys: idx.iter().map(|&l| map[[l, 1]]).collect(),
        }
    }

    /// `(Z, Σ w² (y - y_l))` over the set for the Cauchy kernel w = 1 / (1 + d²).
    ///
    /// About 12 operations per pair, among them a division: the whole cost of a
    /// refinement step. With AVX the pairs go eight at a time through explicit
    /// 256-bit operations; the portable loop below does the same IEEE operations
    /// (no FMA anywhere, which would round differently) in the same order, so both
    /// give the same bits.
    fn cauchy_sums(&self, y: [f64; 2]) -> CauchySums {
        let q = [y[0] as f32, y[1] as f32];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx") {
                // SAFETY: the CPU supports AVX, checked just above.
                return unsafe { avx::cauchy_sums(&self.xs, &self.ys, q) };
            }
        }
        cauchy_sums_portable(&self.xs, &self.ys, q)
    }

    /// The gradient of the row KL for dof = 1 (see [`kl_row_and_gradient`], of which
    /// this is the fast form), with the repulsion in vectorised `f32`.
    fn cauchy_gradient(
        &self,
        y: [f64; 2],
        neighbours: &[(usize, f64)],
        map: ArrayView2<'_, f32>,
        weight: f64,
    ) -> [f64; 2] {
        let (z, rep) = self.cauchy_sums(y);
        let z = z * weight;
        let mut att = [0.0_f64; 2];
        for &(j, p) in neighbours {
            let dx = y[0] - f64::from(map[[j, 0]]);
            let dy = y[1] - f64::from(map[[j, 1]]);
            let w = cauchy(dx * dx + dy * dy);
            att[0] += p * w * dx;
            att[1] += p * w * dy;
        }
        let scale = weight / z;
        [2.0 * (att[0] - scale * rep[0]), 2.0 * (att[1] - scale * rep[1])]
    }
}

/// The portable form of [`RepulsionSet::cauchy_sums`] (the compiler leaves it
/// mostly scalar; it is the fallback and the specification of the AVX kernel).
fn cauchy_sums_portable(xs: &[f32], ys: &[f32], q: [f32; 2]) -> CauchySums {
    let mut sums = (0.0, [0.0; 2]);
    for (bx, by) in xs.chunks(BLOCK).zip(ys.chunks(BLOCK)) {
        let mut lanes = [[0.0_f32; LANES]; 3];
        let (cx, rest_x) = bx.as_chunks::<LANES>();
        let (cy, rest_y) = by.as_chunks::<LANES>();
        for (px, py) in cx.iter().zip(cy) {
            for k in 0..LANES {
                let dx = q[0] - px[k];
                let dy = q[1] - py[k];
                let w = cauchy(dx * dx + dy * dy);
                let w2 = w * w;
                lanes[0][k] += w;
                lanes[1][k] += w2 * dx;
                lanes[2][k] += w2 * dy;
            }
        }
        finish_block(&mut sums, lanes, q, rest_x, rest_y);
    }
    sums
}

/// Adds the points left over after the last full chunk of a block to lane 0,
/// then the lanes, in order, to the `f64` totals.
#[inline(always)]
fn finish_block(sums: &mut CauchySums, mut lanes: [[f32; LANES]; 3], q: [f32; 2], rest_x: &[f32], rest_y: &[f32]) {
    for (&px, &py) in rest_x.iter().zip(rest_y) {
        let dx = q[0] - px;
        let dy = q[1] - py;
        let w = cauchy(dx * dx + dy * dy);
        let w2 = w * w;
        lanes[0][0] += w;
        lanes[1][0] += w2 * dx;
        lanes[2][0] += w2 * dy;
    }
    let [z, rx, ry] = lanes;
    for ((z, rx), ry) in z.into_iter().zip(rx).zip(ry) {
        sums.0 += f64::from(z);
        sums.1[0] += f64::from(rx);
        sums.1[1] += f64::from(ry);
    }
}

#[cfg(target_arch = "x86_64")]
mod avx {
    use std::arch::x86_64::{
        __m256, _mm256_add_ps, _mm256_div_ps, _mm256_loadu_ps, _mm256_mul_ps, _mm256_set1_ps, _mm256_setzero_ps,
        _mm256_storeu_ps, _mm256_sub_ps,
    };

    use super::{BLOCK, CauchySums, LANES, finish_block};

    /// [`super::cauchy_sums_portable`] on 256-bit registers, operation for operation.
    /// Several query points per pass over the set (register blocking) and FMA
    /// were measured and left out: the division dominates, blocking gained
    /// nothing, and FMA would change the bits against the portable path.
    #[target_feature(enable = "avx")]
    pub(super) fn cauchy_sums(xs: &[f32], ys: &[f32], q: [f32; 2]) -> CauchySums {
        let one = _mm256_set1_ps(1.0);
        let (qx, qy) = (_mm256_set1_ps(q[0]), _mm256_set1_ps(q[1]));
        let mut sums = (0.0, [0.0; 2]);
        for (bx, by) in xs.chunks(BLOCK).zip(ys.chunks(BLOCK)) {
            let (mut z, mut rx, mut ry) = (_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps());
            let (cx, rest_x) = bx.as_chunks::<LANES>();
            let (cy, rest_y) = by.as_chunks::<LANES>();
            for (px, py) in cx.iter().zip(cy) {
                // SAFETY: each chunk is LANES = 8 contiguous f32, what an unaligned
                // 256-bit load reads.
                let (px, py) = unsafe { (_mm256_loadu_ps(px.as_ptr()), _mm256_loadu_ps(py.as_ptr())) };
                let dx = _mm256_sub_ps(qx, px);
                let dy = _mm256_sub_ps(qy, py);
                // `cauchy(dx² + dy²)` of `ssne_autodiff::kernel`, lane by lane.
                let d = _mm256_add_ps(one, _mm256_add_ps(_mm256_mul_ps(dx, dx), _mm256_mul_ps(dy, dy)));
                let w = _mm256_div_ps(one, d);
                let w2 = _mm256_mul_ps(w, w);
                z = _mm256_add_ps(z, w);
                rx = _mm256_add_ps(rx, _mm256_mul_ps(w2, dx));
                ry = _mm256_add_ps(ry, _mm256_mul_ps(w2, dy));
            }
            finish_block(&mut sums, [store(z), store(rx), store(ry)], q, rest_x, rest_y);
        }
        sums
    }

    #[target_feature(enable = "avx")]
    fn store(v: __m256) -> [f32; LANES] {
        let mut out = [0.0_f32; LANES];
        // SAFETY: `out` holds exactly the 8 f32 an unaligned 256-bit store writes.
        unsafe { _mm256_storeu_ps(out.as_mut_ptr(), v) };
        out
    }
}

/// Neighbours whose majority label counts for the label-change summary.
const LABEL_CHANGE_K: usize = 10;

/// The k-NN label vote in the reference map, the same as
/// [`crate::metrics::knn_predict`] (exact `f64` distances, ties by index, vote
/// ties to the smaller label) but fast enough to run twice per refinement (the
/// brute-force search cost about 0.2 ms per point, more than the refinement).
/// The map points are sorted by x; a query scans outwards from its own x and
/// stops when the x gap alone exceeds its k-th distance, which in 2-D leaves a
/// narrow strip of candidates.
struct MapVotes<'a> {
    /// Map point indices by increasing (x, index).
    order: Vec<u32>,
    /// Their x and y, in that order.
    xs: Vec<f64>,
    ys: Vec<f64>,
    labels: &'a [u32],
    k: usize,
}

impl<'a> MapVotes<'a> {
    fn new(map: ArrayView2<'_, f32>, labels: &'a [u32], k: usize) -> Self {
        // Indices fit u32: reference sets are validated by the kNN search.
        let mut order: Vec<u32> = (0..map.nrows() as u32).collect();
        order.sort_by(|&a, &b| map[[a as usize, 0]].total_cmp(&map[[b as usize, 0]]).then(a.cmp(&b)));
        MapVotes {
            xs: order.iter().map(|&j| f64::from(map[[j as usize, 0]])).collect(),
            ys: order.iter().map(|&j| f64::from(map[[j as usize, 1]])).collect(),
            order,
            labels,
            k: k.min(labels.len()).max(1),
        }
    }

    /// The majority label of the `k` map points nearest to `q`.
    fn vote(&self, q: [f32; 2]) -> u32 {
        let (qx, qy) = (f64::from(q[0]), f64::from(q[1]));
        let n = self.xs.len();
        // The k best (squared distance, index) so far, ascending.
        let mut best: Vec<(f64, u32)> = Vec::with_capacity(self.k + 1);
        let by_distance = |a: &(f64, u32), b: &(f64, u32)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
        let split = self.xs.partition_point(|&x| x < qx);
        let (mut left, mut right) = (split, split);
        loop {
            let gap_left = if left > 0 {
                qx - self.xs[left - 1]
            } else {
                f64::INFINITY
            };
            let gap_right = if right < n { self.xs[right] - qx } else { f64::INFINITY };
            // (Written so that even a NaN query ends: each side is taken only while it has points.)
            let pos = if left > 0 && (right >= n || gap_left <= gap_right) {
                left -= 1;
                left
            } else if right < n {
                right += 1;
                right - 1
            } else {
                break;
            };
            let gap = gap_left.min(gap_right);
            // Equal gaps may still tie the k-th distance with a smaller index: stop
            // only beyond it. Every later candidate has at least this gap.
            if best.len() == self.k && best.last().is_some_and(|w| gap * gap > w.0) {
                break;
            }
            // The distance exactly as the metrics compute it.
            let dx = qx - self.xs[pos];
            let dy = qy - self.ys[pos];
            let candidate = (dx * dx + dy * dy, self.order[pos]);
            if best.len() < self.k || best.last().is_some_and(|w| by_distance(&candidate, w).is_lt()) {
                let at = best.partition_point(|c| by_distance(c, &candidate).is_lt());
                best.insert(at, candidate);
                best.truncate(self.k);
            }
        }
        crate::metrics::vote(best.iter().map(|&(_, j)| j as usize), self.labels)
    }
}

/// RMS per-axis standard deviation of a 2-D map: the unit of shifts.
pub fn map_spread(map: ArrayView2<'_, f32>) -> f64 {
    let n = map.nrows().max(1) as f64;
    let mut var = 0.0;
    for col in map.axis_iter(Axis(1)) {
        let mean = col.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        var += col.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / n;
    }
    (var / map.ncols().max(1) as f64).sqrt()
}

/// Refines `start` (the network's output for `queries`) against `reference`.
///
/// # Errors
/// [`ModelError::Config`] for invalid settings; affinity errors when the
/// perplexity is too large for the reference set; [`ModelError::FeatureCount`]
/// when queries and reference inputs differ in width, and
/// [`ModelError::CountMismatch`] for any other shape that does not fit (all
/// checked before any work is done).
pub fn refine(
    reference: RefineReference<'_>,
    queries: ArrayView2<'_, f32>,
    start: ArrayView2<'_, f32>,
    config: &RefineConfig,
) -> Result<Refined> {
    let (n_ref, m) = (reference.map.nrows(), queries.nrows());
    let counts = [
        ("refinement (columns of the reference map)", 2, reference.map.ncols()),
        (
            "refinement (one reference input per map position)",
            n_ref,
            reference.inputs.nrows(),
        ),
        ("refinement (one start position per query)", m, start.nrows()),
        ("refinement (columns of the start positions)", 2, start.ncols()),
        (
            "the label-change summary (one label per reference point)",
            n_ref,
            reference.labels.map_or(n_ref, <[u32]>::len),
        ),
    ];
    if let Some(&(what, expected, found)) = counts.iter().find(|(_, expected, found)| expected != found) {
        return Err(ModelError::CountMismatch { what, expected, found });
    }
    if n_ref == 0 {
        return Err(ModelError::TooFewPoints {
            what: "refinement (the reference map)",
            needed: 1,
            found: 0,
        });
    }
    if queries.ncols() != reference.inputs.ncols() {
        return Err(ModelError::FeatureCount {
            expected: reference.inputs.ncols(),
            found: queries.ncols(),
        });
    }
    if !(config.step_fraction.is_finite() && config.step_fraction > 0.0) {
        return Err(config_error(
            "refine.step_fraction",
            config.step_fraction,
            "a number > 0",
        ));
    }
    if !(config.dof.is_finite() && config.dof > 0.0) || config.max_exact_reference == 0 {
        return Err(config_error(
            "refine.dof",
            config.dof,
            "dof > 0 and max_exact_reference > 0",
        ));
    }
    let spread = map_spread(reference.map);
    if config.steps == 0 || m == 0 {
        return Ok(Refined {
            positions: start.to_owned(),
            shifts: vec![0.0; m],
            summary: RefineSummary {
                steps: 0,
                mean_shift: 0.0,
                label_change: reference.labels.map(|_| 0.0),
                unconverged: 0,
            },
        });
    }
    let perplexity = Perplexity::new(config.perplexity)?;
    let k = ((3.0 * config.perplexity).floor() as usize).clamp(1, n_ref);
    let knn = ssne_affinity::knn_between(queries, reference.inputs, k)?;
    let cond = ssne_affinity::conditional_knn(&knn, perplexity, &SearchOptions::default())?;
    let repulsion: Vec<usize> = if n_ref <= config.max_exact_reference {
        (0..n_ref).collect()
    } else {
        let mut rng = rng_for(config.seed, RngStream::EdgeSampling);
        let mut idx = sample(&mut rng, n_ref, config.max_exact_reference).into_vec();
        idx.sort_unstable();
        idx
    };
    let repulsion_weight = n_ref as f64 / repulsion.len() as f64;
    let cauchy = (config.dof == 1.0).then(|| RepulsionSet::new(reference.map, &repulsion));
    let lr = config.step_fraction * spread.max(f64::MIN_POSITIVE);
    let mut positions = start.to_owned();
    Zip::indexed(positions.axis_iter_mut(Axis(0))).par_for_each(|i, mut pos| {
        let neighbours: Vec<(usize, f64)> = cond
            .indices
            .row(i)
            .iter()
            .zip(cond.p.row(i))
            .map(|(&j, &p)| (j as usize, f64::from(p)))
            .collect();
        let mut y = [f64::from(pos[0]), f64::from(pos[1])];
        let (mut m1, mut m2) = ([0.0_f64; 2], [0.0_f64; 2]);
        let (b1, b2) = (0.9_f64, 0.999_f64);
        for t in 0..config.steps {
            let g = match &cauchy {
                Some(set) => set.cauchy_gradient(y, &neighbours, reference.map, repulsion_weight),
                None => kl_row_and_gradient(y, &neighbours, reference.map, &repulsion, repulsion_weight, config.dof).1,
            };
            let decay = 0.5 * (1.0 + (std::f64::consts::PI * t as f64 / config.steps as f64).cos());
            let step = lr * decay;
            // Past i32::MAX steps the bias corrections are 1 to the last bit anyway.
            let n = i32::try_from(t + 1).unwrap_or(i32::MAX);
            for a in 0..2 {
                m1[a] = b1 * m1[a] + (1.0 - b1) * g[a];
                m2[a] = b2 * m2[a] + (1.0 - b2) * g[a] * g[a];
                let mhat = m1[a] / (1.0 - b1.powi(n));
                let vhat = m2[a] / (1.0 - b2.powi(n));
                y[a] -= step * mhat / (vhat.sqrt() + 1e-12);
            }
        }
        pos[0] = y[0] as f32;
        pos[1] = y[1] as f32;
    });
    let shifts: Vec<f32> = positions
        .rows()
        .into_iter()
        .zip(start.rows())
        .map(|(a, b)| {
            let d = (f64::from(a[0]) - f64::from(b[0])).hypot(f64::from(a[1]) - f64::from(b[1]));
            (d / spread.max(f64::MIN_POSITIVE)) as f32
        })
        .collect();
    let mean_shift = shifts.iter().map(|&s| f64::from(s)).sum::<f64>() / m as f64;
    let label_change = match reference.labels {
        Some(labels) => {
            let votes = MapVotes::new(reference.map, labels, LABEL_CHANGE_K);
            let changed = Zip::from(start.rows())
                .and(positions.rows())
                .par_map_collect(|a, b| votes.vote([a[0], a[1]]) != votes.vote([b[0], b[1]]));
            Some(changed.iter().filter(|&&c| c).count() as f64 / m as f64)
        }
        None => None,
    };
    Ok(Refined {
        positions,
        shifts,
        summary: RefineSummary {
            steps: config.steps,
            mean_shift,
            label_change,
            unconverged: cond.unconverged.len(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssne_tensor::ndarray::{Array2, array, s};

    #[test]
    fn the_vectorised_cauchy_gradient_matches_the_f64_reference() {
        // 1003 points: several blocks and a remainder that is not a multiple of the lanes.
        let map = Array2::from_shape_fn((1003, 2), |(i, a)| ((i * 37 + a * 11) % 101) as f32 * 0.3 - 15.0);
        let all: Vec<usize> = (0..1003).collect();
        let set = RepulsionSet::new(map.view(), &all);
        let neighbours = [(5usize, 0.5), (17, 0.3), (900, 0.2)];
        for y in [[0.0, 0.0], [3.3, -7.1], [40.0, 2.0]] {
            let (_, reference) = kl_row_and_gradient(y, &neighbours, map.view(), &all, 1.0, 1.0);
            let fast = set.cauchy_gradient(y, &neighbours, map.view(), 1.0);
            for a in 0..2 {
                assert!(
                    (fast[a] - reference[a]).abs() <= 1e-5 * (1.0 + reference[a].abs()),
                    "{fast:?} vs {reference:?}"
                );
            }
        }
    }

    #[test]
    fn map_votes_match_the_metrics_knn_prediction() {
        // A map on a coarse grid: many exact distance ties between neighbours.
        let n = 3001;
        let map = Array2::from_shape_fn((n, 2), |(i, a)| ((i * (13 + 4 * a) + a) % 23) as f32 * 0.5 - 5.0);
        let labels: Vec<u32> = (0..n).map(|i| ((i * 7) % 10) as u32).collect();
        let queries = Array2::from_shape_fn((300, 2), |(i, a)| ((i * (5 + a)) % 29) as f32 * 0.4 - 6.0);
        for k in [1, 10, 50] {
            let votes = MapVotes::new(map.view(), &labels, k);
            let expected = crate::metrics::knn_predict(map.view(), &labels, queries.view(), k).unwrap();
            let got: Vec<u32> = queries.rows().into_iter().map(|q| votes.vote([q[0], q[1]])).collect();
            assert_eq!(got, expected, "k = {k}");
        }
        // Far outside the map, and not a number: still an answer.
        let votes = MapVotes::new(map.view(), &labels, 10);
        let far = array![[1e6_f32, -3.0]];
        assert_eq!(
            votes.vote([1e6, -3.0]),
            crate::metrics::knn_predict(map.view(), &labels, far.view(), 10).unwrap()[0]
        );
        // A NaN query is as far from every point as from any other (total
        // order), so the index tie-break picks the first k points: the vote is
        // their majority, whatever the query.
        let first_k = MapVotes::new(map.slice(s![..10, ..]), &labels[..10], 10);
        assert_eq!(votes.vote([f32::NAN, 0.0]), first_k.vote([0.0, 0.0]));
        assert_eq!(votes.vote([f32::NAN, f32::NAN]), first_k.vote([3.0, -1.0]));
    }

    type CauchyKernel = fn(&[f32], &[f32], [f32; 2]) -> CauchySums;

    /// The AVX path on this machine, or `None` (said on stderr) where there is none.
    #[allow(clippy::print_stderr, reason = "a test that cannot run its case says so")]
    fn avx_path() -> Option<CauchyKernel> {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx") {
                // SAFETY: only called on a CPU with AVX, checked just above.
                return Some(|xs, ys, q| unsafe { avx::cauchy_sums(xs, ys, q) });
            }
        }
        eprintln!("no AVX on this CPU: the AVX path of the refine kernel is not tested here");
        None
    }

    #[test]
    fn every_cpu_path_gives_the_same_bits() {
        let avx = avx_path();
        // Set sizes around the lane and block boundaries, and one of MNIST's size.
        for n in [1usize, 7, 8, 9, 255, 256, 257, 1003, 8000] {
            let map = Array2::from_shape_fn((n, 2), |(i, a)| ((i * 53 + a * 29) % 211) as f32 * 0.17 - 18.0);
            let all: Vec<usize> = (0..n).collect();
            let set = RepulsionSet::new(map.view(), &all);
            for y in [[0.0, 0.0], [-2.6, 9.1], [150.0, -3.0]] {
                let q = [y[0] as f32, y[1] as f32];
                let portable = cauchy_sums_portable(&set.xs, &set.ys, q);
                let dispatched = set.cauchy_sums(y);
                assert_eq!(portable.0.to_bits(), dispatched.0.to_bits(), "n = {n}");
                assert_eq!(portable.1.map(f64::to_bits), dispatched.1.map(f64::to_bits), "n = {n}");
                if let Some(avx) = avx {
                    let explicit = avx(&set.xs, &set.ys, q);
                    assert_eq!(portable.0.to_bits(), explicit.0.to_bits(), "AVX, n = {n}");
                    assert_eq!(
                        portable.1.map(f64::to_bits),
                        explicit.1.map(f64::to_bits),
                        "AVX, n = {n}"
                    );
                }
            }
        }
    }
}
