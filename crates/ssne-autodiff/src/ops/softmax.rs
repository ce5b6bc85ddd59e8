//! Row-wise softmax and the fused softmax cross-entropy loss, both
//! max-subtracted so that logits of any size stay finite.

use std::ops::Range;

use ssne_tensor::ndarray::{Array2, ArrayView2, ArrayViewMut1, Axis, Zip};
use ssne_tensor::{Real, softmax_row_vjp, softmax_rows};

use crate::backward::GradSink;
use crate::op::Op;
use crate::{AutodiffError, Result, Tape, Var};

impl<R: Real> Tape<R> {
    /// The softmax of every row: `exp(x_ij - max_i) / sum_k exp(x_ik - max_i)`.
    ///
    /// # Errors
    /// [`AutodiffError::StaleVar`] for a foreign variable.
    pub fn softmax(&mut self, x: Var) -> Result<Var> {
        let x = self.index(x)?;
        let mut out = self.pool.take_copy(self.nodes[x].value.view());
        softmax_rows(out.view_mut());
        Ok(self.push(out, Op::Softmax { x }, self.needs_grad(x)))
    }

    /// The mean over rows of `-ln softmax(logits)[row, label]`, a `[1, 1]` loss.
    ///
    /// Computed as `log-sum-exp - logit` with the row maximum subtracted and the
    /// sums in `f64`, so it is finite and accurate for logits of any magnitude.
    ///
    /// # Errors
    /// [`AutodiffError::LabelCount`] unless there is one label per row,
    /// [`AutodiffError::TooFewRows`] for zero rows,
    /// [`AutodiffError::LabelOutOfRange`] for a label `>=` the number of columns,
    /// [`AutodiffError::StaleVar`] for a foreign variable.
    ///
    /// # Example
    /// ```
    /// use ssne_autodiff::Tape;
    /// use ssne_tensor::ndarray::array;
    ///
    /// let mut tape = Tape::<f64>::new();
    /// let logits = tape.var(array![[0.0, 0.0], [1e4, 0.0]]);
    /// let loss = tape.softmax_cross_entropy(logits, &[1, 0])?;
    /// // Row 0 is a fair coin (ln 2), row 1 is certain (0).
    /// assert!((tape.scalar(loss)? - 2f64.ln() / 2.0).abs() < 1e-15);
    /// # Ok::<(), ssne_autodiff::AutodiffError>(())
    /// ```
    pub fn softmax_cross_entropy(&mut self, logits: Var, labels: &[u32]) -> Result<Var> {
        let logits = self.index(logits)?;
        let [n_rows, n_classes] = self.shape_of(logits);
        if labels.len() != n_rows {
            return Err(AutodiffError::LabelCount {
                labels: labels.len(),
                rows: n_rows,
            });
        }
        if n_rows == 0 {
            return Err(AutodiffError::TooFewRows {
                op: "softmax_cross_entropy",
                rows: 0,
                min: 1,
            });
        }
        if let Some((row, &label)) = labels.iter().enumerate().find(|&(_, &l)| l as usize >= n_classes) {
            return Err(AutodiffError::LabelOutOfRange { row, label, n_classes });
        }

        let mut probs = self.pool.take((n_rows, n_classes));
        let row_losses = &mut self.scratch.f64s;
        row_losses.clear();
        row_losses.resize(n_rows, 0.0);
        Zip::from(probs.rows_mut())
            .and(self.nodes[logits].value.rows())
            .and(ArrayViewMut1::from(&mut row_losses[..]))
            .and(ssne_tensor::ndarray::ArrayView1::from(labels))
            .par_for_each(|mut p, x, loss, &label| {
                let max = x.iter().fold(R::neg_infinity(), |m, &v| m.max(v));
                let mut total = 0.0_f64;
                Zip::from(&mut p).and(&x).for_each(|p, &v| {
                    let e = (v - max).exp();
                    total += e.to_f64();
                    *p = e;
                });
                let inv = R::from_f64(1.0 / total);
                p.mapv_inplace(|e| e * inv);
                *loss = (max.to_f64() - x[label as usize].to_f64()) + total.ln();
            });
        // Rows summed in index order: the same bits on any thread count.
        let mean_loss = row_losses.iter().sum::<f64>() / n_rows as f64;

        let start = self.labels.len();
        self.labels.extend_from_slice(labels);
        let mut out = self.pool.take((1, 1));
        out[[0, 0]] = R::from_f64(mean_loss);
        let op = Op::SoftmaxCrossEntropy {
            logits,
            probs,
            labels: start..self.labels.len(),
        };
        Ok(self.push(out, op, self.needs_grad(logits)))
    }
}

/// `dx_i += s_i * (g_i - <g_i, s_i>)` for each row (`s` the softmax output).
pub(crate) fn softmax_backward<R: Real>(
    sink: &mut GradSink<'_, R>,
    x: usize,
    out: ArrayView2<'_, R>,
    mut grad: Array2<R>,
) {
    if sink.wants(x) {
        Zip::from(grad.rows_mut()).and(out.rows()).par_for_each(softmax_row_vjp);
    }
    sink.give(x, grad);
}

