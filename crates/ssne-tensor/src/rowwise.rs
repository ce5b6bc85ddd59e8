//! Numerically stable row-wise softmax and log-sum-exp.

use ndarray::{Array1, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis, Zip};

use crate::Real;

/// Replaces each row of `x` by its softmax, subtracting the row maximum first so
/// that large logits cannot overflow. Rows that are entirely `-inf` become NaN,
/// as the softmax is undefined there.
///
/// # Example
/// ```
/// use ssne_tensor::{softmax_rows, ndarray::array};
/// let mut x = array![[1000.0_f32, 1000.0]];
/// softmax_rows(x.view_mut());
/// assert_eq!(x, array![[0.5, 0.5]]);
/// ```
pub fn softmax_rows<R: Real>(mut x: ArrayViewMut2<'_, R>) {
    Zip::from(x.rows_mut()).par_for_each(softmax_row);
}

/// The softmax of one row, in place: the per-row step of [`softmax_rows`], for
/// callers that already run in parallel over rows (same bits).
///
/// # Example
/// ```
/// use ssne_tensor::{softmax_row, ndarray::array};
/// let mut x = array![0.0_f64, 0.0];
/// softmax_row(x.view_mut());
/// assert_eq!(x, array![0.5, 0.5]);
/// ```
pub fn softmax_row<R: Real>(mut row: ArrayViewMut1<'_, R>) {
    let max = row.iter().fold(R::neg_infinity(), |m, &v| m.max(v));
    let mut total = 0.0_f64;
    row.mapv_inplace(|v| {
        let e = (v - max).exp();
        total += e.to_f64();
        e
    });
    let inv = R::from_f64(1.0 / total);
    row.mapv_inplace(|v| v * inv);
}

