//! Shared seeded fixtures for the salient-sne benches, built outside the timed loops.

use ssne_tensor::Real;
use ssne_tensor::ndarray::Array2;

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

/// The first `n` images (at most 10,000) of the MNIST sample bundled in
/// `data/mnist-sample/`, as an `n x 784` matrix of pixels scaled to [0, 1].
///
/// Read directly (gzip + IDX header: big-endian magic 0x00000803, count, 28, 28,
/// then u8 pixels) so the benches do not depend on `ssne-data`.
///
/// # Panics
/// If the bundled file is missing or malformed, or `n` exceeds its image count:
/// a bench fixture has no caller to report to.
pub fn mnist_sample_pixels(n: usize) -> Array2<f32> {
    use std::io::Read;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/mnist-sample/images-idx3-ubyte.gz");
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("opening {}: {e}", path.display()));
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut bytes)
        .unwrap_or_else(|e| panic!("decompressing {}: {e}", path.display()));
    let header = |i: usize| u32::from_be_bytes([bytes[4 * i], bytes[4 * i + 1], bytes[4 * i + 2], bytes[4 * i + 3]]);
    assert!(bytes.len() >= 16, "{}: shorter than an IDX header", path.display());
    assert_eq!(header(0), 0x0000_0803, "{}: not an IDX image file", path.display());
    let (count, rows, cols) = (header(1) as usize, header(2) as usize, header(3) as usize);
    assert_eq!((rows, cols), (28, 28), "{}: images are not 28 x 28", path.display());
    assert!(
        n <= count,
        "{}: asked for {n} images, the file has {count}",
        path.display()
    );
    assert!(bytes.len() >= 16 + count * 784, "{}: truncated", path.display());
    Array2::from_shape_fn((n, 784), |(i, j)| f32::from(bytes[16 + i * 784 + j]) / 255.0)
}
