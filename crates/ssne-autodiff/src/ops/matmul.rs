//! Matrix product through `ssne_tensor::gemm`; the backward pass uses transposed
//! GEMM operands instead of materialised transposes. A left operand that needs
//! no gradient and is mostly zeros (a batch of images) is multiplied in
//! compressed form instead, and its transpose serves the weight gradient.

use ssne_tensor::ndarray::{Array2, ArrayView2};
use ssne_tensor::{Csr, Real, SPARSE_MAX_DENSITY, Trans, csr_gemm, gemm, worth_compressing};

use crate::backward::GradSink;
use crate::op::Op;
use crate::{AutodiffError, Result, Tape, Var};

impl<R: Real> Tape<R> {
    /// The matrix product `a b` of an `[n, k]` and a `[k, m]` matrix.
    ///
    /// When `a` needs no gradient (data, a constant), is large enough to
    /// matter and at most [`SPARSE_MAX_DENSITY`] of its entries are non-zero,
    /// the product skips its zeros ([`ssne_tensor::csr_gemm`]); the gradient
    /// with respect to `b` then uses the compressed transpose of `a`. The
    /// result equals the dense product up to rounding, and either way does
    /// not depend on the thread count.
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
        let needs_grad = self.needs_grad(a) || self.needs_grad(b);
        let (a_val, b_val) = (self.nodes[a].value.view(), self.nodes[b].value.view());
        if !self.needs_grad(a)
            && worth_compressing(n, k, m)
            && let Some(slot) = self.sparse.compress(a_val)
        {
            let (csr, csr_t) = &mut self.sparse.slots[slot];
            let transpose = self.nodes[b].needs_grad;
            // The transpose (serial) overlaps the product (parallel by rows).
            let (product, ()) = rayon::join(
                || csr_gemm(R::one(), csr, b_val, R::zero(), out.view_mut()),
                || {
                    if transpose {
                        csr.transpose_into(csr_t);
                    }
                },
            );
            product?;
            let op = Op::MatMul {
                a,
                b,
                sparse: Some(slot),
            };
            return Ok(self.push(out, op, needs_grad));
        }
        gemm(R::one(), a_val, Trans::N, b_val, Trans::N, R::zero(), out.view_mut())?;
        Ok(self.push(out, Op::MatMul { a, b, sparse: None }, needs_grad))
    }
}

/// Compressed copies of the sparse left operands of `matmul` since the last
/// [`Tape::clear`], with their transposes where the weight gradient needs
/// them. Slots are reused across clears, so identical steps allocate nothing.
#[derive(Debug)]
pub(crate) struct SparseOperands<R> {
    slots: Vec<(Csr<R>, Csr<R>)>,
    used: usize,
}

impl<R: Real> Default for SparseOperands<R> {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            used: 0,
        }
    }
}

impl<R: Real> SparseOperands<R> {
    /// Compresses `a` into a fresh slot if it is sparse enough and returns
    /// the slot; the caller fills the slot's transpose if it needs one.
    fn compress(&mut self, a: ArrayView2<'_, R>) -> Option<usize> {
        if self.used == self.slots.len() {
            self.slots.push((Csr::new(), Csr::new()));
        }
        if !self.slots[self.used].0.assign_if_sparse(a, SPARSE_MAX_DENSITY) {
            return None;
        }
        self.used += 1;
        Some(self.used - 1)
    }

    /// Forgets the slots' contents (keeping their buffers).
    pub(crate) fn clear(&mut self) {
        self.used = 0;
    }
}

