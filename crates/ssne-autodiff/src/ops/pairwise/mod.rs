//! The fused all-pairs pass shared by the t-SNE losses: Student-t weights in
//! `f64`, rows split into fixed blocks run in parallel, block results combined
//! in index order, so results do not depend on the thread count.

mod ln;
mod pass;

use rayon::prelude::*;
use ssne_tensor::Real;
use ssne_tensor::ndarray::{Array2, ArrayView2, ArrayViewMut2};

use self::pass::{BlockGrad, BlockSums, Pass};
use crate::StudentT;
use crate::backward::GradSink;
use crate::kernel::{Cauchy, General, PairKernel};

/// Rows per parallel task. Fixed, so the grouping of every floating-point sum
/// is the same on any number of threads. Each task keeps a gradient buffer as
/// large as the gradient, so this also bounds the memory: `n² · 2d / 64` values.
const ROWS_PER_TASK: usize = 64;

/// Work space of the fused kernels, kept by the tape between calls.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// General `f64` work space (also used by `add_bias` and cross-entropy).
    pub(crate) f64s: Vec<f64>,
    /// The points in `f64`, row-major, `width` columns.
    y: Vec<f64>,
    /// One `2 n width` gradient buffer per block (see [`BlockGrad`]).
    block_grads: Vec<f64>,
    /// Per row: `width` attraction sums, then `width` repulsion sums.
    acc: Vec<f64>,
    blocks: Vec<BlockSums>,
    width: usize,
}

/// Results of [`Scratch::run`], combined over blocks in index order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Totals {
    /// `Σ_{i≠j} w_ij`.
    pub(crate) z: f64,
    /// `Σ_{i≠j, P_ij>0} P_ij (ln P_ij - ln w_ij)`.
    pub(crate) kl: f64,
    /// `Σ_{i≠j} P_ij`.
    pub(crate) p_sum: f64,
    /// The first invalid off-diagonal entry of P in row-major order.
    pub(crate) bad: Option<(usize, usize, f64)>,
}

impl Scratch {
    /// Runs the all-pairs pass over the rows of `y`.
    ///
    /// Always computes Z; with `p`, also the KL sum, `Σ P` and validation of
    /// P; with `with_grad`, also, per row `i`, the attraction sums
    /// `Σ_j (P_ij + P_ji) u_ij (y_i - y_j)` and repulsion sums
    /// `Σ_j w_ij u_ij (y_i - y_j)`, where `u = 1 / (1 + d/dof)`.
    ///
    /// `p` must be `n x n` in standard layout (callers check).
    pub(crate) fn run<R: Real>(
        &mut self,
        y: ArrayView2<'_, R>,
        p: Option<&[R]>,
        kernel: StudentT,
        with_grad: bool,
    ) -> Totals {
        let n = y.nrows();
        // A zero-width embedding has all distances 0; padding it to one zero
        // column gives the same sums and keeps chunk sizes non-zero.
        let width = y.ncols().max(1);
        self.width = width;
        self.y.clear();
        self.y.resize(n * width, 0.0);
        for (dst, src) in self.y.chunks_exact_mut(width).zip(y.rows()) {
            dst.iter_mut().zip(src).for_each(|(d, &s)| *d = s.to_f64());
        }
        let n_blocks = n.div_ceil(ROWS_PER_TASK);
        self.blocks.clear();
        self.blocks.resize(n_blocks, BlockSums::default());
        self.acc.clear();
        self.acc.resize(n * 2 * width, 0.0);
        if with_grad {
            let needed = n_blocks * 2 * n * width;
            if self.block_grads.len() < needed {
                // Only grows; each block clears the part it uses.
                self.block_grads.resize(needed, 0.0);
            }
        }

        let pass = Pass {
            y: &self.y,
            width,
            p,
            n,
        };
        let block_grads = with_grad.then_some(&mut self.block_grads[..]);
        if kernel.is_cauchy() {
            run_blocks(&pass, Cauchy, block_grads, &mut self.blocks);
        } else {
            run_blocks(&pass, General::new(kernel.dof), block_grads, &mut self.blocks);
        }
        if with_grad {
            self.reduce_block_grads(n);
        }

        let mut totals = Totals {
            z: 0.0,
            kl: 0.0,
            p_sum: 0.0,
            bad: None,
        };
        let mut first_bad = BlockSums::default();
        for block in &self.blocks {
            totals.z += block.z;
            totals.kl += block.kl;
            totals.p_sum += block.p_sum;
            if let Some(found) = block.bad {
                first_bad.note_bad(found);
            }
        }
        totals.bad = first_bad.bad;
        totals
    }

