//! Negative sampling (Neg-t-SNE of Damrich et al. 2022): each positive edge is
//! contrasted with a few negative pairs through a fixed normalisation `Z̄`, a
//! cheaper and more local alternative to the in-batch `ln Z` of `tsne_coupled`.

use ssne_tensor::Real;

use crate::kernel::{General, PairKernel};
use crate::{AutodiffError, Result, StudentT, Tape, Var};

const OP: &str = "tsne_negative";

/// `ln(1 + e^x)` without overflow.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

impl<R: Real> Tape<R> {
    /// `(λ Σ_{(h,t) ∈ edges} -ln σ(ℓ_ht) + Σ_{(a,b) ∈ negatives} -ln(1 - σ(ℓ_ab))) / |edges|`,
    /// a `[1, 1]` loss, for the embedding `y` (`[m, d]`): with `q = w / Z̄`
    /// (`w` the [`StudentT`] kernel of `|y_a - y_b|²`), `σ(ℓ) = q / (q + 1)`,
    /// so positive edges are classified as near and negative pairs as far.
    ///
    /// Written with `L = ln Z̄ - ln w`, the terms are `softplus(L)` and
    /// `softplus(-L)`, which stay finite for coincident and far points alike.
    /// A large `Z̄` weakens repulsion (towards t-SNE's scale for `Z̄` near
    /// `m · mean w`); `Z̄ = 1` is UMAP-like. `λ = attraction_weight`.
    /// Sums are serial in `f64`, in the order given, so the result does not
    /// depend on the thread count.
    ///
    /// # Errors
    /// [`AutodiffError::TooFewRows`] for fewer than 2 rows,
    /// [`AutodiffError::NoEdges`] for an empty `edges`,
    /// [`AutodiffError::InvalidEdge`] for an index `>= m` or a pair `(a, a)` in
    /// either list (negatives are numbered after the edges),
    /// [`AutodiffError::InvalidParameter`] for a non-positive `dof` or `z_bar`, or a
    /// negative or non-finite weight, [`AutodiffError::StaleVar`] for a foreign variable.
    ///
    /// # Example
    /// ```
    /// use ssne_autodiff::{StudentT, Tape};
    /// use ssne_tensor::ndarray::array;
    ///
    /// let mut tape = Tape::<f64>::new();
    /// let y = tape.var(array![[0.0, 0.0], [1.0, 0.0], [1.5, 0.0]]);
    /// let loss = tape.tsne_negative(y, &[(0, 1)], &[(0, 2)], StudentT::default(), 1.0, 1.0)?;
    /// let grads = tape.backward(loss)?;
    /// let g = grads.get(y).unwrap();
    /// assert!(g[[1, 0]] > 0.0); // descent pulls the tail towards the head...
    /// assert!(g[[2, 0]] < 0.0); // ...and pushes the negative away from it
    /// # Ok::<(), ssne_autodiff::AutodiffError>(())
    /// ```
    pub fn tsne_negative(
        &mut self,
        y: Var,
        edges: &[(u32, u32)],
        negatives: &[(u32, u32)],
        kernel: StudentT,
        z_bar: f64,
        attraction_weight: R,
    ) -> Result<Var> {
        let y = self.index(y)?;
        let [n_rows, width] = self.shape_of(y);
        let weight = attraction_weight.to_f64();
        super::check_edge_loss(OP, n_rows, edges, negatives, weight)?;
        kernel.check(OP)?;
        if !(z_bar.is_finite() && z_bar > 0.0) {
            return Err(AutodiffError::InvalidParameter {
                op: OP,
                name: "z_bar",
                value: z_bar,
                requirement: "finite and positive",
            });
        }
        let with_grad = self.needs_grad(y);
        let values: Vec<f64> = self.nodes[y].value.iter().map(|&v| Real::to_f64(v)).collect();
        let row = |a: usize| &values[a * width..(a + 1) * width];
        let mut grad_f64 = vec![0.0_f64; if with_grad { n_rows * width } else { 0 }];
        let ln_z_bar = z_bar.ln();
        // d(-ln w)/dd = ((dof + 1) / (2 dof)) u; the general form serves dof = 1 too (see
        // `tsne_coupled`).
        let form = General::new(kernel.dof);
        let half_factor = 0.5 * kernel.gradient_factor();
        let scale = 1.0 / edges.len() as f64;
        let mut loss = 0.0;
        // Positive pairs contribute softplus(L), negative ones softplus(-L), with
        // L = ln Z̄ - ln w = ln Z̄ + e ln(1 + d/α); dL/dd = e / (α + d).
        let mut visit = |pairs: &[(u32, u32)], sign: f64, factor: f64| {
            for &(a, b) in pairs {
                let (a, b) = (a as usize, b as usize);
                let sq_dist: f64 = row(a).iter().zip(row(b)).map(|(p, q)| (p - q) * (p - q)).sum();
                let l = ln_z_bar + form.neg_ln_weight(sq_dist);
                loss += factor * softplus(sign * l);
                if with_grad {
                    let d_loss_d_sq = factor * sign * ssne_tensor::sigmoid(sign * l) * half_factor * form.u(sq_dist);
                    for k in 0..width {
                        let g = 2.0 * d_loss_d_sq * (row(a)[k] - row(b)[k]);
                        grad_f64[a * width + k] += g;
                        grad_f64[b * width + k] -= g;
                    }
                }
            }
        };
        visit(edges, 1.0, weight * scale);
        visit(negatives, -1.0, scale);
        if !loss.is_finite() {
            return Err(AutodiffError::NonFinite { op: OP, value: loss });
        }
        Ok(self.push_fused_loss(y, loss, with_grad.then_some(grad_f64.as_slice())))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use ssne_tensor::ndarray::{Array2, array};

    use crate::check::{self, Tolerance};
    use crate::testing::{distinct_pairs, matrix, to_case};
    use crate::{AutodiffError, StudentT, Tape};

    /// Slow, obviously correct loss, straight from the definition with q = w / Z̄.
    fn reference(
        y: &Array2<f64>,
        edges: &[(u32, u32)],
        negatives: &[(u32, u32)],
        kernel: StudentT,
        z_bar: f64,
        weight: f64,
    ) -> f64 {
        let q = |a: u32, b: u32| {
            let (a, b) = (a as usize, b as usize);
            kernel.weight((&y.row(a) - &y.row(b)).mapv(|v| v * v).sum()) / z_bar
        };
        let positive: f64 = edges.iter().map(|&(a, b)| -(q(a, b) / (q(a, b) + 1.0)).ln()).sum();
        let negative: f64 = negatives
            .iter()
            .map(|&(a, b)| -(1.0 - q(a, b) / (q(a, b) + 1.0)).ln())
            .sum();
        (weight * positive + negative) / edges.len() as f64
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn tsne_negative_matches_finite_differences_and_the_reference(
            (y, edges, negatives) in (2usize..12, 1usize..=3)
                .prop_flat_map(|(m, d)| (matrix(m, d), distinct_pairs(m, 8), distinct_pairs(m, 20))),
            dof in 0.5..3.0f64,
            cauchy in any::<bool>(),
            z_bar in 0.01..50.0f64,
            weight in 0.0..4.0f64,
        ) {
            let kernel = StudentT { dof: if cauchy { 1.0 } else { dof } };
            let mut tape = Tape::<f64>::new();
            let y_var = tape.var(y.clone());
            let loss = tape.tsne_negative(y_var, &edges, &negatives, kernel, z_bar, weight).unwrap();
            let value = tape.scalar(loss).unwrap();
            let expected = reference(&y, &edges, &negatives, kernel, z_bar, weight);
            prop_assert!((value - expected).abs() <= 1e-10 * (1.0 + expected.abs()), "{value} vs {expected}");

            let tol = Tolerance { atol: 1e-7, rtol: 1e-5, ..Tolerance::default() };
            to_case(check::gradient(
                move |t, y| t.tsne_negative(y, &edges, &negatives, kernel, z_bar, weight),
                &y,
                tol,
            ))?;
        }
    }

    #[test]
    fn coincident_and_far_points_stay_finite() {
        let y = array![[0.0, 0.0], [0.0, 0.0], [1e150, -1e150], [3.0, 1.0]];
        let mut tape = Tape::<f64>::new();
        let y_var = tape.var(y);
        let loss = tape
            .tsne_negative(
                y_var,
                &[(0, 1), (2, 3)],
                &[(0, 2), (1, 0)],
                StudentT::default(),
                1e-3,
                1.0,
            )
            .unwrap();
        assert!(tape.scalar(loss).unwrap().is_finite());
        let g = tape.backward(loss).unwrap();
        assert!(g.get(y_var).unwrap().iter().all(|v| v.is_finite()));
    }

    #[test]
    fn invalid_inputs_are_errors() {
        let mut tape = Tape::<f32>::new();
        let y = tape.var(Array2::zeros((3, 2)));
        let kernel = StudentT::default();
        assert_eq!(
            tape.tsne_negative(y, &[], &[(0, 1)], kernel, 1.0, 1.0),
            Err(AutodiffError::NoEdges)
        );
        assert_eq!(
            tape.tsne_negative(y, &[(0, 1)], &[(2, 2)], kernel, 1.0, 1.0),
            Err(AutodiffError::InvalidEdge {
                edge_idx: 1,
                head: 2,
                tail: 2,
                n_rows: 3
            })
        );
        assert!(matches!(
            tape.tsne_negative(y, &[(0, 1)], &[], kernel, 0.0, 1.0),
            Err(AutodiffError::InvalidParameter { name: "z_bar", .. })
        ));
        assert!(matches!(
            tape.tsne_negative(y, &[(0, 1)], &[], kernel, 1.0, f32::INFINITY),
            Err(AutodiffError::InvalidParameter {
                name: "attraction_weight",
                ..
            })
        ));
        assert_eq!(tape.len(), 1);
    }
}
