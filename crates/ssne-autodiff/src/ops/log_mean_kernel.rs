//! `ln` of the mean kernel weight over a list of pairs: the in-batch `ln Z` of
//! `tsne_coupled` restricted to chosen pairs, a repulsion focused on them (the
//! mid-near pairs of ParamRepulsor, Huang et al. 2024).

use ssne_tensor::Real;

use crate::kernel::{General, PairKernel};
use crate::{AutodiffError, Result, StudentT, Tape, Var};

const OP: &str = "log_mean_kernel";

impl<R: Real> Tape<R> {
    /// `ln(mean_{(a,b) ∈ pairs} w(|y_a - y_b|²))`, a `[1, 1]` loss, for the
    /// embedding `y` (`[m, d]`) and the [`StudentT`] kernel `w`.
    ///
    /// Minimising it pushes the pairs apart, each in proportion to its share of
    /// the sum of weights, so the nearest of them are pushed hardest; the scale
    /// of the map does not change the size of the gradient's sum, as with the
    /// `ln Z` term of [`tsne_coupled`](Tape::tsne_coupled). With
    /// `c = (α+1)/α`, `u = (1 + d/α)^(-1)` and `S = Σ w`, row `a` of a pair
    /// `(a, b)` receives `-(c w u / S) (y_a - y_b)` and row `b` the opposite.
    /// The sum is taken as a log-sum-exp of `ln w`, so far pairs whose weights
    /// underflow stay finite. Sums are serial in `f64`, in the order given, so
    /// the result does not depend on the thread count.
    ///
    /// # Errors
    /// [`AutodiffError::TooFewRows`] for fewer than 2 rows,
    /// [`AutodiffError::NoEdges`] for an empty `pairs`,
    /// [`AutodiffError::InvalidEdge`] for an index `>= m` or a pair `(a, a)`,
    /// [`AutodiffError::InvalidParameter`] for a non-positive `dof`,
    /// [`AutodiffError::StaleVar`] for a foreign variable.
    ///
    /// # Example
    /// ```
    /// use ssne_autodiff::{StudentT, Tape};
    /// use ssne_tensor::ndarray::array;
    ///
    /// let mut tape = Tape::<f64>::new();
    /// let y = tape.var(array![[0.0, 0.0], [1.0, 0.0], [5.0, 0.0]]);
    /// let loss = tape.log_mean_kernel(y, &[(0, 1)], StudentT::default())?;
    /// assert!((tape.scalar(loss)? - 0.5f64.ln()).abs() < 1e-15);
    /// let grads = tape.backward(loss)?;
    /// let g = grads.get(y).unwrap();
    /// assert!(g[[0, 0]] > 0.0 && g[[1, 0]] < 0.0); // descent pushes the pair apart
    /// assert_eq!(g[[2, 0]], 0.0); // rows in no pair are left alone
    /// # Ok::<(), ssne_autodiff::AutodiffError>(())
    /// ```
    pub fn log_mean_kernel(&mut self, y: Var, pairs: &[(u32, u32)], kernel: StudentT) -> Result<Var> {
        let y = self.index(y)?;
        let [n_rows, width] = self.shape_of(y);
        super::check_edge_loss(OP, n_rows, pairs, &[], 1.0)?;
        kernel.check(OP)?;
        let with_grad = self.needs_grad(y);
        let values: Vec<f64> = self.nodes[y].value.iter().map(|&v| Real::to_f64(v)).collect();
        let row = |a: usize| &values[a * width..(a + 1) * width];
        let form = General::new(kernel.dof);
        let sq_dists: Vec<f64> = pairs
            .iter()
            .map(|&(a, b)| {
                row(a as usize)
                    .iter()
                    .zip(row(b as usize))
                    .map(|(p, q)| (p - q) * (p - q))
                    .sum()
            })
            .collect();
        // ln w = -neg_ln_weight: finite even where w itself underflows.
        let ln_w: Vec<f64> = sq_dists.iter().map(|&d| -form.neg_ln_weight(d)).collect();
        let top = ln_w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let ln_sum = top + ln_w.iter().map(|&l| (l - top).exp()).sum::<f64>().ln();
        let loss = ln_sum - (pairs.len() as f64).ln();
        if !loss.is_finite() {
            return Err(AutodiffError::NonFinite { op: OP, value: loss });
        }
        let grad_f64 = with_grad.then(|| {
            let factor = kernel.gradient_factor();
            let mut grad_f64 = vec![0.0_f64; n_rows * width];
            for ((&(a, b), &d), &l) in pairs.iter().zip(&sq_dists).zip(&ln_w) {
                let (a, b) = (a as usize, b as usize);
                // The pair's share w / S of the weights, without forming S.
                let coef = -factor * (l - ln_sum).exp() * form.u(d);
                for k in 0..width {
                    let g = coef * (row(a)[k] - row(b)[k]);
                    grad_f64[a * width + k] += g;
                    grad_f64[b * width + k] -= g;
                }
            }
            grad_f64
        });
        Ok(self.push_fused_loss(y, loss, grad_f64.as_deref()))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use ssne_tensor::ndarray::{Array2, array};

    use crate::check::{self, Tolerance};
    use crate::testing::{distinct_pairs, matrix, to_case};
    use crate::{AutodiffError, StudentT, Tape};

    /// Slow, obviously correct loss, straight from the definition.
    fn reference(y: &Array2<f64>, pairs: &[(u32, u32)], kernel: StudentT) -> f64 {
        let w = |a: u32, b: u32| kernel.weight((&y.row(a as usize) - &y.row(b as usize)).mapv(|v| v * v).sum());
        (pairs.iter().map(|&(a, b)| w(a, b)).sum::<f64>() / pairs.len() as f64).ln()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn log_mean_kernel_matches_finite_differences_and_the_reference(
            (y, pairs) in (2usize..12, 1usize..=3).prop_flat_map(|(m, d)| (matrix(m, d), distinct_pairs(m, 16))),
            dof in 0.5..3.0f64,
            cauchy in any::<bool>(),
        ) {
            let kernel = StudentT { dof: if cauchy { 1.0 } else { dof } };
            let mut tape = Tape::<f64>::new();
            let y_var = tape.var(y.clone());
            let loss = tape.log_mean_kernel(y_var, &pairs, kernel).unwrap();
            let value = tape.scalar(loss).unwrap();
            let expected = reference(&y, &pairs, kernel);
            prop_assert!((value - expected).abs() <= 1e-12 * (1.0 + expected.abs()), "{value} vs {expected}");

            let tol = Tolerance { atol: 1e-7, rtol: 1e-5, ..Tolerance::default() };
            to_case(check::gradient(move |t, y| t.log_mean_kernel(y, &pairs, kernel), &y, tol))?;
        }
    }

    #[test]
    fn far_pairs_whose_weights_underflow_stay_finite() {
        // With dof 3, w(1e300) = (1 + 1e300 / 3)^-2 underflows to 0, yet the log-sum-exp keeps
        // ln S finite.
        let y = array![[0.0, 0.0], [1e150, -1e150], [0.0, 0.0], [3.0, 1.0]];
        for dof in [1.0, 0.5, 3.0] {
            let mut tape = Tape::<f64>::new();
            let y_var = tape.var(y.clone());
            let loss = tape
                .log_mean_kernel(y_var, &[(0, 1), (2, 3), (0, 2)], StudentT { dof })
                .unwrap();
            assert!(tape.scalar(loss).unwrap().is_finite(), "dof {dof}");
            let g = tape.backward(loss).unwrap();
            assert!(g.get(y_var).unwrap().iter().all(|v| v.is_finite()), "dof {dof}");
        }
        // Only far pairs: every weight underflows, the loss is still their log mean.
        let mut tape = Tape::<f64>::new();
        let y_var = tape.var(array![[0.0, 0.0], [1e150, 0.0]]);
        let kernel = StudentT { dof: 3.0 };
        assert_eq!(kernel.weight(1e300), 0.0);
        let loss = tape.log_mean_kernel(y_var, &[(0, 1)], kernel).unwrap();
        let value = tape.scalar(loss).unwrap();
        let expected = -2.0 * (1e300_f64 / 3.0).ln();
        assert!(
            (value - expected).abs() < 1e-9 * expected.abs(),
            "{value} vs {expected}"
        );
    }

    #[test]
    fn invalid_inputs_are_errors() {
        let mut tape = Tape::<f32>::new();
        let y = tape.var(Array2::zeros((3, 2)));
        let one = tape.var(Array2::zeros((1, 2)));
        let kernel = StudentT::default();
        assert_eq!(tape.log_mean_kernel(y, &[], kernel), Err(AutodiffError::NoEdges));
        assert_eq!(
            tape.log_mean_kernel(y, &[(0, 1), (1, 1)], kernel),
            Err(AutodiffError::InvalidEdge {
                edge_idx: 1,
                head: 1,
                tail: 1,
                n_rows: 3
            })
        );
        assert_eq!(
            tape.log_mean_kernel(y, &[(0, 3)], kernel),
            Err(AutodiffError::InvalidEdge {
                edge_idx: 0,
                head: 0,
                tail: 3,
                n_rows: 3
            })
        );
        assert_eq!(
            tape.log_mean_kernel(one, &[(0, 0)], kernel),
            Err(AutodiffError::TooFewRows {
                op: "log_mean_kernel",
                rows: 1,
                min: 2
            })
        );
        assert!(matches!(
            tape.log_mean_kernel(y, &[(0, 1)], StudentT { dof: 0.0 }),
            Err(AutodiffError::InvalidParameter { name: "dof", .. })
        ));
        assert_eq!(tape.len(), 2);
    }
}
