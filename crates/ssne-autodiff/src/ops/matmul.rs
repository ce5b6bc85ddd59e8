//! Matrix product through `ssne_tensor::gemm`; the backward pass uses transposed
//! GEMM operands instead of materialised transposes.

use ssne_tensor::ndarray::Array2;
use ssne_tensor::{Real, Trans, gemm};

use crate::backward::GradSink;
use crate::op::Op;
use crate::{AutodiffError, Result, Tape, Var};

impl<R: Real> Tape<R> {
    /// The matrix product `a b` of an `[n, k]` and a `[k, m]` matrix.
    ///
    /// # Errors
    /// [`AutodiffError::ShapeMismatch`] when the inner dimensions differ;
    /// [`AutodiffError::StaleVar`] for a foreign variable.
    ///
    /// # Example
    /// ```
    /// use ssne_autodiff::Tape;
    /// use ssne_tensor::ndarray::array;
    ///
    /// let mut tape = Tape::<f32>::new();
    /// let a = tape.constant(array![[1.0, 2.0]]);
    /// let b = tape.var(array![[3.0], [4.0]]);
    /// let c = tape.matmul(a, b)?;
    /// assert_eq!(tape.value(c)?, array![[11.0]]);
    /// # Ok::<(), ssne_autodiff::AutodiffError>(())
    /// ```
    pub fn matmul(&mut self, a: Var, b: Var) -> Result<Var> {
        let (a, b) = (self.index(a)?, self.index(b)?);
        let [n, k] = self.shape_of(a);
        let [k_b, m] = self.shape_of(b);
        if k != k_b {
            return Err(AutodiffError::ShapeMismatch {
                op: "matmul",
                left: [n, k],
                right: [k_b, m],
            });
        }
        let mut out = self.pool.take((n, m));
        let (a_val, b_val) = (self.nodes[a].value.view(), self.nodes[b].value.view());
        gemm(R::one(), a_val, Trans::N, b_val, Trans::N, R::zero(), out.view_mut())?;
        let needs_grad = self.needs_grad(a) || self.needs_grad(b);
        Ok(self.push(out, Op::MatMul { a, b }, needs_grad))
    }
}

/// `dA += G Bᵀ`, `dB += Aᵀ G`; each only when that input needs a gradient, so a
/// constant data matrix costs no GEMM.
pub(crate) fn backward<R: Real>(sink: &mut GradSink<'_, R>, a: usize, b: usize, grad: Array2<R>) {
    let (a_val, b_val) = (sink.value(a), sink.value(b));
    // The shapes were checked when the node was recorded, so gemm cannot reject them.
    const SHAPES_CHECKED: &str = "matmul shapes were checked on the forward pass";
    sink.accumulate(a, |da, acc| {
        gemm(R::one(), grad.view(), Trans::N, b_val, Trans::T, acc.beta(), da).expect(SHAPES_CHECKED);
    });
    sink.accumulate(b, |db, acc| {
        gemm(R::one(), a_val, Trans::T, grad.view(), Trans::N, acc.beta(), db).expect(SHAPES_CHECKED);
    });
    sink.recycle(grad);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use ssne_tensor::ndarray::{Array2, array};

    use crate::testing::{assert_jacobian, matrix};
    use crate::{AutodiffError, Tape};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// d(ab)/da and d(ab)/db against finite differences, one operand a var at a time.
        #[test]
        fn gradient_matches_finite_differences(
            (a, b) in (1usize..=5, 1usize..=5, 1usize..=5)
                .prop_flat_map(|(n, k, m)| (matrix(n, k), matrix(k, m)))
        ) {
            let b_const = b.clone();
            assert_jacobian(move |t, x| { let b = t.constant(b_const.clone()); t.matmul(x, b) }, &a)?;
            let a_const = a.clone();
            assert_jacobian(move |t, x| { let a = t.constant(a_const.clone()); t.matmul(a, x) }, &b)?;
        }
    }

    #[test]
    fn square_of_a_var_accumulates_both_sides() {
        // x feeds both operands, so the VJP with seed S is S xᵀ (left slot) + xᵀ S
        // (right slot): fan-out must add the two, not overwrite.
        let x0 = array![[1.0, 2.0], [3.0, 4.0]];
        let mut tape = Tape::<f64>::new();
        let x = tape.var(x0.clone());
        let y = tape.matmul(x, x).unwrap();
        let ones = Array2::<f64>::ones((2, 2));
        let g = tape.vjp(y, ones.view()).unwrap();
        let expected = ones.dot(&x0.t()) + x0.t().dot(&ones);
        assert_eq!(g.get(x).unwrap(), expected);
    }

    #[test]
    fn constant_operand_gets_no_gradient() {
        let mut tape = Tape::<f64>::new();
        let x = tape.constant(array![[1.0, 2.0]]);
        let w = tape.var(array![[1.0], [1.0]]);
        let y = tape.matmul(x, w).unwrap();
        let g = tape.backward(y).unwrap();
        assert!(g.get(x).is_none());
        assert_eq!(g.get(w).unwrap(), array![[1.0], [2.0]]);
    }

    #[test]
    fn empty_inner_dimension_gives_zeros() {
        let mut tape = Tape::<f64>::new();
        let a = tape.var(Array2::zeros((2, 0)));
        let b = tape.var(Array2::zeros((0, 3)));
        let c = tape.matmul(a, b).unwrap();
        assert_eq!(tape.value(c).unwrap(), Array2::<f64>::zeros((2, 3)));
    }

    #[test]
    fn inner_dimension_mismatch_is_an_error() {
        let mut tape = Tape::<f32>::new();
        let a = tape.var(Array2::zeros((2, 3)));
        let b = tape.var(Array2::zeros((2, 3)));
        assert_eq!(
            tape.matmul(a, b),
            Err(AutodiffError::ShapeMismatch {
                op: "matmul",
                left: [2, 3],
                right: [2, 3]
            })
        );
        assert_eq!(tape.len(), 2, "a failed op records nothing");
    }
}
