//! Element-wise arithmetic: `add`, `sub`, `mul`, `scale` and the row-broadcast `add_bias`.

use ssne_tensor::ndarray::{Array2, Axis};
use ssne_tensor::{Real, add_row_bias};

use super::{same_shape, zip2, zip3};
use crate::backward::{Accum, GradSink};
use crate::op::Op;
use crate::{Result, Tape, Var};

impl<R: Real> Tape<R> {
    /// `x + bias` with the `[1, d]` row `bias` added to every row of the `[n, d]` matrix `x`.
    ///
    /// # Errors
    /// [`AutodiffError::ShapeMismatch`](crate::AutodiffError::ShapeMismatch) unless `bias` is `[1, d]`;
    /// [`AutodiffError::StaleVar`](crate::AutodiffError::StaleVar) for a foreign variable.
    ///
    /// # Example
    /// ```
    /// use ssne_autodiff::Tape;
    /// use ssne_tensor::ndarray::array;
    ///
    /// let mut tape = Tape::<f64>::new();
    /// let x = tape.constant(array![[1.0, 2.0], [3.0, 4.0]]);
    /// let b = tape.var(array![[10.0, 20.0]]);
    /// let y = tape.add_bias(x, b)?;
    /// assert_eq!(tape.value(y)?, array![[11.0, 22.0], [13.0, 24.0]]);
    /// let loss = tape.sum(y)?;
    /// assert_eq!(tape.backward(loss)?.get(b).unwrap(), array![[2.0, 2.0]]); // one per row
    /// # Ok::<(), ssne_autodiff::AutodiffError>(())
    /// ```
    pub fn add_bias(&mut self, x: Var, bias: Var) -> Result<Var> {
        let (x, bias) = (self.index(x)?, self.index(bias)?);
        let [_, d] = self.shape_of(x);
        same_shape("add_bias", [1, d], self.shape_of(bias))?;
        let mut out = self.pool.take_copy(self.nodes[x].value.view());
        add_row_bias(out.view_mut(), self.nodes[bias].value.row(0));
        let needs_grad = self.needs_grad(x) || self.needs_grad(bias);
        Ok(self.push(out, Op::AddBias { x, bias }, needs_grad))
    }

    /// `a + b` for equal shapes.
    ///
    /// # Errors
    /// [`AutodiffError::ShapeMismatch`](crate::AutodiffError::ShapeMismatch) for different shapes;
    /// [`AutodiffError::StaleVar`](crate::AutodiffError::StaleVar) for a foreign variable.
    pub fn add(&mut self, a: Var, b: Var) -> Result<Var> {
        let (a, b) = self.binary_operands("add", a, b)?;
        let out = self.binary_map(a, b, |a, b| a + b);
        let needs_grad = self.needs_grad(a) || self.needs_grad(b);
        Ok(self.push(out, Op::Add { a, b }, needs_grad))
    }

    /// `a - b` for equal shapes.
    ///
    /// # Errors
    /// [`AutodiffError::ShapeMismatch`](crate::AutodiffError::ShapeMismatch) for different shapes;
    /// [`AutodiffError::StaleVar`](crate::AutodiffError::StaleVar) for a foreign variable.
    pub fn sub(&mut self, a: Var, b: Var) -> Result<Var> {
        let (a, b) = self.binary_operands("sub", a, b)?;
        let out = self.binary_map(a, b, |a, b| a - b);
        let needs_grad = self.needs_grad(a) || self.needs_grad(b);
        Ok(self.push(out, Op::Sub { a, b }, needs_grad))
    }

    /// The element-wise (Hadamard) product `a * b` for equal shapes.
    ///
    /// # Errors
    /// [`AutodiffError::ShapeMismatch`](crate::AutodiffError::ShapeMismatch) for different shapes;
    /// [`AutodiffError::StaleVar`](crate::AutodiffError::StaleVar) for a foreign variable.
    pub fn mul(&mut self, a: Var, b: Var) -> Result<Var> {
        let (a, b) = self.binary_operands("mul", a, b)?;
        let out = self.binary_map(a, b, |a, b| a * b);
        let needs_grad = self.needs_grad(a) || self.needs_grad(b);
        Ok(self.push(out, Op::Mul { a, b }, needs_grad))
    }

