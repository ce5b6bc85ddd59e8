//! The t-SNE loss `KL(P || Q)`, fused: one parallel all-pairs pass computes the
//! loss and its analytic gradient; the tape keeps only the `[n, d]` gradient.

use ssne_tensor::Real;
use ssne_tensor::ndarray::ArrayView2;

use crate::op::Op;
use crate::{AutodiffError, Result, StudentT, Tape, Var};

const OP: &str = "tsne_kl";

impl<R: Real> Tape<R> {
    /// `KL(P || Q) = Σ_{i≠j} P_ij ln(P_ij / Q_ij)`, a `[1, 1]` loss, for the
    /// embedding `y` (`[n, d]`, any `d`) and affinities `p` (`[n, n]`).
    ///
    /// `Q_ij = w_ij / Z` with `w_ij` the [`StudentT`] kernel of `|y_i - y_j|²`
    /// and `Z = Σ_{i≠j} w_ij`. Terms with `P_ij = 0` contribute 0; the diagonal of
    /// `p` is ignored. `p` is used as given: it should sum to 1, but nothing is
    /// renormalised (a sum `S ≠ 1` yields `Σ P ln P - Σ P ln w + S ln Z`, still
    /// finite). `p` need not be symmetric.
    ///
    /// The gradient, computed during this forward pass (so `p` is not kept), is
    /// `dL/dy_i = ((α+1)/α) Σ_j (P_ij + P_ji - 2 S Q_ij) (1 + d_ij/α)^(-1) (y_i - y_j)`,
    /// which for symmetric P is the familiar
    /// `((α+1)/α) 2 Σ_j (P_ij - S Q_ij) (1 + d_ij/α)^(-1) (y_i - y_j)`.
    /// Z, S and the loss are accumulated in `f64`; rows run in parallel in fixed
    /// blocks, so the result is the same for any thread count. Coincident points
    /// and points far apart (weights underflowing to 0) give finite values.
    ///
    /// # Errors
    /// [`AutodiffError::TooFewRows`] for fewer than 2 points,
    /// [`AutodiffError::ShapeMismatch`] unless `p` is `[n, n]`,
    /// [`AutodiffError::InvalidAffinity`] for a negative or non-finite
    /// off-diagonal entry of `p`, [`AutodiffError::InvalidParameter`] for a
    /// non-positive `dof`, [`AutodiffError::NonFinite`] if the loss overflows
    /// (e.g. non-finite points), [`AutodiffError::StaleVar`] for a foreign variable.
    ///
    /// # Example
    /// ```
    /// use ssne_autodiff::{StudentT, Tape};
    /// use ssne_tensor::ndarray::array;
    ///
    /// let mut tape = Tape::<f64>::new();
    /// // Two points: Q is 1/2 for both ordered pairs, whatever their distance.
    /// let y = tape.var(array![[0.0, 0.0], [1.0, 0.0]]);
    /// let p = array![[0.0, 0.5], [0.5, 0.0]];
    /// let loss = tape.tsne_kl(y, p.view(), StudentT::default())?;
    /// assert!(tape.scalar(loss)?.abs() < 1e-15);
    /// # Ok::<(), ssne_autodiff::AutodiffError>(())
    /// ```
    pub fn tsne_kl(&mut self, y: Var, p: ArrayView2<'_, R>, kernel: StudentT) -> Result<Var> {
        self.tsne_kl_exaggerated(y, p, kernel, R::one())
    }

