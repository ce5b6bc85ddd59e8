//! The "full coupling" t-SNE loss on a batch of positive edges: attraction along
//! the edges plus an in-batch estimate of `ln Z`, fused like `tsne_kl`.

use ssne_tensor::Real;

use crate::kernel::{General, PairKernel};
use crate::op::Op;
use crate::{AutodiffError, Result, StudentT, Tape, Var};

const OP: &str = "tsne_coupled";

impl<R: Real> Tape<R> {
    /// `λ mean_{(h,t) ∈ edges} (-ln w(d_ht)) + ln(mean_{a≠b} w(d_ab))`, a `[1, 1]`
    /// loss, for the embedding `y` (`[m, d]`), with `λ = attraction_weight`,
    /// `w` the [`StudentT`] kernel and `d_ab = |y_a - y_b|²`.
    ///
    /// The first term pulls each edge's head and tail together; the second is
    /// an in-batch estimate of `ln Z` over all `m (m - 1)` ordered pairs of rows
    /// and pushes every pair apart. The gradient is analytic and computed during
    /// this forward pass: with `c = (α+1)/α`, `u = (1 + d/α)^(-1)` and
    /// `Z_b = Σ_{a≠b} w_ab`, row `a` receives
    /// `(λ/|E|) c Σ_{edges at a} ±u (y_h - y_t) - (2c / Z_b) Σ_b w_ab u_ab (y_a - y_b)`.
    /// Sums are in `f64`; rows run in parallel in fixed blocks, so the result is
    /// the same for any thread count.
    ///
    /// # Errors
    /// [`AutodiffError::TooFewRows`] for fewer than 2 rows,
    /// [`AutodiffError::NoEdges`] for an empty `edges`,
    /// [`AutodiffError::InvalidEdge`] for an index `>= m` or an edge `(a, a)`,
    /// [`AutodiffError::InvalidParameter`] for a non-positive `dof` or a negative
    /// or non-finite weight, [`AutodiffError::NonFinite`] if the loss overflows,
    /// [`AutodiffError::StaleVar`] for a foreign variable.
    ///
    /// # Example
    /// ```
    /// use ssne_autodiff::{StudentT, Tape};
    /// use ssne_tensor::ndarray::array;
    ///
    /// let mut tape = Tape::<f64>::new();
    /// let y = tape.var(array![[0.0, 0.0], [1.0, 0.0], [5.0, 5.0]]);
    /// let loss = tape.tsne_coupled(y, &[(0, 1)], StudentT::default(), 1.0)?;
    /// let grads = tape.backward(loss)?;
    /// let g = grads.get(y).unwrap();
    /// assert!(g[[0, 0]] < 0.0 && g[[1, 0]] > 0.0); // descent pulls the edge together
    /// # Ok::<(), ssne_autodiff::AutodiffError>(())
    /// ```
    pub fn tsne_coupled(
        &mut self,
        y: Var,
        edges: &[(u32, u32)],
        kernel: StudentT,
        attraction_weight: R,
    ) -> Result<Var> {
        let y = self.index(y)?;
        let [n_rows, width] = self.shape_of(y);
        let weight = attraction_weight.to_f64();
        super::check_edge_loss(OP, n_rows, edges, &[], weight)?;
        kernel.check(OP)?;
        let with_grad = self.needs_grad(y);

        let totals = self.scratch.run(self.nodes[y].value.view(), None, kernel, with_grad);
        if !(totals.z > 0.0 && totals.z.is_finite()) {
            return Err(AutodiffError::NonFinite {
                op: OP,
                value: totals.z,
            });
        }
        // Edges touch rows in any order, so they are summed serially, in order:
        // O(|E| d), negligible next to the O(m² d) pass above.
        let edge_scale = weight / edges.len() as f64;
        let factor = kernel.gradient_factor();
        // The general form, also for dof = 1: for -ln w and u it gives the Cauchy form's bits
        // (x / 1 and x * 1 are exact), and edges never need w itself.
        let form = General::new(kernel.dof);
        let mut attraction = 0.0;
        for &(head, tail) in edges {
            let (head, tail) = (head as usize, tail as usize);
            let sq_dist: f64 = self
                .scratch
                .point(head)
                .iter()
                .zip(self.scratch.point(tail))
                .map(|(a, b)| (a - b) * (a - b))
                .sum();
            attraction += form.neg_ln_weight(sq_dist);
            if with_grad {
                let coef = edge_scale * factor * form.u(sq_dist);
                for k in 0..self.scratch.point(head).len() {
                    let diff = self.scratch.point(head)[k] - self.scratch.point(tail)[k];
                    self.scratch.attraction_mut(head)[k] += coef * diff;
                    self.scratch.attraction_mut(tail)[k] -= coef * diff;
                }
            }
        }
        let n_pairs = (n_rows as f64) * (n_rows as f64 - 1.0);
        let loss = edge_scale * attraction + totals.z.ln() - n_pairs.ln();
        if !loss.is_finite() {
            return Err(AutodiffError::NonFinite { op: OP, value: loss });
        }

        let grad = with_grad.then(|| {
            let mut grad = self.pool.take((n_rows, width));
            self.scratch
                .write_gradient(grad.view_mut(), 1.0, 2.0 * factor / totals.z);
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
    use crate::testing::{distinct_pairs, matrix, seeded, to_case};
    use crate::{AutodiffError, StudentT, Tape};

    /// Slow, obviously correct loss, straight from the definition.
    fn reference(y: &Array2<f64>, edges: &[(u32, u32)], kernel: StudentT, weight: f64) -> f64 {
        let m = y.nrows();
        let w = |a: usize, b: usize| kernel.weight((&y.row(a) - &y.row(b)).mapv(|v| v * v).sum());
        let attraction: f64 =
            edges.iter().map(|&(h, t)| -w(h as usize, t as usize).ln()).sum::<f64>() / edges.len() as f64;
        let mut total = 0.0;
        for a in 0..m {
            for b in 0..m {
                if a != b {
                    total += w(a, b);
                }
            }
        }
        weight * attraction + (total / (m * (m - 1)) as f64).ln()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn tsne_coupled_matches_finite_differences_and_the_reference(
            (y, edges) in (2usize..12, 1usize..=3).prop_flat_map(|(m, d)| (matrix(m, d), distinct_pairs(m, 8))),
            dof in 0.5..3.0f64,
            cauchy in any::<bool>(),
            weight in 0.0..4.0f64,
        ) {
            let kernel = StudentT { dof: if cauchy { 1.0 } else { dof } };
            let mut tape = Tape::<f64>::new();
            let y_var = tape.var(y.clone());
            let loss = tape.tsne_coupled(y_var, &edges, kernel, weight).unwrap();
            let value = tape.scalar(loss).unwrap();
            let expected = reference(&y, &edges, kernel, weight);
            prop_assert!((value - expected).abs() <= 1e-12 * (1.0 + expected.abs()), "{value} vs {expected}");

            let tol = Tolerance { atol: 1e-7, rtol: 1e-5, ..Tolerance::default() };
            to_case(check::gradient(move |t, y| t.tsne_coupled(y, &edges, kernel, weight), &y, tol))?;
        }
    }

    /// 150 rows: several row blocks and column tiles; width 3 takes the generic path.
    #[test]
    fn several_blocks_match_the_reference_and_finite_differences() {
        let m = 150;
        let edges: Vec<(u32, u32)> = (0..40).map(|e| (e * 3 % 150, (e * 7 + 11) % 150)).collect();
        for (width, dof) in [(2, 1.0), (2, 2.5), (3, 1.0)] {
            let y = seeded(m, width, 3.0, width as u64 + 10);
            let kernel = StudentT { dof };
            let mut tape = Tape::<f64>::new();
            let y_var = tape.var(y.clone());
            let loss = tape.tsne_coupled(y_var, &edges, kernel, 0.7).unwrap();
            let value = tape.scalar(loss).unwrap();
            let expected = reference(&y, &edges, kernel, 0.7);
            assert!(
                (value - expected).abs() <= 1e-12 * (1.0 + expected.abs()),
                "{value} vs {expected}"
            );
            let tol = Tolerance {
                atol: 1e-7,
                rtol: 1e-5,
                ..Tolerance::default()
            };
            check::gradient(|t, y| t.tsne_coupled(y, &edges, kernel, 0.7), &y, tol).unwrap();
        }
    }

    #[test]
    fn coincident_and_far_points_stay_finite() {
        let y = array![[0.0, 0.0], [0.0, 0.0], [1e150, -1e150], [3.0, 1.0]];
        for dof in [1.0, 0.5, 3.0] {
            let mut tape = Tape::<f64>::new();
            let y_var = tape.var(y.clone());
            let loss = tape
                .tsne_coupled(y_var, &[(0, 1), (2, 3), (1, 2)], StudentT { dof }, 1.0)
                .unwrap();
            assert!(tape.scalar(loss).unwrap().is_finite(), "dof {dof}");
            let g = tape.backward(loss).unwrap();
            assert!(g.get(y_var).unwrap().iter().all(|v| v.is_finite()), "dof {dof}");
        }
    }

    #[test]
    fn invalid_inputs_are_errors() {
        let mut tape = Tape::<f32>::new();
        let y = tape.var(Array2::zeros((3, 2)));
        let one = tape.var(Array2::zeros((1, 2)));
        let kernel = StudentT::default();
        assert_eq!(tape.tsne_coupled(y, &[], kernel, 1.0), Err(AutodiffError::NoEdges));
        assert_eq!(
            tape.tsne_coupled(y, &[(0, 1), (1, 3)], kernel, 1.0),
            Err(AutodiffError::InvalidEdge {
                edge_idx: 1,
                head: 1,
                tail: 3,
                n_rows: 3
            })
        );
        assert_eq!(
            tape.tsne_coupled(y, &[(2, 2)], kernel, 1.0),
            Err(AutodiffError::InvalidEdge {
                edge_idx: 0,
                head: 2,
                tail: 2,
                n_rows: 3
            })
        );
        assert_eq!(
            tape.tsne_coupled(one, &[(0, 0)], kernel, 1.0),
            Err(AutodiffError::TooFewRows {
                op: "tsne_coupled",
                rows: 1,
                min: 2
            })
        );
        assert!(matches!(
            tape.tsne_coupled(y, &[(0, 1)], kernel, f32::NAN),
            Err(AutodiffError::InvalidParameter {
                name: "attraction_weight",
                ..
            })
        ));
        assert!(matches!(
            tape.tsne_coupled(y, &[(0, 1)], StudentT { dof: -1.0 }, 1.0),
            Err(AutodiffError::InvalidParameter { name: "dof", .. })
        ));
        assert_eq!(tape.len(), 2);
    }
}
