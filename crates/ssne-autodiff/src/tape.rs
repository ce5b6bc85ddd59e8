//! The tape itself: node storage, leaves, variable handles and buffer reuse.

use std::sync::atomic::{AtomicU64, Ordering};

use ssne_tensor::Real;
use ssne_tensor::ndarray::{Array2, ArrayView2};

use crate::op::Op;
use crate::pool::BufferPool;
use crate::{AutodiffError, Grads, Result};

/// Source of tape generations. Every tape and every [`Tape::clear`] takes a fresh
/// number, so a [`Var`] can only ever match the tape state that made it. It
/// identifies, it does not compute: no result depends on its value.
static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);

fn fresh_generation() -> u64 {
    NEXT_GENERATION.fetch_add(1, Ordering::Relaxed)
}

/// A handle to a node of a [`Tape`]: its position and the tape generation that
/// made it. Cheap to copy; meaningless on its own.
///
/// After [`Tape::clear`], or on another tape, every use returns
/// [`AutodiffError::StaleVar`] instead of silently reading another node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Var {
    pub(crate) index: u32,
    pub(crate) generation: u64,
}

/// One recorded value and how it was made.
#[derive(Debug)]
pub(crate) struct Node<R> {
    pub(crate) value: Array2<R>,
    pub(crate) op: Op<R>,
    /// Whether any `var` leaf is upstream; backward skips nodes without one.
    pub(crate) needs_grad: bool,
    /// Whether `value` came from the buffer pool. Only those go back to it at
    /// `clear`: an owned leaf handed in every step would otherwise grow the pool
    /// by one buffer per step.
    pub(crate) pooled: bool,
}

/// A reverse-mode automatic-differentiation tape (a Wengert list) of 2-D arrays.
///
/// Every op appends one node holding its value; [`backward`](Tape::backward)
/// and [`vjp`](Tape::vjp) walk the list in reverse. Leaves made with
/// [`var`](Tape::var) receive gradients, leaves made with
/// [`constant`](Tape::constant) do not, and no work is spent on gradients that
/// no `var` needs (e.g. the gradient of a data matrix).
///
/// [`clear`](Tape::clear) forgets the nodes but keeps their buffers, so a
/// training loop that records the same graph every step reuses its memory.
///
/// # Example
/// ```
/// use ssne_autodiff::Tape;
/// use ssne_tensor::ndarray::array;
///
/// let mut tape = Tape::<f64>::new();
/// let x = tape.var(array![[1.0, 2.0], [3.0, 4.0]]);
/// let y = tape.mul(x, x)?; // x^2
/// let loss = tape.sum(y)?;
/// let grads = tape.backward(loss)?;
/// assert_eq!(grads.get(x).unwrap(), array![[2.0, 4.0], [6.0, 8.0]]); // d/dx sum x^2 = 2x
/// # Ok::<(), ssne_autodiff::AutodiffError>(())
/// ```
#[derive(Debug)]
pub struct Tape<R: Real> {
    pub(crate) nodes: Vec<Node<R>>,
    pub(crate) generation: u64,
    pub(crate) pool: BufferPool<R>,
    /// Labels of every cross-entropy node, end to end.
    pub(crate) labels: Vec<u32>,
    /// Gradient slots of the last finished backward pass, kept for the next one.
    pub(crate) spare_slots: Vec<Option<Array2<R>>>,
    /// Work space of the fused t-SNE kernels.
    pub(crate) scratch: crate::ops::pairwise::Scratch,
    /// Compressed copies of sparse constant left operands of `matmul`.
    pub(crate) sparse: crate::ops::matmul::SparseOperands<R>,
}

impl<R: Real> Default for Tape<R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R: Real> Tape<R> {
    /// An empty tape.
    pub fn new() -> Self {
        Self {
            nodes: Vec::new(),
            generation: fresh_generation(),
            pool: BufferPool::default(),
            labels: Vec::new(),
            spare_slots: Vec::new(),
            scratch: Default::default(),
            sparse: Default::default(),
        }
    }

