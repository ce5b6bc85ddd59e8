//! The Student-t similarity kernel of the t-SNE losses: the one definition of its formula.
//!
//! [`StudentT`] is the parameter the losses take; [`Cauchy`] (`dof = 1`) and [`General`] are the
//! forms the fused all-pairs loops and `ssne_model::refine` evaluate, through [`PairKernel`], and
//! [`cauchy`] is the `dof = 1` weight in any precision (the `f32` lanes of the refinement's
//! vectorised repulsion use it). Everything else that needs a weight, `-ln w` or the factor of
//! its derivative calls these, so the kernel is written once.

use ssne_tensor::Real;

use crate::{AutodiffError, Result};

/// The heavy-tailed similarity `w(d²) = (1 + d²/dof)^(-(dof + 1)/2)` of two
/// embedded points at squared distance `d²`.
///
/// `dof = 1` (the default) is the Cauchy kernel `1 / (1 + d²)` of standard
/// t-SNE and takes a faster path; smaller `dof` gives heavier tails (more
/// separated clusters), larger `dof` approaches a Gaussian.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StudentT {
    /// Degrees of freedom `alpha`; must be finite and positive.
    pub dof: f64,
}

impl Default for StudentT {
    fn default() -> Self {
        Self { dof: 1.0 }
    }
}

impl StudentT {
    /// The kernel weight for a squared distance, by [`Cauchy`] for `dof = 1` and [`General`]
    /// otherwise (the forms the losses use).
    ///
    /// # Example
    /// ```
    /// use ssne_autodiff::StudentT;
    /// assert_eq!(StudentT::default().weight(3.0), 0.25);
    /// assert!((StudentT { dof: 2.0 }.weight(2.0) - 2f64.powf(-1.5)).abs() < 1e-15);
    /// ```
    pub fn weight(&self, sq_dist: f64) -> f64 {
        if self.is_cauchy() {
            Cauchy.weight(sq_dist).0
        } else {
            General::new(self.dof).weight(sq_dist).0
        }
    }

    /// Whether `dof = 1`, the case with its own transcendental-free form [`Cauchy`].
    pub fn is_cauchy(&self) -> bool {
        self.dof == 1.0
    }

    /// `(dof + 1) / dof`: the gradient of `-ln w` with respect to `y_i` is
    /// `gradient_factor · u · (y_i - y_j)`, with `u` from [`PairKernel::weight`].
    pub fn gradient_factor(&self) -> f64 {
        (self.dof + 1.0) / self.dof
    }

    /// Fails unless `dof` is finite and positive.
    pub(crate) fn check(&self, op: &'static str) -> Result<()> {
        if self.dof.is_finite() && self.dof > 0.0 {
            Ok(())
        } else {
            Err(AutodiffError::InvalidParameter {
                op,
                name: "dof",
                value: self.dof,
                requirement: "finite and positive",
            })
        }
    }
}

/// The Cauchy weight `1 / (1 + x)` in precision `R`: the `dof = 1` kernel of a squared distance
/// `x`, and for any `dof` the factor `u` of `x = d²/dof` (see [`PairKernel::weight`]).
///
/// ```
/// assert_eq!(ssne_autodiff::kernel::cauchy(3.0_f32), 0.25);
/// ```
#[inline(always)]
pub fn cauchy<R: Real>(x: R) -> R {
    R::one() / (R::one() + x)
}

/// A kernel in the forms the all-pairs loops need; all arithmetic in `f64`. Implemented by
/// [`Cauchy`] and [`General`] only, so a loop generic over it is compiled once per form.
pub trait PairKernel: Copy + Send + Sync + sealed::Sealed {
    /// `(w, u)`: the weight and `u = 1 / (1 + d/dof)`, the factor its
    /// log-derivative carries (`d ln w / d d = -((dof+1)/(2 dof)) u`).
    fn weight(self, sq_dist: f64) -> (f64, f64);

    /// `p (ln p - ln w(d))` for `p > 0`, split as `p ln(arg) + rest` and
    /// returned as `(arg, rest)`, so that callers can batch the logarithms.
    /// Neither part underflows for far points.
    fn kl_parts(self, p: f64, sq_dist: f64) -> (f64, f64);

    /// `-ln w(d)`, finite where `w` underflows.
    fn neg_ln_weight(self, sq_dist: f64) -> f64;

    /// `u = 1 / (1 + d/dof)` alone (the second half of [`weight`](Self::weight)), for loops
    /// that need the derivative of `-ln w`, `((dof + 1) / (2 dof)) u`, but not `w`.
    fn u(self, sq_dist: f64) -> f64;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Cauchy {}
    impl Sealed for super::General {}
}

/// `dof = 1`: `w = u = 1 / (1 + d)`, no transcendental function per weight.
#[derive(Clone, Copy, Debug)]
pub struct Cauchy;

impl PairKernel for Cauchy {
    #[inline(always)]
    fn weight(self, sq_dist: f64) -> (f64, f64) {
        let w = cauchy(sq_dist);
        (w, w)
    }

