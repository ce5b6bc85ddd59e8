//! Shared seeded fixtures for the salient-sne benches, built outside the timed loops.

use ssne_tensor::Real;
use ssne_tensor::ndarray::{Array2, s};

/// A deterministic pseudo-random matrix with entries in [-1, 1), from a
/// SplitMix64 stream seeded by `seed` (no RNG crate needed for fixtures).
pub fn random_matrix<R: Real>(rows: usize, cols: usize, seed: u64) -> Array2<R> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    Array2::from_shape_simple_fn((rows, cols), || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        R::from_f64((z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0)
    })
}

/// The first `n` images (at most 10,000) of the MNIST sample bundled with `ssne-data`, as an
/// `n x 784` matrix of pixels scaled to [0, 1].
///
/// Decoded by `ssne_data::bundled::mnist_sample`, the project's one IDX reader, so a bench sees
/// exactly the pixels a user's run does.
///
/// # Panics
/// If `n` exceeds the sample's 10,000 images: a bench fixture has no caller to report to.
pub fn mnist_sample_pixels(n: usize) -> Array2<f32> {
    let sample = ssne_data::bundled::mnist_sample().expect("the bundled sample decodes (it is tested in ssne-data)");
    assert!(
        n <= sample.n_points(),
        "asked for {n} images, the bundled sample has {}",
        sample.n_points()
    );
    sample.features.slice_move(s![..n, ..])
}
