//! General matrix multiply through `matrixmultiply`, parallel over row blocks of C.

use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis, s};
use rayon::prelude::*;

use crate::{Real, TensorError};

/// Whether an operand of [`gemm`] is used as stored or transposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trans {
    /// Use the matrix as it is.
    N,
    /// Use the transpose of the matrix.
    T,
}

impl Trans {
    fn apply<'a, R>(self, a: ArrayView2<'a, R>) -> ArrayView2<'a, R> {
        match self {
            Trans::N => a,
            Trans::T => a.reversed_axes(),
        }
    }
}

/// C is cut into about this many blocks along its longer side. The split depends
/// only on the shape (never on the thread count), and each element of C is
/// accumulated over k in the same order whatever the split, so results are
/// bitwise identical on any number of threads.
const TARGET_BLOCKS: usize = 8;
/// Smallest block, so that packing overhead stays small against the work.
const MIN_BLOCK: usize = 64;

/// Block length along a dimension of `len`: about `len / TARGET_BLOCKS`, rounded up to a
/// multiple of 16 (the micro-kernels' tile sizes divide it), at least [`MIN_BLOCK`].
fn block_len(len: usize) -> usize {
    len.div_ceil(TARGET_BLOCKS).next_multiple_of(16).max(MIN_BLOCK)
}

/// Below this many multiply-adds a single call beats the cost of spawning tasks
/// (measured with the `gemm` bench: 64x64x64 is faster serially).
const PAR_MIN_MULADDS: usize = 1 << 20;

/// `C = alpha * op(A) * op(B) + beta * C`, with `op` chosen by [`Trans`].
///
/// Any memory layout (including transposed views and negative strides) is
/// accepted: strides go straight to `matrixmultiply`, so a transpose costs nothing.
/// Large products run in parallel on the current rayon pool over blocks of C
/// (rows or columns, whichever side is longer; sizes fixed by the shape); the
/// result is bitwise identical for any thread count.
///
/// # Errors
/// [`TensorError::ShapeMismatch`] when the inner dimensions differ or C has the
/// wrong shape.
///
/// # Example
/// ```
/// use ssne_tensor::{gemm, Trans, ndarray::array};
/// let a = array![[1.0_f32, 2.0], [3.0, 4.0]];
/// let b = array![[1.0_f32, 0.0], [0.0, 1.0]];
/// let mut c = ndarray::Array2::<f32>::zeros((2, 2));
/// gemm(1.0, a.view(), Trans::T, b.view(), Trans::N, 0.0, c.view_mut())?;
/// assert_eq!(c, array![[1.0, 3.0], [2.0, 4.0]]);
/// # Ok::<(), ssne_tensor::TensorError>(())
/// ```
pub fn gemm<R: Real>(
    alpha: R,
    a: ArrayView2<'_, R>,
    ta: Trans,
    b: ArrayView2<'_, R>,
    tb: Trans,
    beta: R,
    mut c: ArrayViewMut2<'_, R>,
) -> Result<(), TensorError> {
    let a = ta.apply(a);
    let b = tb.apply(b);
    check_shapes(&a, &b, &c)?;
    let (m, k) = a.dim();
    let n = b.ncols();
    if m == 0 || n == 0 {
        return Ok(());
    }
    if m * n * k < PAR_MIN_MULADDS || m.max(n) <= MIN_BLOCK {
        gemm_call(alpha, a, b, beta, c.view_mut());
        return Ok(());
    }
    if m >= n {
        // Tall C: split rows; each task packs its slice of A and all of B (B is the small side).
        let block = block_len(m);
        let c_blocks: Vec<ArrayViewMut2<'_, R>> = c.axis_chunks_iter_mut(Axis(0), block).collect();
        c_blocks.into_par_iter().enumerate().for_each(|(block_idx, c_block)| {
            let start = block_idx * block;
            gemm_call(alpha, a.slice(s![start..start + c_block.nrows(), ..]), b, beta, c_block);
        });
    } else {
        // Wide C (e.g. distances to many reference points): split columns, so no task
        // re-packs the large B.
        let block = block_len(n);
        let c_blocks: Vec<ArrayViewMut2<'_, R>> = c.axis_chunks_iter_mut(Axis(1), block).collect();
        c_blocks.into_par_iter().enumerate().for_each(|(block_idx, c_block)| {
            let start = block_idx * block;
            gemm_call(alpha, a, b.slice(s![.., start..start + c_block.ncols()]), beta, c_block);
        });
    }
    Ok(())
}

