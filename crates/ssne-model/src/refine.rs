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
use ssne_tensor::ndarray::{Array2, ArrayView2, Axis, Zip};

use crate::batch::{RngStream, rng_for};
use crate::error::config_error;
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
        RefineConfig {
            steps: 50,
            perplexity: 30.0,
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
    let c = (dof + 1.0) / dof;
    let kernel = |d2: f64| -> (f64, f64) {
        let u = 1.0 / (1.0 + d2 / dof);
        let w = if dof == 1.0 { u } else { u.powf((dof + 1.0) / 2.0) };
        (w, u)
    };
    let (mut z, mut rep) = (0.0_f64, [0.0_f64; 2]);
    for &l in repulsion {
        let dx = y[0] - f64::from(map[[l, 0]]);
        let dy = y[1] - f64::from(map[[l, 1]]);
        let (w, u) = kernel(dx * dx + dy * dy);
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
        let (w, u) = kernel(dx * dx + dy * dy);
        kl += p * (p.ln() - w.ln());
        att[0] += p * u * dx;
        att[1] += p * u * dy;
    }
    let scale = repulsion_weight / z;
    (kl, [c * (att[0] - scale * rep[0]), c * (att[1] - scale * rep[1])])
}

/// Points of the repulsion set in structure-of-arrays form, for the vectorised
/// Cauchy (dof = 1) kernel.
struct RepulsionSet {
    xs: Vec<f32>,
    ys: Vec<f32>,
}

/// Lanes of the f32 accumulators: eight independent sums let the compiler
/// vectorise the loop without reassociating (so the result is fixed by the code).
const LANES: usize = 8;
/// Points per block whose lane sums are folded into the `f64` totals.
const BLOCK: usize = 256;

impl RepulsionSet {
    fn new(map: ArrayView2<'_, f32>, idx: &[usize]) -> Self {
        RepulsionSet {
            xs: idx.iter().map(|&l| map[[l, 0]]).collect(),
            ys: idx.iter().map(|&l| map[[l, 1]]).collect(),
        }
    }

    /// `(Z, Σ w² (y - y_l))` over the set for the Cauchy kernel w = 1 / (1 + d²).
    fn cauchy_sums(&self, y: [f64; 2]) -> (f64, [f64; 2]) {
        let (yx, yy) = (y[0] as f32, y[1] as f32);
        let (mut z, mut rx, mut ry) = (0.0_f64, 0.0_f64, 0.0_f64);
        for (bx, by) in self.xs.chunks(BLOCK).zip(self.ys.chunks(BLOCK)) {
            let (mut lz, mut lx, mut ly) = ([0.0_f32; LANES], [0.0_f32; LANES], [0.0_f32; LANES]);
            let mut cx = bx.chunks_exact(LANES);
            let mut cy = by.chunks_exact(LANES);
            for (px, py) in (&mut cx).zip(&mut cy) {
                for k in 0..LANES {
                    let dx = yx - px[k];
                    let dy = yy - py[k];
                    let w = 1.0 / (1.0 + dx * dx + dy * dy);
                    let w2 = w * w;
                    lz[k] += w;
                    lx[k] += w2 * dx;
                    ly[k] += w2 * dy;
                }
            }
            for (&px, &py) in cx.remainder().iter().zip(cy.remainder()) {
                let dx = yx - px;
                let dy = yy - py;
                let w = 1.0 / (1.0 + dx * dx + dy * dy);
                lz[0] += w;
                lx[0] += w * w * dx;
                ly[0] += w * w * dy;
            }
            for k in 0..LANES {
                z += f64::from(lz[k]);
                rx += f64::from(lx[k]);
                ry += f64::from(ly[k]);
            }
        }
        (z, [rx, ry])
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
            let w = 1.0 / (1.0 + dx * dx + dy * dy);
            att[0] += p * w * dx;
            att[1] += p * w * dy;
        }
        let scale = weight / z;
        [2.0 * (att[0] - scale * rep[0]), 2.0 * (att[1] - scale * rep[1])]
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
/// perplexity is too large for the reference set; shape mismatches as
/// [`ModelError::FeatureCount`].
pub fn refine(
    reference: RefineReference<'_>,
    queries: ArrayView2<'_, f32>,
    start: ArrayView2<'_, f32>,
    config: &RefineConfig,
) -> Result<Refined> {
    let (n_ref, m) = (reference.map.nrows(), queries.nrows());
    if reference.inputs.nrows() != n_ref || reference.map.ncols() != 2 || start.dim() != (m, 2) {
        return Err(ModelError::TooFewPoints {
            what: "refinement (one map position per reference input and per query)",
            needed: n_ref,
            found: reference.inputs.nrows(),
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
            let n = (t + 1) as i32;
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
            let before = crate::metrics::knn_predict(reference.map, labels, start, 10)?;
            let after = crate::metrics::knn_predict(reference.map, labels, positions.view(), 10)?;
            Some(before.iter().zip(&after).filter(|(a, b)| a != b).count() as f64 / m as f64)
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
    use ssne_tensor::ndarray::Array2;

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
}
