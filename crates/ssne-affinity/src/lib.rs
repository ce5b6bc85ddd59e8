#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![doc(test(attr(deny(warnings))))]

mod dense;
mod distance;
mod error;
mod exp;
mod knn;
mod neighbour_heap;
mod nndescent;
mod options;
mod pass;
mod rp_forest;
mod search;
mod sparse;
mod sparse_p;
mod validate;

pub use dense::{Conditional, DenseP, conditional_dense, joint_dense, joint_from_sq_dists};
pub use error::AffinityError;
pub use knn::{Knn, knn, knn_between};
pub use nndescent::{KnnRound, NnDescentOptions, knn_recall, nn_descent, nn_descent_observed};
pub use options::{Perplexity, SearchOptions};
pub use sparse::{ConditionalKnn, conditional_knn, joint_knn, joint_knn_from, joint_knn_with_k, knn_neighbour_count};
pub use sparse_p::SparseP;
/// The `ndarray` these APIs take and return (one version across the workspace), so a user needs
/// no dependency of their own on it or on `ssne-tensor`.
pub use ssne_tensor::ndarray;
