//! Integration tests of `ssne-affinity`: invariants (proptest), closed-form
//! values, edge cases, k-NN against brute force, and thread-count determinism.

mod closed_form;
mod dense;
mod determinism;
mod edge_cases;
mod knn;
mod nndescent;
mod sparse;

use ssne_tensor::ndarray::{Array2, ArrayView2};

/// Entropy (nats) of a probability row, computed independently of the crate.
pub(crate) fn entropy(row: impl IntoIterator<Item = f64>) -> f64 {
    -row.into_iter().filter(|&p| p > 0.0).map(|p| p * p.ln()).sum::<f64>()
}

/// Deterministic pseudo-random points in [-1, 1) (SplitMix64), for fixtures
/// larger than proptest should shrink.
pub(crate) fn random_points(n_points: usize, n_features: usize, seed: u64) -> Array2<f64> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    Array2::from_shape_simple_fn((n_points, n_features), || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    })
}

/// Largest absolute difference between two matrices of the same shape.
pub(crate) fn max_abs_diff(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> f64 {
    assert_eq!(a.dim(), b.dim());
    a.iter().zip(b.iter()).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}
