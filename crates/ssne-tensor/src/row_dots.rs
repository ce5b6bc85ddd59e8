//! `C = A Bᵀ` by dot products of contiguous rows, for products where A has a
//! handful of rows.
//!
//! A GEMM packs its operands into panels on every call; when A has one or two
//! rows (the backward pass of one point through a layer of a network, whose
//! weight is `[inputs, outputs]` row-major) packing B costs more than the
//! multiply itself. Here every element of C is one dot product of a row of A
//! with a row of B, read where they lie, in eight-lane partial sums.

use ndarray::{ArrayView2, ArrayViewMut2};

use crate::sparse::{fma_available, mul_add};
use crate::{Real, TensorError};

/// Lanes of one partial-sum vector (a 256-bit register of `f32`).
const LANES: usize = 8;

/// `C = A Bᵀ`: `c[i, j] = a_i · b_j`, with A `[m, k]`, B `[n, k]` and C `[m, n]`.
///
/// Meant for a small `m`: B is read once per pair of rows of A, straight from
/// its rows, with no packing, so one call costs `m n k` multiply-adds and
/// nothing else. Rows of A and B that are not contiguous are copied first.
/// Each element is summed in a fixed order (eight lane sums over the columns,
/// then the lanes in order), so results never depend on the thread count; on
/// x86-64 CPUs with AVX2 and FMA the multiply-adds are fused, so the last bit
/// may differ from CPUs without them (and from a GEMM's order).
///
/// # Errors
/// [`TensorError::ShapeMismatch`] when A and B differ in width or C is not
/// `[m, n]`.
///
/// # Example
/// ```
/// use ssne_tensor::{gemm_nt_rows, ndarray::{array, Array2}};
/// let a = array![[1.0_f32, 2.0, 3.0]];
/// let b = array![[1.0_f32, 0.0, 0.0], [1.0, 1.0, 1.0]];
/// let mut c = Array2::zeros((1, 2));
/// gemm_nt_rows(a.view(), b.view(), c.view_mut())?;
/// assert_eq!(c, array![[1.0, 6.0]]);
/// # Ok::<(), ssne_tensor::TensorError>(())
/// ```
pub fn gemm_nt_rows<R: Real>(
    a: ArrayView2<'_, R>,
    b: ArrayView2<'_, R>,
    mut c: ArrayViewMut2<'_, R>,
) -> Result<(), TensorError> {
    let (m, k) = a.dim();
    let n = b.nrows();
    if b.ncols() != k {
        return Err(TensorError::ShapeMismatch {
            op: "gemm_nt_rows",
            left: [m, k],
            right: [n, b.ncols()],
        });
    }
    if c.dim() != (m, n) {
        return Err(TensorError::ShapeMismatch {
            op: "gemm_nt_rows (output)",
            left: [m, n],
            right: [c.nrows(), c.ncols()],
        });
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    let a = a.as_standard_layout();
    let b = b.as_standard_layout();
    // Cannot fail: `as_standard_layout` gives contiguous row-major arrays.
    let a = a.as_slice().expect("standard layout");
    let b = b.as_slice().expect("standard layout");
    #[cfg(target_arch = "x86_64")]
    {
        if fma_available() {
            // SAFETY: the CPU has AVX2 and FMA (checked just above).
            unsafe { products_fma(a, b, k, &mut c) };
            return Ok(());
        }
    }
    products::<R, false>(a, b, k, &mut c);
    Ok(())
}

/// [`products`] compiled with AVX2 and FMA: the lane sums become vector FMAs.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn products_fma<R: Real>(a: &[R], b: &[R], k: usize, c: &mut ArrayViewMut2<'_, R>) {
    products::<R, true>(a, b, k, c);
}

/// Every element of C, two rows of A at a time so that each row of B is read
/// once per pair.
#[inline(always)]
fn products<R: Real, const FMA: bool>(a: &[R], b: &[R], k: usize, c: &mut ArrayViewMut2<'_, R>) {
    let (m, n) = c.dim();
    let mut i = 0;
    while i + 2 <= m {
        let (a0, a1) = (&a[i * k..(i + 1) * k], &a[(i + 1) * k..(i + 2) * k]);
        for j in 0..n {
            let [d0, d1] = dot2::<R, FMA>(a0, a1, &b[j * k..(j + 1) * k]);
            c[[i, j]] = d0;
            c[[i + 1, j]] = d1;
        }
        i += 2;
    }
    if i < m {
        let a0 = &a[i * k..(i + 1) * k];
        for j in 0..n {
            c[[i, j]] = dot1::<R, FMA>(a0, &b[j * k..(j + 1) * k]);
        }
    }
}

