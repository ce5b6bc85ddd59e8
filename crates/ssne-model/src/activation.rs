//! Activation functions of the network: on the autodiff tape, and in place for
//! the tape-free inference, both through the same element functions of
//! `ssne_tensor`, so the two passes give the same bits.

use serde::{Deserialize, Serialize};
use ssne_autodiff::{Tape, Var};
use ssne_tensor::ndarray::{ArrayView2, ArrayViewMut2, Zip};
use ssne_tensor::{
    Real, relu, relu_derivative, sigmoid, sigmoid_derivative, softmax_row, softmax_row_vjp, tanh_derivative,
};

use crate::Result;

/// A pointwise (or, for softmax, row-wise) nonlinearity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Activation {
    /// No nonlinearity.
    Identity,
    /// max(0, x).
    Relu,
    /// tanh(x).
    Tanh,
    /// 1 / (1 + exp(-x)).
    Sigmoid,
    /// Row-wise softmax (probabilities).
    Softmax,
}

impl Activation {
    /// Applies the activation to `x` on the tape.
    pub(crate) fn apply<R: Real>(self, tape: &mut Tape<R>, x: Var) -> Result<Var> {
        Ok(match self {
            Activation::Identity => x,
            Activation::Relu => tape.relu(x)?,
            Activation::Tanh => tape.tanh(x)?,
            Activation::Sigmoid => tape.sigmoid(x)?,
            Activation::Softmax => tape.softmax(x)?,
        })
    }

    /// Applies the activation to `h` in place, with the tape ops' element
    /// functions (and the same row softmax).
    pub(crate) fn apply_in_place(self, mut h: ArrayViewMut2<'_, f32>) {
        match self {
            Activation::Identity => {}
            Activation::Relu => h.mapv_inplace(relu),
            Activation::Tanh => h.mapv_inplace(f32::tanh),
            Activation::Sigmoid => h.mapv_inplace(sigmoid),
            Activation::Softmax => h.rows_mut().into_iter().for_each(softmax_row),
        }
    }

    /// Carries `grad`, the gradient with respect to this activation's output
    /// `output`, back to its input, in place: the tape's backward rules (the
    /// same derivative functions), without a tape.
    pub(crate) fn backward_in_place(self, output: ArrayView2<'_, f32>, mut grad: ArrayViewMut2<'_, f32>) {
        let chain = |grad: ArrayViewMut2<'_, f32>, derivative: fn(f32) -> f32| {
            Zip::from(grad).and(output).for_each(|g, &y| *g *= derivative(y));
        };
        match self {
            Activation::Identity => {}
            Activation::Relu => chain(grad, relu_derivative),
            Activation::Tanh => chain(grad, tanh_derivative),
            Activation::Sigmoid => chain(grad, sigmoid_derivative),
            Activation::Softmax => Zip::from(grad.rows_mut()).and(output.rows()).for_each(softmax_row_vjp),
        }
    }

    /// The lower-case name used in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
            Activation::Softmax => "softmax",
        }
    }
}
