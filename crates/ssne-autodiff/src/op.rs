//! The recorded graph: how each node of the tape was made.

use std::ops::Range;

use ssne_tensor::ndarray::Array2;

/// One entry of the Wengert list. Inputs are node indices, always smaller than
/// the index of the node itself, so tape order is a topological order.
#[derive(Debug)]
pub(crate) enum Op<R> {
    /// A leaf made by `var`: receives and keeps a gradient.
    Leaf,
    /// A leaf made by `constant`: never receives a gradient.
    Constant,
    /// `sparse` is the slot of the tape's sparse copy of `a` when the
    /// product was computed from it (then `a` needs no gradient).
    MatMul {
        a: usize,
        b: usize,
        sparse: Option<usize>,
    },
    AddBias {
        x: usize,
        bias: usize,
    },
    Add {
        a: usize,
        b: usize,
    },
    Sub {
        a: usize,
        b: usize,
    },
    Mul {
        a: usize,
        b: usize,
    },
    Scale {
        x: usize,
        factor: R,
    },
    Relu {
        x: usize,
    },
    Tanh {
        x: usize,
    },
    Sigmoid {
        x: usize,
    },
    Softmax {
        x: usize,
    },
    /// `probs` is the row softmax of the logits; `labels` indexes the tape's label arena.
    SoftmaxCrossEntropy {
        logits: usize,
        probs: Array2<R>,
        labels: Range<usize>,
    },
    Sum {
        x: usize,
    },
    Mean {
        x: usize,
    },
    SqDists {
        y: usize,
    },
    /// A scalar loss whose gradient with respect to `y` was computed by the
    /// fused forward pass (both t-SNE losses); backward only scales it.
    /// `grad` is `None` when `y` needs no gradient.
    ScalarWithGrad {
        y: usize,
        grad: Option<Array2<R>>,
    },
}

impl<R> Op<R> {
    /// Gives up the auxiliary buffers the op keeps, for recycling.
    pub(crate) fn into_buffer(self) -> Option<Array2<R>> {
        match self {
            Op::SoftmaxCrossEntropy { probs, .. } => Some(probs),
            Op::ScalarWithGrad { grad, .. } => grad,
            _ => None,
        }
    }
}
