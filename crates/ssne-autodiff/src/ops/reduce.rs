//! Reductions to a `[1, 1]` scalar: `sum` and `mean`, accumulated in `f64`.

use ssne_tensor::ndarray::{Array2, ArrayView2};
use ssne_tensor::{Real, sum_f64};

use crate::backward::GradSink;
use crate::op::Op;
use crate::{AutodiffError, Result, Tape, Var};

impl<R: Real> Tape<R> {
    /// The sum of all elements, a `[1, 1]` value (0 for an empty matrix).
    ///
    /// # Errors
    /// [`AutodiffError::StaleVar`] for a foreign variable.
    pub fn sum(&mut self, x: Var) -> Result<Var> {
        let x = self.index(x)?;
        let total = total_f64(self.nodes[x].value.view());
        let mut out = self.pool.take((1, 1));
        out[[0, 0]] = R::from_f64(total);
        Ok(self.push(out, Op::Sum { x }, self.needs_grad(x)))
    }

    /// The mean of all elements, a `[1, 1]` value.
    ///
    /// # Errors
    /// [`AutodiffError::TooFewRows`] for a matrix without elements;
    /// [`AutodiffError::StaleVar`] for a foreign variable.
    pub fn mean(&mut self, x: Var) -> Result<Var> {
        let x = self.index(x)?;
        let len = self.nodes[x].value.len();
        if len == 0 {
            return Err(AutodiffError::TooFewRows {
                op: "mean",
                rows: self.shape_of(x)[0],
                min: 1,
            });
        }
        let total = total_f64(self.nodes[x].value.view());
        let mut out = self.pool.take((1, 1));
        out[[0, 0]] = R::from_f64(total / len as f64);
        Ok(self.push(out, Op::Mean { x }, self.needs_grad(x)))
    }
}

/// Deterministic `f64` sum in memory order (fixed for a given array).
fn total_f64<R: Real>(x: ArrayView2<'_, R>) -> f64 {
    match x.as_slice_memory_order() {
        Some(slice) => sum_f64(slice),
        None => x.iter().map(|&v| v.to_f64()).sum(),
    }
}

/// `dx += g` (sum) or `dx += g / len` (mean), broadcast to every element.
pub(crate) fn sum_backward<R: Real>(sink: &mut GradSink<'_, R>, x: usize, grad: Array2<R>, mean: bool) {
    let mut g = grad[[0, 0]];
    if mean {
        g /= R::from_usize(sink.value(x).len());
    }
    sink.accumulate(x, |dx, acc| acc.write_fill(dx, g));
    sink.recycle(grad);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use ssne_tensor::ndarray::{Array2, array};

    use crate::check::{self, Tolerance};
    use crate::testing::{matrix, to_case};
    use crate::{AutodiffError, Tape};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn sum_and_mean_match_finite_differences(
            x in (1usize..=5, 1usize..=5).prop_flat_map(|(n, d)| matrix(n, d))
        ) {
            to_case(check::gradient(|t, x| t.sum(x), &x, Tolerance::default()))?;
            to_case(check::gradient(|t, x| t.mean(x), &x, Tolerance::default()))?;
        }
    }

    #[test]
    fn sum_of_transposed_leaf_and_mean_of_empty() {
        let mut tape = Tape::<f64>::new();
        let x = tape.var(array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]].reversed_axes());
        let s = tape.sum(x).unwrap();
        let m = tape.mean(x).unwrap();
        assert_eq!(tape.scalar(s).unwrap(), 21.0);
        assert_eq!(tape.scalar(m).unwrap(), 3.5);
        assert_eq!(
            tape.backward(m).unwrap().get(x).unwrap(),
            Array2::from_elem((3, 2), 1.0 / 6.0)
        );
        let empty = tape.var(Array2::zeros((0, 4)));
        let s = tape.sum(empty).unwrap();
        assert_eq!(tape.scalar(s).unwrap(), 0.0);
        assert_eq!(
            tape.mean(empty),
            Err(AutodiffError::TooFewRows {
                op: "mean",
                rows: 0,
                min: 1
            })
        );
    }
}
