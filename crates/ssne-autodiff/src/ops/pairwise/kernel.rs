//! The Student-t kernel in the forms the fused loops need, specialised for
//! `dof = 1` (no transcendental function per weight).

/// A kernel as seen by the all-pairs loops; all arithmetic in `f64`.
pub(super) trait PairKernel: Copy + Send + Sync {
    /// `(w, u)`: the weight and `u = 1 / (1 + d/dof)`, the factor its
    /// log-derivative carries (`d ln w / d d = -((dof+1)/(2 dof)) u`).
    fn weight(self, sq_dist: f64) -> (f64, f64);

    /// `p (ln p - ln w(d))` for `p > 0`, split as `p ln(arg) + rest` and
    /// returned as `(arg, rest)`, so that callers can batch the logarithms.
    /// Neither part underflows for far points.
    fn kl_parts(self, p: f64, sq_dist: f64) -> (f64, f64);

    /// `-ln w(d)`.
    fn neg_ln_weight(self, sq_dist: f64) -> f64;
}

/// `dof = 1`: `w = u = 1 / (1 + d)`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Cauchy;

impl PairKernel for Cauchy {
    #[inline(always)]
    fn weight(self, sq_dist: f64) -> (f64, f64) {
        let w = 1.0 / (1.0 + sq_dist);
        (w, w)
    }

    #[inline(always)]
    fn kl_parts(self, p: f64, sq_dist: f64) -> (f64, f64) {
        // ln p - ln w = ln(p (1 + d)): one logarithm, and no 0 * inf when w underflows.
        (p * (1.0 + sq_dist), 0.0)
    }

    fn neg_ln_weight(self, sq_dist: f64) -> f64 {
        sq_dist.ln_1p()
    }
}

/// Any other `dof`: `w = exp(-e ln(1 + d/dof))` with `e = (dof + 1) / 2`.
#[derive(Clone, Copy, Debug)]
pub(super) struct General {
    inv_dof: f64,
    exponent: f64,
}

impl General {
    pub(super) fn new(dof: f64) -> Self {
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
        (w, 1.0 / (1.0 + scaled))
    }

    #[inline(always)]
    fn kl_parts(self, p: f64, sq_dist: f64) -> (f64, f64) {
        (p, p * self.neg_ln_weight(sq_dist))
    }

    fn neg_ln_weight(self, sq_dist: f64) -> f64 {
        self.exponent * (sq_dist * self.inv_dof).ln_1p()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StudentT;

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
    fn kernels_agree_with_the_reference_formula() {
        for &dof in &[0.5, 1.0, 1.7, 3.0] {
            let kernel = StudentT { dof };
            for &d in &[0.0, 1e-9, 0.3, 2.0, 1e6] {
                let p = 0.37;
                let (w, u, kl, neg_ln_w) = eval(dof, d, p);
                let expected = kernel.weight(d);
                assert!(
                    (w - expected).abs() <= 1e-14 * expected,
                    "dof {dof} d {d}: {w} vs {expected}"
                );
                assert!((u - 1.0 / (1.0 + d / dof)).abs() <= 1e-15);
                assert!((kl - p * (p.ln() - expected.ln())).abs() <= 1e-13, "dof {dof} d {d}");
                assert!(
                    (neg_ln_w + expected.ln()).abs() <= 1e-13 * (1.0 + neg_ln_w),
                    "dof {dof} d {d}"
                );
            }
        }
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
