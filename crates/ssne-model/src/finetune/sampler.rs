//! Sampling edges (i, j) of a sparse joint P with probability P_ij.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use ssne_affinity::SparseP;

/// Draws edges of a sparse P in proportion to their weight (inverse CDF over
/// the stored entries; O(log nnz) per draw, no per-draw allocation).
#[derive(Debug, Clone)]
pub struct EdgeSampler {
    cumulative: Vec<f64>,
    rows: Vec<u32>,
    cols: Vec<u32>,
}

impl EdgeSampler {
    /// Builds the sampler; `None` when P has no positive entry.
    pub fn new(p: &SparseP<f32>) -> Option<Self> {
        let mut cumulative = Vec::with_capacity(p.nnz());
        let mut rows = Vec::with_capacity(p.nnz());
        let mut cols = Vec::with_capacity(p.nnz());
        let mut total = 0.0_f64;
        for i in 0..p.n_points() {
            let Some((idx, vals)) = p.row(i) else { continue };
            for (&j, &v) in idx.iter().zip(vals) {
                if v > 0.0 && j as usize != i {
                    total += f64::from(v);
                    cumulative.push(total);
                    rows.push(i as u32);
                    cols.push(j);
                }
            }
        }
        (total > 0.0).then_some(EdgeSampler { cumulative, rows, cols })
    }

    /// Number of edges with positive weight.
    pub fn n_edges(&self) -> usize {
        self.cumulative.len()
    }

    /// One edge `(i, j)`.
    pub fn sample(&self, rng: &mut ChaCha8Rng) -> (u32, u32) {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let u = rng.random::<f64>() * total;
        let k = self
            .cumulative
            .partition_point(|&c| c <= u)
            .min(self.cumulative.len() - 1);
        (self.rows[k], self.cols[k])
    }
}