    /// Forgets every node but keeps their buffers for reuse by later ops.
    ///
    /// Every [`Var`] made before is invalidated: using it returns
    /// [`AutodiffError::StaleVar`]. [`Grads`] already returned stay valid
    /// (they own their buffers).
    pub fn clear(&mut self) {
        for node in self.nodes.drain(..) {
            if node.pooled {
                self.pool.put(node.value);
            }
            if let Some(buffer) = node.op.into_buffer() {
                self.pool.put(buffer);
            }
        }
        self.labels.clear();
        self.sparse.clear();
        self.generation = fresh_generation();
    }

    /// Hands the gradient buffers of `grads` back to the tape, so the next
    /// backward pass of the same shapes allocates nothing.
    pub fn recycle(&mut self, grads: Grads<R>) {
        let mut slots = grads.into_slots();
        for grad in slots.drain(..).flatten() {
            self.pool.put(grad);
        }
        if slots.capacity() > self.spare_slots.capacity() {
            self.spare_slots = slots;
        }
    }

    /// Number of nodes recorded since the last [`clear`](Tape::clear).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether nothing has been recorded since the last [`clear`](Tape::clear).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Records a leaf that receives a gradient: a parameter, or an input whose
    /// saliency is wanted. The array is moved in, not copied.
    pub fn var(&mut self, value: Array2<R>) -> Var {
        self.push_owned(value, Op::Leaf, true)
    }

    /// Like [`var`](Tape::var), copying `value` into a recycled buffer (no
    /// allocation once the tape has warmed up).
    pub fn var_from(&mut self, value: ArrayView2<'_, R>) -> Var {
        let value = self.pool.take_copy(value);
        self.push(value, Op::Leaf, true)
    }

    /// Records a leaf that never receives a gradient (data, targets).
    pub fn constant(&mut self, value: Array2<R>) -> Var {
        self.push_owned(value, Op::Constant, false)
    }

    /// Like [`constant`](Tape::constant), copying `value` into a recycled buffer.
    pub fn constant_from(&mut self, value: ArrayView2<'_, R>) -> Var {
        let value = self.pool.take_copy(value);
        self.push(value, Op::Constant, false)
    }

