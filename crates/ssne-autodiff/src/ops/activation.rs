//! Element-wise activations. Each backward rule is written in terms of the
//! output, so nothing beyond the node value is kept.

use ssne_tensor::ndarray::{Array2, ArrayView2};
use ssne_tensor::{Real, relu, relu_derivative, sigmoid, sigmoid_derivative, tanh_derivative};

use super::zip2;
use crate::backward::GradSink;
use crate::op::Op;
use crate::{Result, Tape, Var};

impl<R: Real> Tape<R> {
    /// `max(x, 0)` element-wise. The derivative at exactly 0 is taken as 0.
    ///
    /// # Errors
    /// [`AutodiffError::StaleVar`](crate::AutodiffError::StaleVar) for a foreign variable.
    pub fn relu(&mut self, x: Var) -> Result<Var> {
        let x = self.index(x)?;
        let out = self.unary_map(x, relu);
        Ok(self.push(out, Op::Relu { x }, self.needs_grad(x)))
    }

    /// `tanh(x)` element-wise.
    ///
    /// # Errors
    /// [`AutodiffError::StaleVar`](crate::AutodiffError::StaleVar) for a foreign variable.
    pub fn tanh(&mut self, x: Var) -> Result<Var> {
        let x = self.index(x)?;
        let out = self.unary_map(x, R::tanh);
        Ok(self.push(out, Op::Tanh { x }, self.needs_grad(x)))
    }

    /// The logistic function `1 / (1 + exp(-x))` element-wise, evaluated so that
    /// neither tail overflows.
    ///
    /// # Errors
    /// [`AutodiffError::StaleVar`](crate::AutodiffError::StaleVar) for a foreign variable.
    pub fn sigmoid(&mut self, x: Var) -> Result<Var> {
        let x = self.index(x)?;
        let out = self.unary_map(x, sigmoid);
        Ok(self.push(out, Op::Sigmoid { x }, self.needs_grad(x)))
    }
}

/// Multiplies the incoming gradient in place by `f'(out)` and passes it on.
fn chain_through<R: Real>(
    sink: &mut GradSink<'_, R>,
    x: usize,
    out: ArrayView2<'_, R>,
    mut grad: Array2<R>,
    derivative: impl Fn(R) -> R + Sync + Send,
) {
    if sink.wants(x) {
        zip2(grad.view_mut(), out, |g, y| *g *= derivative(y));
    }
    sink.give(x, grad);
}

/// `dx += G * [y > 0]`.
pub(crate) fn relu_backward<R: Real>(sink: &mut GradSink<'_, R>, x: usize, out: ArrayView2<'_, R>, grad: Array2<R>) {
    chain_through(sink, x, out, grad, relu_derivative);
}

/// `dx += G * (1 - y²)`.
pub(crate) fn tanh_backward<R: Real>(sink: &mut GradSink<'_, R>, x: usize, out: ArrayView2<'_, R>, grad: Array2<R>) {
    chain_through(sink, x, out, grad, tanh_derivative);
}

/// `dx += G * y (1 - y)`.
pub(crate) fn sigmoid_backward<R: Real>(sink: &mut GradSink<'_, R>, x: usize, out: ArrayView2<'_, R>, grad: Array2<R>) {
    chain_through(sink, x, out, grad, sigmoid_derivative);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use ssne_tensor::ndarray::array;

    use crate::Tape;
    use crate::testing::{assert_jacobian, matrix, matrix_away_from_zero};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// ReLU inputs are drawn with |x| >= 1e-2, so a finite-difference step
        /// (1e-6) never crosses the kink.
        #[test]
        fn relu_matches_finite_differences(
            x in (1usize..=5, 1usize..=5).prop_flat_map(|(n, d)| matrix_away_from_zero(n, d, 1e-2))
        ) {
            assert_jacobian(|t, x| t.relu(x), &x)?;
        }

        #[test]
        fn tanh_and_sigmoid_match_finite_differences(
            x in (1usize..=5, 1usize..=5).prop_flat_map(|(n, d)| matrix(n, d))
        ) {
            assert_jacobian(|t, x| t.tanh(x), &x)?;
            assert_jacobian(|t, x| t.sigmoid(x), &x)?;
        }
    }

    #[test]
    fn sigmoid_is_finite_in_both_tails() {
        let mut tape = Tape::<f32>::new();
        let x = tape.var(array![[-1000.0, 0.0, 1000.0]]);
        let y = tape.sigmoid(x).unwrap();
        assert_eq!(tape.value(y).unwrap(), array![[0.0, 0.5, 1.0]]);
        let g = tape.vjp(y, array![[1.0, 1.0, 1.0]].view()).unwrap();
        assert_eq!(g.get(x).unwrap(), array![[0.0, 0.25, 0.0]]);
    }

    #[test]
    fn relu_gradient_at_zero_is_zero() {
        let mut tape = Tape::<f64>::new();
        let x = tape.var(array![[-1.0, 0.0, 2.0]]);
        let y = tape.relu(x).unwrap();
        let g = tape.vjp(y, array![[1.0, 1.0, 1.0]].view()).unwrap();
        assert_eq!(g.get(x).unwrap(), array![[0.0, 0.0, 1.0]]);
    }
}
