//! Integration tests of `ssne-saliency`: exact maps of linear networks,
//! finite differences in f64, completeness, SmoothGrad, ensembles, errors,
//! PNG round-trips, the input mask's effect and determinism.

mod additive;
mod common;
mod determinism;
mod ensemble;
mod errors;
mod exact;
mod faithfulness;
mod finite_diff;
mod integrated;
mod mask;
mod pictures;
mod smooth;