    /// The value of `v`.
    ///
    /// # Errors
    /// [`AutodiffError::StaleVar`] if `v` was not made by this tape since its last clear.
    pub fn value(&self, v: Var) -> Result<ArrayView2<'_, R>> {
        let idx = self.index(v)?;
        Ok(self.nodes[idx].value.view())
    }

    /// The shape `[rows, cols]` of `v`.
    ///
    /// # Errors
    /// [`AutodiffError::StaleVar`] if `v` was not made by this tape since its last clear.
    pub fn shape(&self, v: Var) -> Result<[usize; 2]> {
        let idx = self.index(v)?;
        Ok(self.shape_of(idx))
    }

    /// The value of a `[1, 1]` node as a number.
    ///
    /// # Errors
    /// [`AutodiffError::StaleVar`] for a foreign variable, [`AutodiffError::NotScalar`]
    /// if `v` is not `[1, 1]`.
    pub fn scalar(&self, v: Var) -> Result<R> {
        let idx = self.index(v)?;
        let value = &self.nodes[idx].value;
        if value.dim() != (1, 1) {
            return Err(AutodiffError::NotScalar {
                shape: self.shape_of(idx),
            });
        }
        Ok(value[[0, 0]])
    }

    /// Node index of `v`, after checking it belongs to the current generation.
    pub(crate) fn index(&self, v: Var) -> Result<usize> {
        let idx = v.index as usize;
        if v.generation != self.generation || idx >= self.nodes.len() {
            return Err(AutodiffError::StaleVar {
                index: v.index,
                var_generation: v.generation,
                tape_generation: self.generation,
            });
        }
        Ok(idx)
    }

    pub(crate) fn shape_of(&self, idx: usize) -> [usize; 2] {
        let (rows, cols) = self.nodes[idx].value.dim();
        [rows, cols]
    }

    pub(crate) fn needs_grad(&self, idx: usize) -> bool {
        self.nodes[idx].needs_grad
    }

    /// Appends a node and returns its handle.
    /// Pushes the value `loss` of a fused scalar loss of node `y`, with its
    /// gradient with respect to `y` accumulated in `f64` (`grad_f64`, row-major
    /// in `y`'s shape; `None` when `y` needs no gradient), converted once here.
    pub(crate) fn push_fused_loss(&mut self, y: usize, loss: f64, grad_f64: Option<&[f64]>) -> Var {
        let [rows, cols] = self.shape_of(y);
        let grad = grad_f64.map(|values| {
            let mut grad = self.pool.take((rows, cols));
            for (g, &v) in grad.iter_mut().zip(values) {
                *g = R::from_f64(v);
            }
            grad
        });
        let mut out = self.pool.take((1, 1));
        out[[0, 0]] = R::from_f64(loss);
        let needs_grad = grad.is_some();
        self.push(out, Op::ScalarWithGrad { y, grad }, needs_grad)
    }

    pub(crate) fn push(&mut self, value: Array2<R>, op: Op<R>, needs_grad: bool) -> Var {
        self.push_node(Node {
            value,
            op,
            needs_grad,
            pooled: true,
        })
    }

    /// Records a leaf whose value the caller allocated (not returned to the pool).
    fn push_owned(&mut self, value: Array2<R>, op: Op<R>, needs_grad: bool) -> Var {
        self.push_node(Node {
            value,
            op,
            needs_grad,
            pooled: false,
        })
    }

    fn push_node(&mut self, node: Node<R>) -> Var {
        // Cannot fail in practice: 2^32 nodes would need far more memory than
        // their values occupy on any machine this runs on.
        let index = u32::try_from(self.nodes.len()).expect("fewer than 2^32 nodes on one tape");
        self.nodes.push(node);
        Var {
            index,
            generation: self.generation,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssne_tensor::ndarray::array;

    #[test]
    fn owned_leaves_handed_in_every_step_do_not_grow_the_pool() {
        let mut tape = Tape::<f32>::new();
        for _ in 0..50 {
            tape.clear();
            let x = tape.constant(Array2::zeros((100, 10)));
            let w = tape.var(Array2::zeros((10, 3)));
            let _ = tape.matmul(x, w).unwrap();
        }
        tape.clear();
        assert_eq!(tape.pool.n_free(), 1, "only the matmul output is pooled");
    }

    #[test]
    fn clear_makes_old_vars_stale_and_keeps_buffers() {
        let mut tape = Tape::<f64>::new();
        let x = tape.var(array![[1.0, 2.0]]);
        let y = tape.scale(x, 2.0).unwrap();
        assert_eq!(tape.value(y).unwrap(), array![[2.0, 4.0]]);
        tape.clear();
        assert!(tape.is_empty());
        // The scale output came from the pool and goes back; the owned leaf is dropped.
        assert_eq!(tape.pool.n_free(), 1);
        assert!(matches!(tape.value(x), Err(AutodiffError::StaleVar { index: 0, .. })));
        assert!(matches!(
            tape.scale(y, 1.0),
            Err(AutodiffError::StaleVar { index: 1, .. })
        ));
        let z = tape.constant(array![[5.0]]);
        assert_eq!(z.index, x.index, "same position, new generation");
        assert!(tape.value(x).is_err());
        assert_eq!(tape.scalar(z).unwrap(), 5.0);
    }

    #[test]
    fn vars_of_another_tape_are_stale() {
        let mut a = Tape::<f32>::new();
        let mut b = Tape::<f32>::new();
        let x = a.var(array![[1.0]]);
        b.var(array![[1.0]]);
        assert!(matches!(b.value(x), Err(AutodiffError::StaleVar { .. })));
        assert!(matches!(b.backward(x), Err(AutodiffError::StaleVar { .. })));
    }

    #[test]
    fn var_from_copies_into_a_recycled_buffer() {
        let mut tape = Tape::<f32>::new();
        let data = array![[1.0_f32, 2.0, 3.0]];
        let x = tape.var_from(data.view());
        let ptr = tape.value(x).unwrap().as_ptr();
        tape.clear();
        let x = tape.constant_from(data.t());
        assert_eq!(tape.value(x).unwrap(), data.t());
        assert_eq!(tape.value(x).unwrap().as_ptr(), ptr);
        assert_eq!(tape.shape(x).unwrap(), [3, 1]);
    }

    #[test]
    fn scalar_rejects_non_scalars() {
        let mut tape = Tape::<f64>::new();
        let x = tape.constant(array![[1.0, 2.0]]);
        assert_eq!(tape.scalar(x), Err(AutodiffError::NotScalar { shape: [1, 2] }));
    }
}