    #[inline(always)]
    fn kl_parts(self, p: f64, sq_dist: f64) -> (f64, f64) {
        // ln p - ln w = ln(p (1 + d)): one logarithm, and no 0 * inf when w underflows.
        (p * (1.0 + sq_dist), 0.0)
    }

    #[inline(always)]
    fn neg_ln_weight(self, sq_dist: f64) -> f64 {
        sq_dist.ln_1p()
    }

    #[inline(always)]
    fn u(self, sq_dist: f64) -> f64 {
        cauchy(sq_dist)
    }
}

/// Any `dof`: `w = exp(-e ln(1 + d/dof))` with `e = (dof + 1) / 2`.
#[derive(Clone, Copy, Debug)]
pub struct General {
    inv_dof: f64,
    exponent: f64,
}

impl General {
    /// The kernel with `dof` degrees of freedom (finite and positive; see [`StudentT`]).
    pub fn new(dof: f64) -> Self {
        Self {
            inv_dof: 1.0 / dof,
            exponent: (dof + 1.0) / 2.0,
        }
    }
}

impl PairKernel for General {
    #[inline(always)]
    fn weight(self, sq_dist: f64) -> (f64, f64) {
        let scaled = sq_dist * self.inv_dof;
        let w = (-self.exponent * scaled.ln_1p()).exp();
        (w, self.u(sq_dist))
    }

    #[inline(always)]
    fn kl_parts(self, p: f64, sq_dist: f64) -> (f64, f64) {
        (p, p * self.neg_ln_weight(sq_dist))
    }

    #[inline(always)]
    fn neg_ln_weight(self, sq_dist: f64) -> f64 {
        self.exponent * (sq_dist * self.inv_dof).ln_1p()
    }

    #[inline(always)]
    fn u(self, sq_dist: f64) -> f64 {
        cauchy(sq_dist * self.inv_dof)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook formula, the oracle of the forms above.
    fn textbook(dof: f64, sq_dist: f64) -> f64 {
        (1.0 + sq_dist / dof).powf(-(dof + 1.0) / 2.0)
    }

    /// `p ln(arg) + rest` from [`PairKernel::kl_parts`].
    fn kl_term<K: PairKernel>(kernel: K, p: f64, d: f64) -> f64 {
        let (arg, rest) = kernel.kl_parts(p, d);
        p * arg.ln() + rest
    }

    fn eval(dof: f64, d: f64, p: f64) -> (f64, f64, f64, f64) {
        if dof == 1.0 {
            let (w, u) = Cauchy.weight(d);
            (w, u, kl_term(Cauchy, p, d), Cauchy.neg_ln_weight(d))
        } else {
            let k = General::new(dof);
            let (w, u) = k.weight(d);
            (w, u, kl_term(k, p, d), k.neg_ln_weight(d))
        }
    }

    #[test]
    fn kernels_agree_with_the_textbook_formula() {
        for &dof in &[0.5, 1.0, 1.7, 3.0] {
            for &d in &[0.0, 1e-9, 0.3, 2.0, 1e6] {
                let p = 0.37;
                let (w, u, kl, neg_ln_w) = eval(dof, d, p);
                let expected = textbook(dof, d);
                assert!(
                    (w - expected).abs() <= 1e-14 * expected,
                    "dof {dof} d {d}: {w} vs {expected}"
                );
                assert_eq!(StudentT { dof }.weight(d), w, "dof {dof} d {d}");
                // The general form at dof = 1 is the Cauchy one up to rounding.
                let (w_general, _) = General::new(dof).weight(d);
                assert!((w_general - expected).abs() <= 1e-14 * expected, "dof {dof} d {d}");
                assert!((u - 1.0 / (1.0 + d / dof)).abs() <= 1e-15);
                assert_eq!(
                    (Cauchy.u(d), General::new(dof).u(d)),
                    (Cauchy.weight(d).1, General::new(dof).weight(d).1)
                );
                assert!((kl - p * (p.ln() - expected.ln())).abs() <= 1e-13, "dof {dof} d {d}");
                assert!(
                    (neg_ln_w + expected.ln()).abs() <= 1e-13 * (1.0 + neg_ln_w),
                    "dof {dof} d {d}"
                );
            }
        }
    }

    #[test]
    fn cauchy_is_the_same_in_f32_and_f64_up_to_rounding() {
        for &d in &[0.0_f32, 0.25, 3.0, 1e7] {
            let wide = cauchy(f64::from(d));
            assert!((f64::from(cauchy(d)) - wide).abs() <= 1e-7 * wide, "d {d}");
        }
        assert_eq!(cauchy(3.0_f64), 0.25);
    }

    #[test]
    fn far_points_keep_a_finite_kl_term() {
        // w underflows to 0 in f64 for this distance and dof, ln w does not.
        let d = 1e300;
        assert_eq!(StudentT { dof: 3.0 }.weight(d), 0.0);
        assert!(kl_term(General::new(3.0), 0.5, d).is_finite());
        assert!(kl_term(Cauchy, 0.5, d).is_finite());
    }
}
