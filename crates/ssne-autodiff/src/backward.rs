//! The reverse walk: `backward`, `vjp` and `jacobian`, and the gradient sink the
//! per-op backward rules write into.

use std::ops::Range;

use ssne_tensor::Real;
use ssne_tensor::ndarray::{Array2, ArrayView2, ArrayViewMut2};

use crate::op::Op;
use crate::ops;
use crate::pool::BufferPool;
use crate::tape::Node;
use crate::{AutodiffError, Grads, Result, Tape, Var};

impl<R: Real> Tape<R> {
    /// Gradients of the scalar `loss` with respect to every `var` leaf it
    /// depends on.
    ///
    /// May be called several times on the same tape; each call returns fresh
    /// [`Grads`].
    ///
    /// # Errors
    /// [`AutodiffError::StaleVar`] for a foreign variable,
    /// [`AutodiffError::NotScalar`] if `loss` is not `[1, 1]`.
    ///
    /// # Example
    /// ```
    /// use ssne_autodiff::Tape;
    /// use ssne_tensor::ndarray::array;
    ///
    /// let mut tape = Tape::<f64>::new();
    /// let w = tape.var(array![[2.0], [3.0]]);
    /// let x = tape.constant(array![[1.0, 10.0]]);
    /// let y = tape.matmul(x, w)?; // 1*2 + 10*3
    /// let grads = tape.backward(y)?;
    /// assert_eq!(grads.get(w).unwrap(), array![[1.0], [10.0]]);
    /// assert!(grads.get(x).is_none()); // constants get no gradient
    /// # Ok::<(), ssne_autodiff::AutodiffError>(())
    /// ```
    pub fn backward(&mut self, loss: Var) -> Result<Grads<R>> {
        let idx = self.index(loss)?;
        let shape = self.shape_of(idx);
        if shape != [1, 1] {
            return Err(AutodiffError::NotScalar { shape });
        }
        let mut seed = self.pool.take((1, 1));
        seed[[0, 0]] = R::one();
        Ok(self.run_backward(idx, seed))
    }

    /// Vector-Jacobian product: the gradients of `sum(seed * output)` with
    /// respect to every `var` leaf, i.e. `seedᵀ J` for each of them.
    ///
    /// # Errors
    /// [`AutodiffError::StaleVar`] for a foreign variable,
    /// [`AutodiffError::SeedShape`] if `seed` is not shaped like `output`.
    ///
    /// # Example
    /// ```
    /// use ssne_autodiff::Tape;
    /// use ssne_tensor::ndarray::array;
    ///
    /// let mut tape = Tape::<f64>::new();
    /// let x = tape.var(array![[1.0, -2.0]]);
    /// let y = tape.scale(x, 3.0)?;
    /// let grads = tape.vjp(y, array![[1.0, 0.5]].view())?;
    /// assert_eq!(grads.get(x).unwrap(), array![[3.0, 1.5]]);
    /// # Ok::<(), ssne_autodiff::AutodiffError>(())
    /// ```
    pub fn vjp(&mut self, output: Var, seed: ArrayView2<'_, R>) -> Result<Grads<R>> {
        let idx = self.index(output)?;
        let shape = self.shape_of(idx);
        if seed.dim() != (shape[0], shape[1]) {
            return Err(AutodiffError::SeedShape {
                output: shape,
                seed: [seed.nrows(), seed.ncols()],
            });
        }
        let seed = self.pool.take_copy(seed);
        Ok(self.run_backward(idx, seed))
    }

