#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![doc(test(attr(deny(warnings))))]

mod backward;
pub mod check;
mod error;
mod grads;
pub mod kernel;
mod op;
mod ops;
mod pool;
mod tape;
#[cfg(test)]
mod testing;

pub use error::{AutodiffError, Result};
pub use grads::Grads;
pub use kernel::StudentT;
pub use ssne_tensor::Real;
/// The `ndarray` these APIs take and return (one version across the workspace), so a user needs
/// no dependency of their own on it or on `ssne-tensor`.
pub use ssne_tensor::ndarray;
pub use tape::{Tape, Var};