/// The logistic function `1 / (1 + exp(-x))`, evaluated so that neither tail
/// overflows. One definition for the tape's `sigmoid` op and the network's
/// tape-free inference, so both give the same bits.
///
/// # Example
/// ```
/// assert_eq!(ssne_tensor::sigmoid(0.0_f32), 0.5);
/// assert_eq!(ssne_tensor::sigmoid(-1000.0_f32), 0.0);
/// ```
pub fn sigmoid<R: Real>(x: R) -> R {
    if x >= R::zero() {
        R::one() / (R::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (R::one() + e)
    }
}

/// `max(x, 0)`, with the derivative at exactly 0 taken as 0 by its users. One
/// definition for the tape's `relu` op and the network's tape-free inference.
///
/// # Example
/// ```
/// assert_eq!(ssne_tensor::relu(-2.0_f32), 0.0);
/// assert_eq!(ssne_tensor::relu(3.0_f64), 3.0);
/// ```
pub fn relu<R: Real>(x: R) -> R {
    if x > R::zero() { x } else { R::zero() }
}

/// The derivative of [`relu`] at the point whose output is `y`: 1 where
/// `y > 0`, else 0 (so 0 at exactly 0). One definition for the tape's backward
/// pass and the network's tape-free vector-Jacobian product.
///
/// # Example
/// ```
/// assert_eq!(ssne_tensor::relu_derivative(2.0_f32), 1.0);
/// assert_eq!(ssne_tensor::relu_derivative(0.0_f32), 0.0);
/// ```
pub fn relu_derivative<R: Real>(y: R) -> R {
    if y > R::zero() { R::one() } else { R::zero() }
}

/// The derivative of `tanh` at the point whose output is `y`: `1 - y²`.
///
/// # Example
/// ```
/// assert_eq!(ssne_tensor::tanh_derivative(0.0_f64), 1.0);
/// ```
pub fn tanh_derivative<R: Real>(y: R) -> R {
    R::one() - y * y
}

/// The derivative of [`sigmoid`] at the point whose output is `y`: `y (1 - y)`.
///
/// # Example
/// ```
/// assert_eq!(ssne_tensor::sigmoid_derivative(0.5_f64), 0.25);
/// ```
pub fn sigmoid_derivative<R: Real>(y: R) -> R {
    y * (R::one() - y)
}

/// The vector-Jacobian product of one row's softmax, in place: `g` becomes
/// `s ⊙ (g - <g, s>)` for the softmax output `s`, with the dot product summed
/// in `f64`.
///
/// # Example
/// ```
/// use ssne_tensor::{softmax_row_vjp, ndarray::array};
/// let mut g = array![1.0_f64, 1.0];
/// softmax_row_vjp(g.view_mut(), array![0.25, 0.75].view());
/// assert_eq!(g, array![0.0, 0.0]); // a softmax ignores a shift of all logits
/// ```
pub fn softmax_row_vjp<R: Real>(mut g: ArrayViewMut1<'_, R>, s: ArrayView1<'_, R>) {
    let dot: f64 = g.iter().zip(&s).map(|(&g, &s)| g.to_f64() * s.to_f64()).sum();
    let dot = R::from_f64(dot);
    Zip::from(&mut g).and(&s).for_each(|g, &s| *g = s * (*g - dot));
}

/// Adds the row `bias` to every row of `x`, in place: a dense layer's bias, the
/// one definition for the tape's `add_bias` op and the network's tape-free
/// inference, so both give the same bits.
///
/// # Panics
/// When `bias` is not as long as a row of `x` (callers check the shapes).
///
/// # Example
/// ```
/// use ssne_tensor::{add_row_bias, ndarray::array};
/// let mut x = array![[1.0_f32, 2.0], [3.0, 4.0]];
/// add_row_bias(x.view_mut(), array![10.0, 20.0].view());
/// assert_eq!(x, array![[11.0, 22.0], [13.0, 24.0]]);
/// ```
pub fn add_row_bias<R: Real>(mut x: ArrayViewMut2<'_, R>, bias: ArrayView1<'_, R>) {
    assert_eq!(x.ncols(), bias.len(), "add_row_bias: bias length");
    for mut row in x.rows_mut() {
        row.zip_mut_with(&bias, |o, &b| *o += b);
    }
}

/// Index of the largest value in each row (the predicted class); ties go to
/// the lower index, and NaN is never the largest.
///
/// # Example
/// ```
/// use ssne_tensor::{argmax_rows, ndarray::array};
/// assert_eq!(argmax_rows(array![[0.1_f32, 0.7, 0.7], [2.0, -1.0, 0.0]].view()), vec![1, 0]);
/// ```
pub fn argmax_rows<R: Real>(x: ArrayView2<'_, R>) -> Vec<u32> {
    x.rows()
        .into_iter()
        .map(|row| {
            let mut best = 0usize;
            for (j, &v) in row.iter().enumerate() {
                if v > row[best] {
                    best = j;
                }
            }
            best as u32
        })
        .collect()
}

/// `log(sum_j exp(x_ij))` for every row, computed as `max + log(sum exp(x - max))`
/// with the sum in `f64`.
///
/// # Example
/// ```
/// use ssne_tensor::{log_sum_exp_rows, ndarray::array};
/// let lse = log_sum_exp_rows(array![[0.0_f64, 0.0], [800.0, 800.0]].view());
/// assert!((lse[0] - 2f64.ln()).abs() < 1e-12);
/// assert!((lse[1] - (800.0 + 2f64.ln())).abs() < 1e-9);
/// ```
pub fn log_sum_exp_rows<R: Real>(x: ArrayView2<'_, R>) -> Array1<R> {
    let mut out = Array1::zeros(x.nrows());
    Zip::from(&mut out).and(x.axis_iter(Axis(0))).par_for_each(|o, row| {
        let max = row.iter().fold(R::neg_infinity(), |m, &v| m.max(v));
        if max == R::neg_infinity() || !max.is_finite() {
            *o = max;
            return;
        }
        let total: f64 = row.iter().map(|&v| (v - max).exp().to_f64()).sum();
        *o = max + R::from_f64(total.ln());
    });
    out
}