    /// The Jacobian of `output` with respect to the leaf `wrt`, as an
    /// `[output.len(), wrt.len()]` matrix; both are flattened row-major.
    ///
    /// Runs one VJP per output element, so it is meant for small outputs (a
    /// 2-D embedding of one point, a handful of logits).
    ///
    /// # Errors
    /// [`AutodiffError::StaleVar`] for a foreign variable,
    /// [`AutodiffError::NotAVar`] if `wrt` was not made by [`var`](Tape::var) or
    /// [`var_from`](Tape::var_from).
    ///
    /// # Example
    /// ```
    /// use ssne_autodiff::Tape;
    /// use ssne_tensor::ndarray::array;
    ///
    /// let mut tape = Tape::<f64>::new();
    /// let x = tape.var(array![[1.0, 2.0]]);
    /// let w = tape.constant(array![[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]]);
    /// let y = tape.matmul(x, w)?; // [1, 3]
    /// let jac = tape.jacobian(y, x)?;
    /// assert_eq!(jac, array![[1.0, 0.0], [0.0, 3.0], [2.0, 0.0]]); // = w^T
    /// # Ok::<(), ssne_autodiff::AutodiffError>(())
    /// ```
    pub fn jacobian(&mut self, output: Var, wrt: Var) -> Result<Array2<R>> {
        let out_idx = self.index(output)?;
        let wrt_idx = self.index(wrt)?;
        if !matches!(self.nodes[wrt_idx].op, Op::Leaf) {
            return Err(AutodiffError::NotAVar { index: wrt.index });
        }
        let [out_rows, out_cols] = self.shape_of(out_idx);
        let n_outputs = out_rows * out_cols;
        let mut jac = Array2::zeros((n_outputs, self.nodes[wrt_idx].value.len()));
        for (out_elem, mut jac_row) in jac.rows_mut().into_iter().enumerate() {
            let mut seed = self.pool.take_zeroed((out_rows, out_cols));
            seed[[out_elem / out_cols, out_elem % out_cols]] = R::one();
            let grads = self.run_backward(out_idx, seed);
            if let Some(grad) = grads.get(wrt) {
                // `iter` walks in logical row-major order whatever the layout.
                jac_row.iter_mut().zip(grad.iter()).for_each(|(j, &g)| *j = g);
            }
            self.recycle(grads);
        }
        Ok(jac)
    }

    /// Walks the tape from `out_idx` down to 0, starting from `seed`.
    fn run_backward(&mut self, out_idx: usize, seed: Array2<R>) -> Grads<R> {
        let mut slots = std::mem::take(&mut self.spare_slots);
        slots.clear();
        slots.resize_with(out_idx + 1, || None);
        if self.nodes[out_idx].needs_grad {
            slots[out_idx] = Some(seed);
        } else {
            self.pool.put(seed);
        }
        let mut sink = GradSink {
            nodes: &self.nodes,
            labels: &self.labels,
            slots: &mut slots,
            pool: &mut self.pool,
            col_sums: &mut self.scratch.f64s,
            sparse: &self.sparse,
        };
        for idx in (0..=out_idx).rev() {
            sink.step(idx);
        }
        Grads {
            generation: self.generation,
            slots,
        }
    }
}

/// Whether a gradient buffer is fresh (its contents are garbage and must be
/// overwritten) or already holds a partial gradient to add to (fan-out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Accum {
    Assign,
    Add,
}

impl Accum {
    /// The GEMM `beta` that implements this mode.
    pub(crate) fn beta<R: Real>(self) -> R {
        match self {
            Accum::Assign => R::zero(),
            Accum::Add => R::one(),
        }
    }

    /// `dst (=|+=) f(a)` element-wise.
    pub(crate) fn write_map<R: Real>(
        self,
        dst: ArrayViewMut2<'_, R>,
        a: ArrayView2<'_, R>,
        f: impl Fn(R) -> R + Sync + Send,
    ) {
        match self {
            Accum::Assign => ops::zip2(dst, a, |d, a| *d = f(a)),
            Accum::Add => ops::zip2(dst, a, |d, a| *d += f(a)),
        }
    }

    /// `dst (=|+=) f(a, b)` element-wise.
    pub(crate) fn write_map2<R: Real>(
        self,
        dst: ArrayViewMut2<'_, R>,
        a: ArrayView2<'_, R>,
        b: ArrayView2<'_, R>,
        f: impl Fn(R, R) -> R + Sync + Send,
    ) {
        match self {
            Accum::Assign => ops::zip3(dst, a, b, |d, a, b| *d = f(a, b)),
            Accum::Add => ops::zip3(dst, a, b, |d, a, b| *d += f(a, b)),
        }
    }

    /// `dst (=|+=) value` for every element.
    pub(crate) fn write_fill<R: Real>(self, mut dst: ArrayViewMut2<'_, R>, value: R) {
        match self {
            Accum::Assign => dst.fill(value),
            Accum::Add => dst.mapv_inplace(|d| d + value),
        }
    }
}

/// What a backward rule sees: the recorded values (read-only) and the
/// gradient slots of the nodes below it (write-only, through [`Accum`]).
pub(crate) struct GradSink<'a, R> {
    nodes: &'a [Node<R>],
    labels: &'a [u32],
    slots: &'a mut [Option<Array2<R>>],
    pool: &'a mut BufferPool<R>,
    /// `f64` work space for column sums (the bias gradient).
    col_sums: &'a mut Vec<f64>,
    /// The compressed operands of sparse matrix products.
    sparse: &'a crate::ops::matmul::SparseOperands<R>,
}