/// `dA += G Bᵀ`, `dB += Aᵀ G`; each only when that input needs a gradient, so a
/// constant data matrix costs no GEMM. A compressed `a` never needs one (see
/// [`Tape::matmul`]), and its stored transpose gives `Aᵀ G` sparsely.
pub(crate) fn backward<R: Real>(
    sink: &mut GradSink<'_, R>,
    a: usize,
    b: usize,
    sparse: Option<usize>,
    grad: Array2<R>,
) {
    let (a_val, b_val) = (sink.value(a), sink.value(b));
    // The shapes were checked when the node was recorded, so the kernels cannot reject them.
    const SHAPES_CHECKED: &str = "matmul shapes were checked on the forward pass";
    sink.accumulate(a, |da, acc| {
        gemm(R::one(), grad.view(), Trans::N, b_val, Trans::T, acc.beta(), da).expect(SHAPES_CHECKED);
    });
    match sparse {
        Some(slot) => {
            let a_t = &sink.sparse().slots[slot].1;
            sink.accumulate(b, |db, acc| {
                csr_gemm(R::one(), a_t, grad.view(), acc.beta(), db).expect(SHAPES_CHECKED);
            });
        }
        None => sink.accumulate(b, |db, acc| {
            gemm(R::one(), a_val, Trans::T, grad.view(), Trans::N, acc.beta(), db).expect(SHAPES_CHECKED);
        }),
    }
    sink.recycle(grad);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use ssne_tensor::ndarray::{Array2, array};

    use crate::check::{self, Tolerance};
    use crate::testing::{TIGHT, assert_jacobian, matrix, seeded, to_case};
    use crate::{AutodiffError, Tape};

    /// A `rows x cols` data matrix with about `zeros` of its entries exactly 0.
    fn sparse_data(rows: usize, cols: usize, zeros: f64, seed: u64) -> Array2<f64> {
        let keep = seeded(rows, cols, 1.0, seed + 1);
        let mut x = seeded(rows, cols, 1.0, seed);
        x.zip_mut_with(&keep, |v, &k| {
            if (k + 1.0) / 2.0 < zeros {
                *v = 0.0;
            }
        });
        x
    }

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

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(8))]

        /// The compressed path (sparse constant data, large enough to be
        /// compressed): the weight gradient through the stored transpose
        /// against central differences, twice (fresh gradient slot, then
        /// fan-out into an existing one), and the value against the dense GEMM.
        #[test]
        fn sparse_data_times_weights_matches_finite_differences(
            (n, k, m) in (64usize..96, 64usize..80, 16usize..24),
            zeros in 0.7..0.95f64,
            seed in 0u64..1000,
        ) {
            let data = sparse_data(n, k, zeros, seed);
            let w = seeded(k, m, 0.5, seed + 7);
            let seed_out = seeded(n, m, 1.0, seed + 9);
            let mut tape = Tape::<f64>::new();
            let x = tape.constant(data.clone());
            let wv = tape.var(w.clone());
            let y = tape.matmul(x, wv).unwrap();
            prop_assert_eq!(tape.sparse.used, 1, "the sparse path was taken");
            let dense = data.dot(&w);
            let value = tape.value(y).unwrap();
            prop_assert!(value.iter().zip(&dense).all(|(a, b)| (a - b).abs() <= 1e-12 * (1.0 + b.abs())));
            let f = move |t: &mut Tape<f64>, w: crate::Var| {
                let x = t.constant(data.clone());
                let y1 = t.matmul(x, w)?;
                let y2 = t.matmul(x, w)?;
                let y = t.add(y1, y2)?;
                let s = t.constant(seed_out.clone());
                let weighted = t.mul(y, s)?;
                t.sum(weighted)
            };
            let tol = Tolerance { atol: 1e-7, rtol: 1e-6, ..TIGHT };
            to_case(check::gradient(f, &w, tol))?;
        }
    }

    #[test]
    fn dense_data_and_small_products_keep_the_dense_path() {
        let mut tape = Tape::<f64>::new();
        let dense = tape.constant(seeded(64, 64, 1.0, 1));
        let sparse_small = tape.constant(sparse_data(8, 8, 0.9, 2));
        let w = tape.var(seeded(64, 16, 1.0, 3));
        let w_small = tape.var(seeded(8, 8, 1.0, 4));
        tape.matmul(dense, w).unwrap();
        tape.matmul(sparse_small, w_small).unwrap();
        assert_eq!(tape.sparse.used, 0);
        // A var on the left needs its own gradient: dense too.
        let x = tape.var(sparse_data(64, 64, 0.9, 5));
        tape.matmul(x, w).unwrap();
        assert_eq!(tape.sparse.used, 0);
        tape.clear();
        let x = tape.constant(sparse_data(64, 64, 0.9, 5));
        let w = tape.var(seeded(64, 16, 1.0, 3));
        tape.matmul(x, w).unwrap();
        assert_eq!(tape.sparse.used, 1);
        tape.clear();
        assert_eq!(tape.sparse.used, 0, "clear forgets the compressed operands");
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