    /// `factor * x`.
    ///
    /// # Errors
    /// [`AutodiffError::StaleVar`](crate::AutodiffError::StaleVar) for a foreign variable.
    pub fn scale(&mut self, x: Var, factor: R) -> Result<Var> {
        let x = self.index(x)?;
        let out = self.unary_map(x, |v| v * factor);
        Ok(self.push(out, Op::Scale { x, factor }, self.needs_grad(x)))
    }

    fn binary_operands(&self, op: &'static str, a: Var, b: Var) -> Result<(usize, usize)> {
        let (a, b) = (self.index(a)?, self.index(b)?);
        same_shape(op, self.shape_of(a), self.shape_of(b))?;
        Ok((a, b))
    }

    /// `f(a, b)` into a recycled buffer; the shapes must already be equal.
    fn binary_map(&mut self, a: usize, b: usize, f: impl Fn(R, R) -> R + Sync + Send) -> Array2<R> {
        let mut out = self.pool.take(self.nodes[a].value.dim());
        let (a_val, b_val) = (self.nodes[a].value.view(), self.nodes[b].value.view());
        zip3(out.view_mut(), a_val, b_val, |o, a, b| *o = f(a, b));
        out
    }

    /// `f(x)` into a recycled buffer.
    pub(crate) fn unary_map(&mut self, x: usize, f: impl Fn(R) -> R + Sync + Send) -> Array2<R> {
        let mut out = self.pool.take(self.nodes[x].value.dim());
        zip2(out.view_mut(), self.nodes[x].value.view(), |o, x| *o = f(x));
        out
    }
}

/// `dx += G`, `dbias += column sums of G` (summed in `f64`, rows in order).
pub(crate) fn add_bias_backward<R: Real>(sink: &mut GradSink<'_, R>, x: usize, bias: usize, grad: Array2<R>) {
    if sink.wants(bias) {
        let sums = sink.col_sums();
        sums.clear();
        sums.resize(grad.ncols(), 0.0);
        for row in grad.axis_iter(Axis(0)) {
            sums.iter_mut().zip(row).for_each(|(s, &g)| *s += g.to_f64());
        }
        let sums = std::mem::take(sink.col_sums());
        sink.accumulate(bias, |mut db, acc| {
            let db = db.row_mut(0);
            match acc {
                Accum::Assign => db.into_iter().zip(&sums).for_each(|(d, &s)| *d = R::from_f64(s)),
                Accum::Add => db.into_iter().zip(&sums).for_each(|(d, &s)| *d += R::from_f64(s)),
            }
        });
        *sink.col_sums() = sums;
    }
    sink.give(x, grad);
}

/// `da += G`, `db += G`.
pub(crate) fn add_backward<R: Real>(sink: &mut GradSink<'_, R>, a: usize, b: usize, grad: Array2<R>) {
    sink.accumulate(b, |db, acc| acc.write_map(db, grad.view(), |g| g));
    sink.give(a, grad);
}

/// `da += G`, `db -= G`.
pub(crate) fn sub_backward<R: Real>(sink: &mut GradSink<'_, R>, a: usize, b: usize, grad: Array2<R>) {
    sink.accumulate(b, |db, acc| acc.write_map(db, grad.view(), |g| -g));
    sink.give(a, grad);
}

/// `da += G * b`, `db += G * a`.
pub(crate) fn mul_backward<R: Real>(sink: &mut GradSink<'_, R>, a: usize, b: usize, grad: Array2<R>) {
    let (a_val, b_val) = (sink.value(a), sink.value(b));
    sink.accumulate(a, |da, acc| acc.write_map2(da, grad.view(), b_val, |g, b| g * b));
    sink.accumulate(b, |db, acc| acc.write_map2(db, grad.view(), a_val, |g, a| g * a));
    sink.recycle(grad);
}

