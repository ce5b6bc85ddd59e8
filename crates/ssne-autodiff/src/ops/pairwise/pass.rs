//! One all-pairs pass over a fixed block of rows: each unordered pair `i < j`
//! is visited once, by the block of row `i`, which adds its gradient terms to
//! both rows in a buffer of its own.

use std::ops::Range;

use ssne_tensor::Real;

use super::ln::ln_in;
use crate::kernel::PairKernel;

/// Columns per tile of the width-2 loop: a `64 x 64` tile of `f32` P is 16 KiB.
const COLS_PER_TILE: usize = 64;

/// Sums over one block of rows.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct BlockSums {
    /// `Σ w_ij` over the ordered pairs whose smaller index is in the block.
    pub(crate) z: f64,
    /// `Σ P_ij (ln P_ij - ln w_ij)` over the same pairs, where `P_ij > 0`.
    pub(crate) kl: f64,
    /// `Σ P_ij` over the same pairs.
    pub(crate) p_sum: f64,
    /// Earliest (row-major) invalid entry of P the block read: `(row, col, value)`.
    pub(crate) bad: Option<(usize, usize, f64)>,
}

impl BlockSums {
    /// Adds the sums of `other`, keeping the earlier invalid entry.
    pub(crate) fn merge(&mut self, other: &BlockSums) {
        self.z += other.z;
        self.kl += other.kl;
        self.p_sum += other.p_sum;
        if let Some(found) = other.bad {
            self.note_bad(found);
        }
    }

    /// Keeps the earlier (row-major) of two invalid entries.
    pub(crate) fn note_bad(&mut self, found: (usize, usize, f64)) {
        if self.bad.is_none_or(|(row, col, _)| (found.0, found.1) < (row, col)) {
            self.bad = Some(found);
        }
    }
}

/// The inputs of a pass.
pub(super) struct Pass<'a, R> {
    /// Points in `f64`, row-major, `width` columns.
    pub(super) y: &'a [f64],
    pub(super) width: usize,
    /// `n x n` row-major affinities, or `None` for the repulsion-only pass.
    pub(super) p: Option<&'a [R]>,
    pub(super) n: usize,
}

/// Where a block writes its gradient terms: `width` attraction sums per row
/// (rows `0..n`, only rows from the block start on are touched), then
/// `width` repulsion sums per row. Attraction is `Σ (P_ij + P_ji) u (y_i - y_j)`,
/// repulsion `Σ w u (y_i - y_j)`.
pub(super) struct BlockGrad<'a> {
    pub(super) attr: &'a mut [f64],
    pub(super) rep: &'a mut [f64],
}

