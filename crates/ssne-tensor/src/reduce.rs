//! Sums whose result does not depend on the number of threads.

use rayon::prelude::*;

use crate::Real;

/// Elements summed serially per block. Fixed, so the grouping of the additions
/// (and therefore the rounding) is the same on any thread count.
pub const SUM_BLOCK: usize = 4096;

/// Sum of `xs` in `f64`: fixed blocks of [`SUM_BLOCK`] elements are summed
/// serially (in parallel across blocks) and the block sums are added in index
/// order, so the result is bitwise reproducible for any thread count.
///
/// # Example
/// ```
/// let xs = vec![0.1_f32; 10_000];
/// let s = ssne_tensor::sum_f64(&xs);
/// assert!((s - 1000.0).abs() < 1e-3);
/// ```
pub fn sum_f64<R: Real>(xs: &[R]) -> f64 {
    sum_blocks_f64(xs, |x| x.to_f64())
}

/// Deterministic blocked sum of `f(x)` over `xs`, in `f64` (see [`sum_f64`]).
pub fn sum_blocks_f64<R: Real, F>(xs: &[R], f: F) -> f64
where
    F: Fn(R) -> f64 + Sync,
{
    if xs.len() <= SUM_BLOCK {
        return xs.iter().map(|&x| f(x)).sum();
    }
    let block_sums: Vec<f64> = xs
        .par_chunks(SUM_BLOCK)
        .map(|c| c.iter().map(|&x| f(x)).sum::<f64>())
        .collect();
    block_sums.iter().sum()
}