/// `dx += factor * G`, scaling G in place.
pub(crate) fn scale_backward<R: Real>(sink: &mut GradSink<'_, R>, x: usize, factor: R, mut grad: Array2<R>) {
    if sink.wants(x) {
        grad.mapv_inplace(|g| g * factor);
    }
    sink.give(x, grad);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use ssne_tensor::ndarray::{Array2, array};

    use crate::testing::{assert_jacobian, matrix};
    use crate::{AutodiffError, Tape, Var};

    type BinaryOp = fn(&mut Tape<f64>, Var, Var) -> crate::Result<Var>;

    /// Checks `op` with respect to each operand while the other is a constant.
    fn check_binary(op: BinaryOp, a: &Array2<f64>, b: &Array2<f64>) -> Result<(), TestCaseError> {
        let b_const = b.clone();
        assert_jacobian(
            move |t, x| {
                let b = t.constant(b_const.clone());
                op(t, x, b)
            },
            a,
        )?;
        let a_const = a.clone();
        assert_jacobian(
            move |t, x| {
                let a = t.constant(a_const.clone());
                op(t, a, x)
            },
            b,
        )?;
        // Same var on both sides: fan-out must add both contributions.
        assert_jacobian(move |t, x| op(t, x, x), a)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn add_sub_mul_match_finite_differences(
            (a, b) in (1usize..=5, 1usize..=5).prop_flat_map(|(n, d)| (matrix(n, d), matrix(n, d)))
        ) {
            check_binary(Tape::add, &a, &b)?;
            check_binary(Tape::sub, &a, &b)?;
            check_binary(Tape::mul, &a, &b)?;
        }

        #[test]
        fn add_bias_matches_finite_differences(
            (x, bias) in (1usize..=5, 1usize..=5).prop_flat_map(|(n, d)| (matrix(n, d), matrix(1, d)))
        ) {
            let bias_const = bias.clone();
            assert_jacobian(move |t, x| { let b = t.constant(bias_const.clone()); t.add_bias(x, b) }, &x)?;
            let x_const = x.clone();
            assert_jacobian(move |t, b| { let x = t.constant(x_const.clone()); t.add_bias(x, b) }, &bias)?;
        }

        #[test]
        fn scale_matches_finite_differences(
            x in (1usize..=5, 1usize..=5).prop_flat_map(|(n, d)| matrix(n, d)),
            factor in -3.0..3.0f64,
        ) {
            assert_jacobian(move |t, x| t.scale(x, factor), &x)?;
        }
    }

    #[test]
    fn shape_errors_are_errors() {
        let mut tape = Tape::<f64>::new();
        let a = tape.var(Array2::zeros((2, 3)));
        let b = tape.var(Array2::zeros((3, 2)));
        let row = tape.var(Array2::zeros((1, 2)));
        assert_eq!(
            tape.add(a, b),
            Err(AutodiffError::ShapeMismatch {
                op: "add",
                left: [2, 3],
                right: [3, 2]
            })
        );
        assert!(matches!(
            tape.sub(a, b),
            Err(AutodiffError::ShapeMismatch { op: "sub", .. })
        ));
        assert!(matches!(
            tape.mul(a, b),
            Err(AutodiffError::ShapeMismatch { op: "mul", .. })
        ));
        assert_eq!(
            tape.add_bias(a, row),
            Err(AutodiffError::ShapeMismatch {
                op: "add_bias",
                left: [1, 3],
                right: [1, 2]
            })
        );
        assert!(matches!(tape.add_bias(a, a), Err(AutodiffError::ShapeMismatch { .. })));
        assert_eq!(tape.len(), 3);
    }

    #[test]
    fn bias_gradient_sums_rows_and_input_gradient_passes_through() {
        let mut tape = Tape::<f32>::new();
        let x = tape.var(array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
        let b = tape.var(array![[0.5, -0.5]]);
        let y = tape.add_bias(x, b).unwrap();
        let seed = array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
        let g = tape.vjp(y, seed.view()).unwrap();
        assert_eq!(g.get(x).unwrap(), seed);
        assert_eq!(g.get(b).unwrap(), array![[9.0, 12.0]]);
    }
}
