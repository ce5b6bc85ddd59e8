//! Pairwise squared distances of the rows of a matrix, as a differentiable op.

use ssne_tensor::Real;
use ssne_tensor::ndarray::{Array2, ArrayView2, Axis, Zip};

use crate::backward::{Accum, GradSink};
use crate::op::Op;
use crate::{Result, Tape, Var};

impl<R: Real> Tape<R> {
    /// The `[n, n]` matrix of squared distances `|y_i - y_j|²` between the rows of `y`.
    ///
    /// Computed from coordinate differences (in `f64`), not through the
    /// `|a|² + |b|² - 2 a.b` expansion, so identical rows give exactly 0 and the
    /// result is exactly symmetric. O(n² d): meant for the small batches of a
    /// differentiable loss, not for whole data sets.
    ///
    /// # Errors
    /// [`AutodiffError::StaleVar`](crate::AutodiffError::StaleVar) for a foreign variable.
    ///
    /// # Example
    /// ```
    /// use ssne_autodiff::Tape;
    /// use ssne_tensor::ndarray::array;
    ///
    /// let mut tape = Tape::<f64>::new();
    /// let y = tape.var(array![[0.0, 0.0], [3.0, 4.0]]);
    /// let d = tape.sq_dists(y)?;
    /// assert_eq!(tape.value(d)?, array![[0.0, 25.0], [25.0, 0.0]]);
    /// # Ok::<(), ssne_autodiff::AutodiffError>(())
    /// ```
    pub fn sq_dists(&mut self, y: Var) -> Result<Var> {
        let y = self.index(y)?;
        let n = self.shape_of(y)[0];
        let mut out = self.pool.take((n, n));
        let y_val = self.nodes[y].value.view();
        Zip::from(out.rows_mut())
            .and(y_val.rows())
            .par_for_each(|mut d_row, y_i| {
                for (d, y_j) in d_row.iter_mut().zip(y_val.rows()) {
                    let sq: f64 = y_i
                        .iter()
                        .zip(&y_j)
                        .map(|(&a, &b)| {
                            let diff = a.to_f64() - b.to_f64();
                            diff * diff
                        })
                        .sum();
                    *d = R::from_f64(sq);
                }
            });
        Ok(self.push(out, Op::SqDists { y }, self.needs_grad(y)))
    }
}

/// `dy_i += 2 Σ_j (G_ij + G_ji)(y_i - y_j)`: `D_ij` and `D_ji` both depend on `y_i`.
pub(crate) fn backward<R: Real>(sink: &mut GradSink<'_, R>, y: usize, grad: Array2<R>) {
    let y_val = sink.value(y);
    sink.accumulate(y, |mut dy, acc| {
        Zip::indexed(dy.axis_iter_mut(Axis(0))).par_for_each(|i, mut dy_i| {
            for (k, d) in dy_i.iter_mut().enumerate() {
                let value = R::from_f64(row_gradient(y_val, grad.view(), i, k));
                match acc {
                    Accum::Assign => *d = value,
                    Accum::Add => *d += value,
                }
            }
        });
    });
    sink.recycle(grad);
}

/// Component `k` of `2 Σ_j (G_ij + G_ji)(y_ik - y_jk)`, in `f64`.
fn row_gradient<R: Real>(y: ArrayView2<'_, R>, grad: ArrayView2<'_, R>, i: usize, k: usize) -> f64 {
    let y_ik = y[[i, k]].to_f64();
    let sum: f64 = (0..y.nrows())
        .map(|j| (grad[[i, j]].to_f64() + grad[[j, i]].to_f64()) * (y_ik - y[[j, k]].to_f64()))
        .sum();
    2.0 * sum
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use ssne_tensor::ndarray::{Array2, array};

    use crate::Tape;
    use crate::testing::{assert_jacobian, matrix};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn sq_dists_matches_finite_differences(
            y in (1usize..=5, 1usize..=4).prop_flat_map(|(n, d)| matrix(n, d))
        ) {
            assert_jacobian(|t, y| t.sq_dists(y), &y)?;
        }
    }

    #[test]
    fn identical_rows_are_exactly_zero_with_finite_gradient() {
        let mut tape = Tape::<f32>::new();
        let y = tape.var(array![[0.1, 0.7], [0.1, 0.7], [1e3, -1e3]]);
        let d = tape.sq_dists(y).unwrap();
        let d_val = tape.value(d).unwrap().to_owned();
        assert_eq!(d_val[[0, 1]], 0.0);
        assert_eq!(d_val[[1, 0]], 0.0);
        assert_eq!(d_val, d_val.t());
        let seed = Array2::from_shape_fn((3, 3), |(i, j)| (i * 3 + j) as f32);
        let g = tape.vjp(d, seed.view()).unwrap();
        assert!(g.get(y).unwrap().iter().all(|v| v.is_finite()));
    }
}