    /// [`Tape::tsne_kl`] with early exaggeration: the attraction term is
    /// multiplied by `attraction_weight` (α ≥ 1; 1 is plain KL), the repulsion
    /// term is not. The loss is `Σ P ln P - α Σ P ln w + S ln Z`, and its gradient
    /// replaces `P` by `α P` in the attraction only. (Multiplying all of P
    /// instead would scale the whole gradient, which Adam cancels.)
    ///
    /// # Errors
    /// As [`Tape::tsne_kl`], plus [`AutodiffError::InvalidParameter`] for a
    /// non-finite or negative `attraction_weight`.
    pub fn tsne_kl_exaggerated(
        &mut self,
        y: Var,
        p: ArrayView2<'_, R>,
        kernel: StudentT,
        attraction_weight: R,
    ) -> Result<Var> {
        let alpha = attraction_weight.to_f64();
        if !(alpha.is_finite() && alpha >= 0.0) {
            return Err(AutodiffError::InvalidParameter {
                op: OP,
                name: "attraction_weight",
                value: alpha,
                requirement: "finite and >= 0",
            });
        }
        let y = self.index(y)?;
        let [n, width] = self.shape_of(y);
        if n < 2 {
            return Err(AutodiffError::TooFewRows {
                op: OP,
                rows: n,
                min: 2,
            });
        }
        if p.dim() != (n, n) {
            return Err(AutodiffError::ShapeMismatch {
                op: OP,
                left: [n, n],
                right: [p.nrows(), p.ncols()],
            });
        }
        kernel.check(OP)?;
        let p = p.as_standard_layout();
        // Cannot fail: `as_standard_layout` returns a contiguous row-major array.
        let p = p.as_slice().expect("a standard-layout array is one slice");
        let with_grad = self.needs_grad(y);

        let totals = self.scratch.run(self.nodes[y].value.view(), Some(p), kernel, with_grad);
        if let Some((row, col, value)) = totals.bad {
            return Err(AutodiffError::InvalidAffinity { row, col, value });
        }
        if !(totals.z > 0.0 && totals.z.is_finite()) {
            return Err(AutodiffError::NonFinite {
                op: OP,
                value: totals.z,
            });
        }
        // With S = 0 (P all zero) the loss is 0; skipping the term avoids 0 * ln Z.
        let repulsion = if totals.p_sum > 0.0 {
            totals.p_sum * totals.z.ln()
        } else {
            0.0
        };
        let mut loss = totals.kl + repulsion;
        if alpha != 1.0 {
            // kl = Σ P ln P - Σ P ln w, so the attraction -Σ P ln w is kl - Σ P ln P.
            let p_ln_p: f64 = p
                .iter()
                .enumerate()
                .filter(|&(idx, &v)| idx / n != idx % n && v > R::zero())
                .map(|(_, &v)| v.to_f64() * v.to_f64().ln())
                .sum();
            loss = p_ln_p + alpha * (totals.kl - p_ln_p) + repulsion;
        }
        if !loss.is_finite() {
            return Err(AutodiffError::NonFinite { op: OP, value: loss });
        }

        let grad = with_grad.then(|| {
            let factor = kernel.gradient_factor();
            let mut grad = self.pool.take((n, width));
            self.scratch
                .write_gradient(grad.view_mut(), alpha * factor, factor * 2.0 * totals.p_sum / totals.z);
            grad
        });
        let mut out = self.pool.take((1, 1));
        out[[0, 0]] = R::from_f64(loss);
        Ok(self.push(out, Op::ScalarWithGrad { y, grad }, with_grad))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use ssne_tensor::ndarray::{Array2, array};

    use crate::check::{self, Tolerance};
    use crate::testing::{matrix, seeded, to_case};
    use crate::{AutodiffError, StudentT, Tape};

    /// A random affinity matrix: non-negative, some exact zeros, normalised to
    /// sum 1 off the diagonal, symmetrised on request, with garbage on the
    /// diagonal (which must be ignored).
    fn affinities(n: usize) -> impl Strategy<Value = Array2<f64>> {
        (
            proptest::collection::vec(prop_oneof![1 => Just(0.0), 4 => 0.0..1.0f64], n * n),
            any::<bool>(),
        )
            .prop_map(move |(values, symmetric)| {
                let mut p = Array2::from_shape_vec((n, n), values).unwrap();
                if symmetric {
                    p = &p + &p.t();
                }
                p.diag_mut().fill(0.0);
                let total = p.sum();
                if total > 0.0 {
                    p /= total;
                }
                p.diag_mut().fill(7.0);
                p
            })
    }

    /// Slow, obviously correct loss: builds Q explicitly.
    fn reference_kl(y: &Array2<f64>, p: &Array2<f64>, kernel: StudentT) -> f64 {
        let n = y.nrows();
        let w = Array2::from_shape_fn((n, n), |(i, j)| {
            if i == j {
                0.0
            } else {
                kernel.weight((&y.row(i) - &y.row(j)).mapv(|v| v * v).sum())
            }
        });
        let z = w.sum();
        let mut kl = 0.0;
        for i in 0..n {
            for j in 0..n {
                if i != j && p[[i, j]] > 0.0 {
                    kl += p[[i, j]] * (p[[i, j]] / (w[[i, j]] / z)).ln();
                }
            }
        }
        kl
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn tsne_kl_matches_finite_differences_and_the_reference(
            (y, p) in (2usize..12, 1usize..=3).prop_flat_map(|(n, d)| (matrix(n, d), affinities(n))),
            dof in 0.5..3.0f64,
            cauchy in any::<bool>(),
        ) {
            let kernel = StudentT { dof: if cauchy { 1.0 } else { dof } };
            let mut tape = Tape::<f64>::new();
            let y_var = tape.var(y.clone());
            let loss = tape.tsne_kl(y_var, p.view(), kernel).unwrap();
            let value = tape.scalar(loss).unwrap();
            let expected = reference_kl(&y, &p, kernel);
            prop_assert!((value - expected).abs() <= 1e-12 * (1.0 + expected.abs()), "{value} vs {expected}");

            let tol = Tolerance { atol: 1e-7, rtol: 1e-5, ..Tolerance::default() };
            to_case(check::gradient(move |t, y| t.tsne_kl(y, p.view(), kernel), &y, tol))?;
        }
    }

    /// 150 rows: three row blocks of the parallel pass and three column tiles,
    /// so terms cross block and tile boundaries; width 3 takes the generic path.
    #[test]
    fn several_blocks_match_the_reference_and_finite_differences() {
        let n = 150;
        for (width, symmetric, dof) in [(2, true, 1.0), (2, false, 1.7), (3, false, 1.0), (3, true, 0.6)] {
            let y = seeded(n, width, 3.0, width as u64);
            let mut p = seeded(n, n, 1.0, 7).mapv(|v| if v < -0.6 { 0.0 } else { v.abs() });
            if symmetric {
                p = &p + &p.t();
            }
            p.diag_mut().fill(0.0);
            p /= p.sum();
            let kernel = StudentT { dof };
            let mut tape = Tape::<f64>::new();
            let y_var = tape.var(y.clone());
            let loss = tape.tsne_kl(y_var, p.view(), kernel).unwrap();
            let value = tape.scalar(loss).unwrap();
            let expected = reference_kl(&y, &p, kernel);
            assert!(
                (value - expected).abs() <= 1e-12 * expected.abs(),
                "{value} vs {expected}"
            );
            let tol = Tolerance {
                atol: 1e-7,
                rtol: 1e-5,
                ..Tolerance::default()
            };
            check::gradient(|t, y| t.tsne_kl(y, p.view(), kernel), &y, tol).unwrap();
        }
    }

    /// The `f32` tape (single-precision logarithms, `f32` inputs) against `f64`.
    #[test]
    fn f32_loss_and_gradient_agree_with_f64() {
        let n = 150;
        let y = seeded(n, 2, 5.0, 3);
        let mut p = seeded(n, n, 1.0, 4).mapv(f64::abs);
        p = &p + &p.t();
        p.diag_mut().fill(0.0);
        p /= p.sum();
        let (y32, p32) = (y.mapv(|v| v as f32), p.mapv(|v| v as f32));
        let (y, p) = (y32.mapv(f64::from), p32.mapv(f64::from)); // the same inputs in both
        let mut t64 = Tape::<f64>::new();
        let v64 = t64.var(y);
        let l64 = t64.tsne_kl(v64, p.view(), StudentT::default()).unwrap();
        let g64 = t64.backward(l64).unwrap().take(v64).unwrap();
        let mut t32 = Tape::<f32>::new();
        let v32 = t32.var(y32);
        let l32 = t32.tsne_kl(v32, p32.view(), StudentT::default()).unwrap();
        let g32 = t32.backward(l32).unwrap().take(v32).unwrap();
        let (a, b) = (t64.scalar(l64).unwrap(), f64::from(t32.scalar(l32).unwrap()));
        assert!((a - b).abs() <= 1e-6 * a.abs(), "{a} vs {b}");
        let scale = g64.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        assert!(
            g64.iter()
                .zip(&g32)
                .all(|(a, &b)| (a - f64::from(b)).abs() <= 1e-5 * scale)
        );
    }

    /// Entries are read by the block of the smaller index, so an invalid entry
    /// below the diagonal is found by an earlier block than one above it; the
    /// error must still name the first in row-major order.
    #[test]
    fn the_first_invalid_entry_in_row_major_order_is_reported() {
        let n = 100;
        let mut tape = Tape::<f64>::new();
        let y = tape.var(seeded(n, 2, 1.0, 1));
        let mut p = Array2::from_elem((n, n), 1e-4);
        p[[90, 5]] = -1.0; // read by block 0 (row 5)
        p[[70, 80]] = f64::INFINITY; // read by block 1 (row 70)
        assert_eq!(
            tape.tsne_kl(y, p.view(), StudentT::default()),
            Err(AutodiffError::InvalidAffinity {
                row: 70,
                col: 80,
                value: f64::INFINITY
            })
        );
        p[[70, 80]] = 1e-4;
        assert_eq!(
            tape.tsne_kl(y, p.view(), StudentT::default()),
            Err(AutodiffError::InvalidAffinity {
                row: 90,
                col: 5,
                value: -1.0
            })
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn exaggerated_kl_matches_finite_differences_and_its_definition(
            (y, p) in (2usize..10, 1usize..=3).prop_flat_map(|(n, d)| (matrix(n, d), affinities(n))),
            alpha in 1.0..12.0f64,
            dof in 0.5..3.0f64,
        ) {
            let kernel = StudentT { dof };
            let mut tape = Tape::<f64>::new();
            let y_var = tape.var(y.clone());
            let value = tape.tsne_kl_exaggerated(y_var, p.view(), kernel, alpha).and_then(|l| tape.scalar(l)).unwrap();
            // Definition: Σ P ln P - α Σ P ln w + S ln Z, off the diagonal.
            let n = y.nrows();
            let (mut plnp, mut plnw, mut s, mut z) = (0.0, 0.0, 0.0, 0.0);
            for i in 0..n {
                for j in 0..n {
                    if i == j { continue; }
                    let d2: f64 = y.row(i).iter().zip(y.row(j)).map(|(a, b)| (a - b) * (a - b)).sum();
                    let w = kernel.weight(d2);
                    z += w;
                    let pij = p[[i, j]];
                    if pij > 0.0 { plnp += pij * pij.ln(); plnw += pij * w.ln(); s += pij; }
                }
            }
            let expected = plnp - alpha * plnw + if s > 0.0 { s * z.ln() } else { 0.0 };
            prop_assert!((value - expected).abs() <= 1e-10 * (1.0 + expected.abs()), "{value} vs {expected}");
            let tol = Tolerance { atol: 1e-7, rtol: 1e-5, ..Tolerance::default() };
            to_case(check::gradient(move |t, y| t.tsne_kl_exaggerated(y, p.view(), kernel, alpha), &y, tol))?;
        }
    }

    #[test]
    fn zeros_in_p_and_unnormalised_p_stay_finite() {
        let y = array![[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]];
        for p in [
            array![[0.0, 0.5, 0.0], [0.5, 0.0, 0.0], [0.0, 0.0, 0.0]],
            Array2::zeros((3, 3)),
            array![[0.0, 3.0, 1.0], [2.0, 0.0, 0.0], [0.0, 5.0, 0.0]],
        ] {
            let mut tape = Tape::<f64>::new();
            let y_var = tape.var(y.clone());
            let loss = tape.tsne_kl(y_var, p.view(), StudentT::default()).unwrap();
            assert!(tape.scalar(loss).unwrap().is_finite());
            let g = tape.backward(loss).unwrap();
            assert!(g.get(y_var).unwrap().iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn coincident_and_far_points_stay_finite() {
        // 1e150 apart: the dof = 3 weight underflows to 0 in f64 for the far pairs.
        let y = array![[0.0, 0.0], [0.0, 0.0], [1e150, -1e150], [1e150, -1e150]];
        let p = Array2::from_elem((4, 4), 1.0 / 12.0);
        for dof in [1.0, 0.5, 3.0] {
            let mut tape = Tape::<f64>::new();
            let y_var = tape.var(y.clone());
            let loss = tape.tsne_kl(y_var, p.view(), StudentT { dof }).unwrap();
            assert!(tape.scalar(loss).unwrap().is_finite(), "dof {dof}");
            let g = tape.backward(loss).unwrap();
            assert!(g.get(y_var).unwrap().iter().all(|v| v.is_finite()), "dof {dof}");
        }
    }

    #[test]
    fn invalid_inputs_are_errors() {
        let mut tape = Tape::<f64>::new();
        let y = tape.var(Array2::zeros((3, 2)));
        let one = tape.var(Array2::zeros((1, 2)));
        let p = Array2::from_elem((3, 3), 1.0 / 6.0);
        let kernel = StudentT::default();
        assert_eq!(
            tape.tsne_kl(y, Array2::zeros((3, 2)).view(), kernel),
            Err(AutodiffError::ShapeMismatch {
                op: "tsne_kl",
                left: [3, 3],
                right: [3, 2]
            })
        );
        assert_eq!(
            tape.tsne_kl(one, Array2::zeros((1, 1)).view(), kernel),
            Err(AutodiffError::TooFewRows {
                op: "tsne_kl",
                rows: 1,
                min: 2
            })
        );
        let mut bad = p.clone();
        bad[[2, 1]] = -0.5;
        assert_eq!(
            tape.tsne_kl(y, bad.view(), kernel),
            Err(AutodiffError::InvalidAffinity {
                row: 2,
                col: 1,
                value: -0.5
            })
        );
        bad[[2, 1]] = f64::NAN;
        assert!(matches!(
            tape.tsne_kl(y, bad.view(), kernel),
            Err(AutodiffError::InvalidAffinity { row: 2, col: 1, .. })
        ));
        let mut diagonal_nan = p.clone();
        diagonal_nan[[1, 1]] = f64::NAN;
        assert!(
            tape.tsne_kl(y, diagonal_nan.view(), kernel).is_ok(),
            "the diagonal is ignored"
        );
        assert!(matches!(
            tape.tsne_kl(y, p.view(), StudentT { dof: 0.0 }),
            Err(AutodiffError::InvalidParameter { name: "dof", .. })
        ));
        let nan_y = tape.var(array![[f64::NAN, 0.0], [0.0, 0.0]]);
        assert!(matches!(
            tape.tsne_kl(nan_y, Array2::from_elem((2, 2), 0.5).view(), kernel),
            Err(AutodiffError::NonFinite { op: "tsne_kl", .. })
        ));
    }

    #[test]
    fn constant_embedding_records_no_gradient() {
        let mut tape = Tape::<f32>::new();
        let y = tape.constant(array![[0.0, 0.0], [1.0, 1.0]]);
        let loss = tape
            .tsne_kl(y, array![[0.0, 0.5], [0.5, 0.0]].view(), StudentT::default())
            .unwrap();
        assert!(tape.backward(loss).unwrap().get(y).is_none());
    }
}