/// `dlogits += (softmax - onehot(label)) * g / n_rows`.
pub(crate) fn cross_entropy_backward<R: Real>(
    sink: &mut GradSink<'_, R>,
    logits: usize,
    probs: ArrayView2<'_, R>,
    labels: Range<usize>,
    grad: Array2<R>,
) {
    let labels = sink.labels(labels);
    let scale = grad[[0, 0]] / R::from_usize(probs.nrows());
    sink.accumulate(logits, |mut dx, acc| {
        acc.write_map(dx.view_mut(), probs, |p| p * scale);
        for (mut row, &label) in dx.axis_iter_mut(Axis(0)).zip(labels) {
            row[label as usize] -= scale;
        }
    });
    sink.recycle(grad);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use ssne_tensor::ndarray::{Array2, array};

    use crate::check::{self, Tolerance};
    use crate::testing::{assert_jacobian, matrix, to_case};
    use crate::{AutodiffError, Tape};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn softmax_matches_finite_differences(
            x in (1usize..=5, 1usize..=5).prop_flat_map(|(n, d)| matrix(n, d))
        ) {
            assert_jacobian(|t, x| t.softmax(x), &x)?;
        }

        #[test]
        fn cross_entropy_matches_finite_differences(
            (x, labels) in (1usize..=5, 1usize..=5).prop_flat_map(|(n, c)| {
                (matrix(n, c), proptest::collection::vec(0..c as u32, n))
            })
        ) {
            let f = move |t: &mut Tape<f64>, x| t.softmax_cross_entropy(x, &labels);
            to_case(check::gradient(f, &x, Tolerance::default()))?;
        }
    }

    #[test]
    fn huge_logits_stay_finite_and_correct() {
        let mut tape = Tape::<f32>::new();
        let logits = tape.var(array![[1e4, -1e4, 1e4], [3e4, 3e4 - 2f32.ln(), -5e4]]);
        let loss = tape.softmax_cross_entropy(logits, &[0, 1]).unwrap();
        // Row 0: two equal maxima, label on one of them -> ln 2.
        // Row 1: logits (a, a - ln 2): p = (2/3, 1/3), label 1 -> ln 3.
        let expected = (2f64.ln() + 3f64.ln()) / 2.0;
        let value = f64::from(tape.scalar(loss).unwrap());
        assert!((value - expected).abs() < 1e-3, "{value} vs {expected}");
        let g = tape.backward(loss).unwrap();
        let g = g.get(logits).unwrap();
        assert!(g.iter().all(|v| v.is_finite()));
        // (softmax - onehot) / n_rows.
        let expected_g = array![[-0.5, 0.0, 0.5], [2.0 / 3.0, -2.0 / 3.0, 0.0]] * 0.5;
        assert!(g.iter().zip(&expected_g).all(|(a, b)| (a - b).abs() < 1e-3), "{g:?}");

        let probs = tape.softmax(logits).unwrap();
        assert!(tape.value(probs).unwrap().iter().all(|v| v.is_finite()));
        assert!((tape.value(probs).unwrap()[[0, 0]] - 0.5).abs() < 1e-6);
    }

    #[test]
    fn label_errors_are_errors() {
        let mut tape = Tape::<f64>::new();
        let logits = tape.var(Array2::zeros((2, 3)));
        assert_eq!(
            tape.softmax_cross_entropy(logits, &[0, 3]),
            Err(AutodiffError::LabelOutOfRange {
                row: 1,
                label: 3,
                n_classes: 3
            })
        );
        assert_eq!(
            tape.softmax_cross_entropy(logits, &[0]),
            Err(AutodiffError::LabelCount { labels: 1, rows: 2 })
        );
        let empty = tape.var(Array2::zeros((0, 3)));
        assert!(matches!(
            tape.softmax_cross_entropy(empty, &[]),
            Err(AutodiffError::TooFewRows { rows: 0, .. })
        ));
        assert_eq!(tape.len(), 2);
    }

    #[test]
    fn labels_of_several_losses_stay_apart() {
        let mut tape = Tape::<f64>::new();
        let x = tape.var(array![[1.0, 2.0], [0.5, -0.5]]);
        let a = tape.softmax_cross_entropy(x, &[0, 1]).unwrap();
        let b = tape.softmax_cross_entropy(x, &[1, 0]).unwrap();
        let ga = tape.backward(a).unwrap().take(x).unwrap();
        let gb = tape.backward(b).unwrap().take(x).unwrap();
        // Sum over both label choices of (p - onehot) / 2 is p - 1/2 per entry pair.
        let total = &ga + &gb;
        let probs = tape.softmax(x).unwrap();
        let probs = tape.value(probs).unwrap();
        assert!(
            total.iter().zip(probs).all(|(t, p)| (t - (p - 0.5)).abs() < 1e-12),
            "{total:?}"
        );
    }
}