/// `[a0 · b, a1 · b]`, each in eight lane sums, then the lanes in order.
#[inline(always)]
fn dot2<R: Real, const FMA: bool>(a0: &[R], a1: &[R], b: &[R]) -> [R; 2] {
    let (b_chunks, b_rest) = b.as_chunks::<LANES>();
    let (a0_chunks, a0_rest) = a0.as_chunks::<LANES>();
    let (a1_chunks, a1_rest) = a1.as_chunks::<LANES>();
    let mut acc0 = [R::zero(); LANES];
    let mut acc1 = [R::zero(); LANES];
    for ((bc, c0), c1) in b_chunks.iter().zip(a0_chunks).zip(a1_chunks) {
        for t in 0..LANES {
            acc0[t] = mul_add::<R, FMA>(c0[t], bc[t], acc0[t]);
            acc1[t] = mul_add::<R, FMA>(c1[t], bc[t], acc1[t]);
        }
    }
    for ((&bv, &v0), &v1) in b_rest.iter().zip(a0_rest).zip(a1_rest) {
        acc0[0] = mul_add::<R, FMA>(v0, bv, acc0[0]);
        acc1[0] = mul_add::<R, FMA>(v1, bv, acc1[0]);
    }
    [lane_sum(&acc0), lane_sum(&acc1)]
}

/// `a · b`, as [`dot2`] does for one row.
#[inline(always)]
fn dot1<R: Real, const FMA: bool>(a: &[R], b: &[R]) -> R {
    let (b_chunks, b_rest) = b.as_chunks::<LANES>();
    let (a_chunks, a_rest) = a.as_chunks::<LANES>();
    let mut acc = [R::zero(); LANES];
    for (bc, ac) in b_chunks.iter().zip(a_chunks) {
        for t in 0..LANES {
            acc[t] = mul_add::<R, FMA>(ac[t], bc[t], acc[t]);
        }
    }
    for (&bv, &av) in b_rest.iter().zip(a_rest) {
        acc[0] = mul_add::<R, FMA>(av, bv, acc[0]);
    }
    lane_sum(&acc)
}

/// The lanes summed pairwise in a fixed tree: `((0+4)+(2+6)) + ((1+5)+(3+7))`,
/// the order of a vector's halving reduction.
#[inline(always)]
fn lane_sum<R: Real>(acc: &[R; LANES]) -> R {
    let h = [acc[0] + acc[4], acc[1] + acc[5], acc[2] + acc[6], acc[3] + acc[7]];
    let q = [h[0] + h[2], h[1] + h[3]];
    q[0] + q[1]
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::*;

    fn matrix(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        Array2::from_shape_simple_fn((rows, cols), || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        })
    }

    /// Odd and even row counts, widths below, at and above a lane multiple,
    /// transposed (non-contiguous) operands: the same products as a naive sum.
    #[test]
    fn equals_the_naive_product_on_every_shape_and_layout() {
        for (m, n, k) in [(1, 1, 1), (1, 7, 8), (2, 5, 9), (3, 4, 100), (5, 3, 17), (4, 784, 100)] {
            let a = matrix(m, k, 1);
            let b = matrix(n, k, 2);
            let mut c = Array2::zeros((m, n));
            gemm_nt_rows(a.view(), b.view(), c.view_mut()).unwrap();
            let naive = a.dot(&b.t());
            for (x, y) in c.iter().zip(&naive) {
                assert!((x - y).abs() <= 1e-12 * (1.0 + y.abs()), "{m}x{n}x{k}: {x} vs {y}");
            }
            // The same operands stored transposed, as views.
            let (at, bt) = (a.t().to_owned(), b.t().to_owned());
            let mut c2 = Array2::zeros((m, n));
            gemm_nt_rows(at.t(), bt.t(), c2.view_mut()).unwrap();
            assert_eq!(c, c2);
            let a32 = a.mapv(|v| v as f32);
            let b32 = b.mapv(|v| v as f32);
            let mut c32 = Array2::<f32>::zeros((m, n));
            gemm_nt_rows(a32.view(), b32.view(), c32.view_mut()).unwrap();
            for (x, y) in c32.iter().zip(&naive) {
                assert!(
                    (f64::from(*x) - y).abs() <= 1e-5 * (1.0 + y.abs()),
                    "{m}x{n}x{k} f32: {x} vs {y}"
                );
            }
        }
    }

    #[test]
    fn shape_errors_are_typed_and_empty_products_are_fine() {
        let a = matrix(2, 3, 1);
        let mut c = Array2::zeros((2, 2));
        assert!(matches!(
            gemm_nt_rows(a.view(), matrix(2, 4, 2).view(), c.view_mut()),
            Err(TensorError::ShapeMismatch { op: "gemm_nt_rows", .. })
        ));
        assert!(matches!(
            gemm_nt_rows(a.view(), matrix(3, 3, 2).view(), c.view_mut()),
            Err(TensorError::ShapeMismatch {
                op: "gemm_nt_rows (output)",
                ..
            })
        ));
        let mut empty = Array2::zeros((0, 2));
        gemm_nt_rows(matrix(0, 3, 1).view(), matrix(2, 3, 2).view(), empty.view_mut()).unwrap();
    }
}