/// [`gemm`] on the calling thread only, for callers that already run in
/// parallel over independent pieces of work (the network's inference path),
/// where splitting each product again would only add overhead. Same results
/// as [`gemm`].
///
/// # Errors
/// As [`gemm`].
pub fn gemm_serial<R: Real>(
    alpha: R,
    a: ArrayView2<'_, R>,
    ta: Trans,
    b: ArrayView2<'_, R>,
    tb: Trans,
    beta: R,
    c: ArrayViewMut2<'_, R>,
) -> Result<(), TensorError> {
    let a = ta.apply(a);
    let b = tb.apply(b);
    check_shapes(&a, &b, &c)?;
    if c.nrows() > 0 && c.ncols() > 0 {
        gemm_call(alpha, a, b, beta, c);
    }
    Ok(())
}

/// Errors unless `a b` is defined and has the shape of `c`.
fn check_shapes<R>(a: &ArrayView2<'_, R>, b: &ArrayView2<'_, R>, c: &ArrayViewMut2<'_, R>) -> Result<(), TensorError> {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    if k != k2 {
        return Err(TensorError::ShapeMismatch {
            op: "gemm",
            left: [m, k],
            right: [k2, n],
        });
    }
    if c.dim() != (m, n) {
        return Err(TensorError::ShapeMismatch {
            op: "gemm (output)",
            left: [m, n],
            right: [c.nrows(), c.ncols()],
        });
    }
    Ok(())
}

/// One `matrixmultiply` call; shapes must already be checked.
fn gemm_call<R: Real>(alpha: R, a: ArrayView2<'_, R>, b: ArrayView2<'_, R>, beta: R, mut c: ArrayViewMut2<'_, R>) {
    let (m, k) = a.dim();
    let n = b.ncols();
    let [rsa, csa] = strides(&a);
    let [rsb, csb] = strides(&b);
    let c_strides = c.strides();
    let (rsc, csc) = (c_strides[0], c_strides[1]);
    // SAFETY: the views are valid for their dims and strides (ndarray guarantees it),
    // C is uniquely borrowed, and the shapes were checked by the caller.
    unsafe {
        R::gemm_raw(
            m,
            k,
            n,
            alpha,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            beta,
            c.as_mut_ptr(),
            rsc,
            csc,
        );
    }
}

fn strides<R>(a: &ArrayView2<'_, R>) -> [isize; 2] {
    let s = a.strides();
    [s[0], s[1]]
}

/// `op(A) * op(B)` into a new standard-layout matrix.
///
/// # Errors
/// [`TensorError::ShapeMismatch`] when the inner dimensions differ.
///
/// # Example
/// ```
/// use ssne_tensor::{matmul, Trans, ndarray::array};
/// let a = array![[1.0_f64, 2.0, 3.0]];
/// let c = matmul(a.view(), Trans::N, a.view(), Trans::T)?;
/// assert_eq!(c[[0, 0]], 14.0);
/// # Ok::<(), ssne_tensor::TensorError>(())
/// ```
pub fn matmul<R: Real>(
    a: ArrayView2<'_, R>,
    ta: Trans,
    b: ArrayView2<'_, R>,
    tb: Trans,
) -> Result<Array2<R>, TensorError> {
    let m = ta.apply(a.view()).nrows();
    let n = tb.apply(b.view()).ncols();
    let mut c = Array2::zeros((m, n));
    gemm(R::one(), a, ta, b, tb, R::zero(), c.view_mut())?;
    Ok(c)
}
