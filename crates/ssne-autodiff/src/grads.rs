//! [`Grads`]: the gradients one backward pass produced.

use ssne_tensor::Real;
use ssne_tensor::ndarray::{Array2, ArrayView2};

use crate::Var;

/// The gradients of one [`backward`](crate::Tape::backward) or
/// [`vjp`](crate::Tape::vjp) call, for the leaves made with
/// [`var`](crate::Tape::var) that the output depends on.
///
/// It owns its buffers, so it stays valid after the tape is cleared. Hand it
/// back with [`Tape::recycle`](crate::Tape::recycle) to let the next pass reuse
/// the memory.
#[derive(Debug)]
pub struct Grads<R> {
    pub(crate) generation: u64,
    /// Indexed by node; only `var` leaves are `Some` once the pass is over.
    pub(crate) slots: Vec<Option<Array2<R>>>,
}

impl<R: Real> Grads<R> {
    /// The gradient with respect to `v`, shaped like `v`.
    ///
    /// `None` when `v` is a constant, an intermediate result, a variable the
    /// output does not depend on, or a variable of another tape generation.
    pub fn get(&self, v: Var) -> Option<ArrayView2<'_, R>> {
        self.slot(v).and_then(|slot| slot.as_ref()).map(|g| g.view())
    }

    /// Moves the gradient with respect to `v` out (see [`get`](Grads::get) for
    /// when it is `None`); a second call returns `None`.
    pub fn take(&mut self, v: Var) -> Option<Array2<R>> {
        if v.generation != self.generation {
            return None;
        }
        self.slots.get_mut(v.index as usize).and_then(Option::take)
    }

    fn slot(&self, v: Var) -> Option<&Option<Array2<R>>> {
        if v.generation != self.generation {
            return None;
        }
        self.slots.get(v.index as usize)
    }

    pub(crate) fn into_slots(self) -> Vec<Option<Array2<R>>> {
        self.slots
    }
}