impl<'a, R: Real> GradSink<'a, R> {
    /// Propagates the gradient of node `idx` (if it has one) to its inputs.
    fn step(&mut self, idx: usize) {
        let nodes = self.nodes;
        let node = &nodes[idx];
        if matches!(node.op, Op::Leaf) {
            return; // a `var` keeps its gradient for the caller
        }
        let Some(grad) = self.slots[idx].take() else {
            return; // the output does not depend on this node
        };
        let out = node.value.view();
        match &node.op {
            Op::Leaf | Op::Constant => self.recycle(grad),
            &Op::MatMul { a, b, sparse } => ops::matmul::backward(self, a, b, sparse, grad),
            &Op::AddBias { x, bias } => ops::elementwise::add_bias_backward(self, x, bias, grad),
            &Op::Add { a, b } => ops::elementwise::add_backward(self, a, b, grad),
            &Op::Sub { a, b } => ops::elementwise::sub_backward(self, a, b, grad),
            &Op::Mul { a, b } => ops::elementwise::mul_backward(self, a, b, grad),
            &Op::Scale { x, factor } => ops::elementwise::scale_backward(self, x, factor, grad),
            &Op::Relu { x } => ops::activation::relu_backward(self, x, out, grad),
            &Op::Tanh { x } => ops::activation::tanh_backward(self, x, out, grad),
            &Op::Sigmoid { x } => ops::activation::sigmoid_backward(self, x, out, grad),
            &Op::Softmax { x } => ops::softmax::softmax_backward(self, x, out, grad),
            Op::SoftmaxCrossEntropy { logits, probs, labels } => {
                ops::softmax::cross_entropy_backward(self, *logits, probs.view(), labels.clone(), grad)
            }
            &Op::Sum { x } => ops::reduce::sum_backward(self, x, grad, false),
            &Op::Mean { x } => ops::reduce::sum_backward(self, x, grad, true),
            &Op::SqDists { y } => ops::sq_dists::backward(self, y, grad),
            Op::ScalarWithGrad { y, grad: y_grad } => {
                ops::pairwise::scalar_with_grad_backward(self, *y, y_grad.as_ref().map(|g| g.view()), grad)
            }
        }
    }

    /// Whether node `idx` needs a gradient at all.
    pub(crate) fn wants(&self, idx: usize) -> bool {
        self.nodes[idx].needs_grad
    }

    /// The recorded value of node `idx`; borrows the tape, not the sink.
    pub(crate) fn value(&self, idx: usize) -> ArrayView2<'a, R> {
        self.nodes[idx].value.view()
    }

    pub(crate) fn labels(&self, range: Range<usize>) -> &'a [u32] {
        &self.labels[range]
    }

    /// The compressed operands of sparse matrix products; borrows the tape, not the sink.
    pub(crate) fn sparse(&self) -> &'a crate::ops::matmul::SparseOperands<R> {
        self.sparse
    }

    pub(crate) fn col_sums(&mut self) -> &mut Vec<f64> {
        self.col_sums
    }

    /// Lets `write` add node `idx`'s share of the gradient into its slot. Does
    /// nothing when the node needs no gradient, so skipped work costs nothing.
    pub(crate) fn accumulate(&mut self, idx: usize, write: impl FnOnce(ArrayViewMut2<'_, R>, Accum)) {
        if !self.nodes[idx].needs_grad {
            return;
        }
        match &mut self.slots[idx] {
            Some(existing) => write(existing.view_mut(), Accum::Add),
            slot @ None => {
                let mut fresh = self.pool.take(self.nodes[idx].value.dim());
                write(fresh.view_mut(), Accum::Assign);
                *slot = Some(fresh);
            }
        }
    }

    /// Adds a whole gradient matrix (shaped like node `idx`) to its slot,
    /// moving it in when the slot is empty: pass-through ops copy nothing.
    pub(crate) fn give(&mut self, idx: usize, grad: Array2<R>) {
        if !self.nodes[idx].needs_grad {
            self.pool.put(grad);
            return;
        }
        match &mut self.slots[idx] {
            Some(existing) => {
                Accum::Add.write_map(existing.view_mut(), grad.view(), |g| g);
                self.pool.put(grad);
            }
            slot @ None => *slot = Some(grad),
        }
    }

    /// Returns a buffer that is no longer needed.
    pub(crate) fn recycle(&mut self, buffer: Array2<R>) {
        self.pool.put(buffer);
    }
}
