//! Activation functions of the network, applied on the autodiff tape.

use serde::{Deserialize, Serialize};
use ssne_autodiff::{Tape, Var};
use ssne_tensor::Real;

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