    /// `acc[j] = Σ_b block_grads[b][j]` over the blocks at or before row `j`'s,
    /// in block order: rows in parallel, each row's sum serial.
    fn reduce_block_grads(&mut self, n: usize) {
        let width = self.width;
        let block_len = 2 * n * width;
        let block_grads = &self.block_grads;
        self.acc.par_chunks_mut(2 * width).enumerate().for_each(|(j, acc_row)| {
            let (attr, rep) = acc_row.split_at_mut(width);
            for block in block_grads.chunks_exact(block_len).take(j / ROWS_PER_TASK + 1) {
                let (block_attr, block_rep) = block.split_at(n * width);
                for k in 0..width {
                    attr[k] += block_attr[j * width + k];
                    rep[k] += block_rep[j * width + k];
                }
            }
        });
    }

    /// The attraction sums of row `i` (after [`run`](Self::run) with a gradient).
    pub(crate) fn attraction_mut(&mut self, i: usize) -> &mut [f64] {
        let w = self.width;
        &mut self.acc[i * 2 * w..i * 2 * w + w]
    }

    /// Row `i` of the points in `f64` (after [`run`](Self::run)).
    pub(crate) fn point(&self, i: usize) -> &[f64] {
        &self.y[i * self.width..(i + 1) * self.width]
    }

    /// `grad[i, k] = attraction_ik * attraction_scale - repulsion_ik * repulsion_scale`.
    pub(crate) fn write_gradient<R: Real>(
        &self,
        mut grad: ArrayViewMut2<'_, R>,
        attraction_scale: f64,
        repulsion_scale: f64,
    ) {
        let w = self.width;
        for (mut row, acc) in grad.rows_mut().into_iter().zip(self.acc.chunks_exact(2 * w)) {
            let (attr, rep) = acc.split_at(w);
            for (k, g) in row.iter_mut().enumerate() {
                *g = R::from_f64(attr[k] * attraction_scale - rep[k] * repulsion_scale);
            }
        }
    }
}

/// Runs every block of rows, in parallel, each into its own gradient buffer.
fn run_blocks<R: Real, K: PairKernel>(
    pass: &Pass<'_, R>,
    kernel: K,
    block_grads: Option<&mut [f64]>,
    blocks: &mut [BlockSums],
) {
    let rows = |block_idx: usize| block_idx * ROWS_PER_TASK..((block_idx + 1) * ROWS_PER_TASK).min(pass.n);
    match block_grads {
        Some(block_grads) => {
            let block_len = 2 * pass.n * pass.width;
            block_grads
                .par_chunks_mut(block_len)
                .zip(blocks.par_iter_mut())
                .enumerate()
                .for_each(|(block_idx, (buffer, sums))| {
                    let (attr, rep) = buffer.split_at_mut(pass.n * pass.width);
                    *sums = pass.block(kernel, rows(block_idx), Some(BlockGrad { attr, rep }));
                });
        }
        None => blocks
            .par_iter_mut()
            .enumerate()
            .for_each(|(block_idx, sums)| *sums = pass.block(kernel, rows(block_idx), None)),
    }
}

/// `dy += g * grad_y`, the gradient the fused forward pass stored.
pub(crate) fn scalar_with_grad_backward<R: Real>(
    sink: &mut GradSink<'_, R>,
    y: usize,
    y_grad: Option<ArrayView2<'_, R>>,
    grad: Array2<R>,
) {
    if let Some(y_grad) = y_grad {
        let scale = grad[[0, 0]];
        sink.accumulate(y, |dy, acc| acc.write_map(dy, y_grad, |g| g * scale));
    }
    sink.recycle(grad);
}