impl<R: Real> Pass<'_, R> {
    /// All pairs `(i, j)` with `i` in `rows` and `j > i`.
    pub(super) fn block<K: PairKernel>(
        &self,
        kernel: K,
        rows: Range<usize>,
        mut grad: Option<BlockGrad<'_>>,
    ) -> BlockSums {
        let mut sums = BlockSums::default();
        if let Some(g) = &mut grad {
            // Rows before the block never receive terms from it.
            g.attr[rows.start * self.width..].fill(0.0);
            g.rep[rows.start * self.width..].fill(0.0);
        }
        if self.width == 2 {
            // Columns in tiles, so that the block of Pᵀ being read (`P_ji` for
            // the tile's `j` and the block's `i`) stays in L1 across rows.
            for tile_start in (rows.start..self.n).step_by(COLS_PER_TILE) {
                let cols = tile_start..(tile_start + COLS_PER_TILE).min(self.n);
                for i in rows.clone() {
                    let cols = cols.start.max(i + 1)..cols.end;
                    if !cols.is_empty() {
                        self.row_fixed::<K, 2>(kernel, i, cols, grad.as_mut(), &mut sums);
                    }
                }
            }
        } else {
            for i in rows {
                self.row_dynamic(kernel, i, grad.as_mut(), &mut sums);
            }
        }
        sums
    }

    /// Reads `P_ij` and `P_ji` for `i < j`, adds their loss terms and returns
    /// `P_ij + P_ji`. Every off-diagonal entry is read here exactly once, so
    /// this is also where entries are validated.
    #[inline(always)]
    fn pair_loss<K: PairKernel>(&self, kernel: K, (i, j): (usize, usize), sq_dist: f64, sums: &mut BlockSums) -> f64 {
        let Some(p) = self.p else { return 0.0 };
        let p_ij = p[i * self.n + j].to_f64();
        let p_ji = p[j * self.n + i].to_f64();
        if !(is_affinity(p_ij) && is_affinity(p_ji)) {
            // (i, j) comes before (j, i) in row-major order.
            let found = if is_affinity(p_ij) { (j, i, p_ji) } else { (i, j, p_ij) };
            sums.note_bad(found);
        }
        sums.p_sum += p_ij + p_ji;
        // Joint P is symmetric: then one logarithm serves both ordered pairs.
        if p_ij == p_ji {
            if p_ij > 0.0 {
                sums.kl += 2.0 * kl_term::<R, K>(kernel, p_ij, sq_dist);
            }
        } else {
            if p_ij > 0.0 {
                sums.kl += kl_term::<R, K>(kernel, p_ij, sq_dist);
            }
            if p_ji > 0.0 {
                sums.kl += kl_term::<R, K>(kernel, p_ji, sq_dist);
            }
        }
        p_ij + p_ji
    }

    /// Row `i` against the columns `cols` (all `> i`), for a compile-time
    /// width: the row's own sums stay in registers until the end.
    #[inline(always)]
    fn row_fixed<K: PairKernel, const W: usize>(
        &self,
        kernel: K,
        i: usize,
        cols: Range<usize>,
        grad: Option<&mut BlockGrad<'_>>,
        sums: &mut BlockSums,
    ) {
        let (points, _) = self.y.as_chunks::<W>();
        let y_i = points[i];
        let mut z = 0.0;
        // Local sums, so they live in registers rather than behind `sums`.
        let mut local = BlockSums::default();
        let pair = |y_j: &[f64; W]| {
            let mut diff = [0.0; W];
            let mut sq_dist = 0.0;
            for k in 0..W {
                diff[k] = y_i[k] - y_j[k];
                sq_dist += diff[k] * diff[k];
            }
            (diff, sq_dist)
        };
        let start = cols.start;
        match grad {
            None => {
                for (j, y_j) in (start..).zip(&points[cols]) {
                    let (_, sq_dist) = pair(y_j);
                    z += kernel.weight(sq_dist).0;
                    self.pair_loss(kernel, (i, j), sq_dist, &mut local);
                }
            }
            Some(g) => {
                let (attr_rows, _) = g.attr.as_chunks_mut::<W>();
                let (rep_rows, _) = g.rep.as_chunks_mut::<W>();
                let mut attr_i = [0.0; W];
                let mut rep_i = [0.0; W];
                let rows_j = points[cols.clone()]
                    .iter()
                    .zip(&mut attr_rows[cols.clone()])
                    .zip(&mut rep_rows[cols]);
                for (j, ((y_j, attr_j), rep_j)) in (start..).zip(rows_j) {
                    let (diff, sq_dist) = pair(y_j);
                    let (w, u) = kernel.weight(sq_dist);
                    z += w;
                    let attract = self.pair_loss(kernel, (i, j), sq_dist, &mut local) * u;
                    let repel = w * u;
                    for k in 0..W {
                        attr_i[k] += attract * diff[k];
                        rep_i[k] += repel * diff[k];
                        attr_j[k] -= attract * diff[k];
                        rep_j[k] -= repel * diff[k];
                    }
                }
                for k in 0..W {
                    attr_rows[i][k] += attr_i[k];
                    rep_rows[i][k] += rep_i[k];
                }
            }
        }
        // Each unordered pair stands for both ordered pairs in Z.
        local.z = 2.0 * z;
        sums.merge(&local);
    }

    /// Row `i` for any width.
    fn row_dynamic<K: PairKernel>(
        &self,
        kernel: K,
        i: usize,
        mut grad: Option<&mut BlockGrad<'_>>,
        sums: &mut BlockSums,
    ) {
        let width = self.width;
        let y_i = &self.y[i * width..(i + 1) * width];
        let mut z = 0.0;
        for j in i + 1..self.n {
            let y_j = &self.y[j * width..(j + 1) * width];
            let sq_dist: f64 = y_i.iter().zip(y_j).map(|(a, b)| (a - b) * (a - b)).sum();
            let (w, u) = kernel.weight(sq_dist);
            z += w;
            let p_pair = self.pair_loss(kernel, (i, j), sq_dist, sums);
            if let Some(g) = grad.as_mut() {
                let (attract, repel) = (p_pair * u, w * u);
                for k in 0..width {
                    let diff = y_i[k] - y_j[k];
                    g.attr[i * width + k] += attract * diff;
                    g.rep[i * width + k] += repel * diff;
                    g.attr[j * width + k] -= attract * diff;
                    g.rep[j * width + k] -= repel * diff;
                }
            }
        }
        sums.z += 2.0 * z;
    }
}

/// `p (ln p - ln w(d))` for `p > 0`, the logarithm in precision `R`.
#[inline(always)]
fn kl_term<R: Real, K: PairKernel>(kernel: K, p: f64, sq_dist: f64) -> f64 {
    let (arg, rest) = kernel.kl_parts(p, sq_dist);
    p * ln_in::<R>(arg) + rest
}

/// A valid entry of P: finite and non-negative (NaN is not).
#[inline(always)]
fn is_affinity(p: f64) -> bool {
    (0.0..f64::INFINITY).contains(&p)
}
