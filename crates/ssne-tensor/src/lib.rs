#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![doc(test(attr(deny(warnings))))]

mod distance;
mod error;
mod gemm;
mod real;
mod reduce;
mod row_dots;
mod rowwise;
mod sparse;

pub use distance::{row_sq_norms, sq_dists, sq_dists_between};
pub use error::TensorError;
pub use gemm::{Trans, gemm, gemm_serial, matmul};
pub use ndarray;
pub use real::Real;
pub use reduce::{SUM_BLOCK, sum_blocks_f64, sum_f64};
pub use row_dots::gemm_nt_rows;
pub use rowwise::{
    add_row_bias, argmax_rows, log_sum_exp_rows, relu, relu_derivative, sigmoid, sigmoid_derivative, softmax_row,
    softmax_row_vjp, softmax_rows, tanh_derivative,
};
pub use sparse::{Csr, SPARSE_MAX_DENSITY, csr_gemm, csr_gemm_serial, worth_compressing};
