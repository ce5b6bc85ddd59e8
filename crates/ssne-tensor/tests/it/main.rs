//! Integration tests of `ssne-tensor` against slow, obviously correct references.

mod distance;
mod gemm;
mod reduce;
mod rowwise;
mod sparse;

use ssne_tensor::ndarray::Array2;

/// A seeded matrix with entries in [-1, 1) (SplitMix64), so tests need no RNG crate.
pub(crate) fn seeded(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut state = seed ^ 0x5DEE_CE66_D1B5_4A32;
    Array2::from_shape_simple_fn((rows, cols), || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    })
}

/// Runs `f` on a fresh rayon pool of `threads` threads.
pub(crate) fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("building a test thread pool")
        .install(f)
}
