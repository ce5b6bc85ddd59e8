//! Shared seeded fixtures for the salient-sne benches, built outside the timed loops.

use ssne_tensor::Real;
use ssne_tensor::ndarray::{Array2, ArrayView2, s};

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

/// The five one-pixel moves `(down, right)` that [`with_shifted_copies`] makes the 60,000-point
/// kNN fixture with: the four axis directions and one diagonal (six copies of the 10,000 bundled
/// digits in all).
pub const ONE_PIXEL_SHIFTS: [(i64, i64); 5] = [(0, 1), (0, -1), (1, 0), (-1, 0), (1, 1)];

/// `images` followed by one copy of all of them for each `(down, right)` move in `shifts`, every
/// image of a copy moved by that many pixels with zeros shifted in at the edges
/// ([`ssne_model::shift_image`], the shift of fine-tuning's augmentation).
///
/// A digit moved by a pixel is still a realistic digit (training's augmentation does the same
/// moves), so this grows the bundled sample to sizes it does not reach, deterministically, for
/// benches whose cost depends on the number of points (the kNN graph at 60,000). Each copy keeps
/// its originals' order: row `c * n + i` is image `i` moved by `shifts[c - 1]`.
///
/// # Panics
/// If a row of `images` does not hold `height * width` pixels: a bench fixture has no caller to
/// report to.
pub fn with_shifted_copies(images: ArrayView2<'_, f32>, shape: [usize; 2], shifts: &[(i64, i64)]) -> Array2<f32> {
    let [height, width] = shape;
    let n = images.nrows();
    assert_eq!(
        images.ncols(),
        height * width,
        "rows of {} pixels are not {height} x {width} images",
        images.ncols()
    );
    let images = images.as_standard_layout();
    let mut out = Array2::zeros((n * (shifts.len() + 1), height * width));
    out.slice_mut(s![..n, ..]).assign(&images);
    for (c, &(down, right)) in shifts.iter().enumerate() {
        let mut copy = out.slice_mut(s![(c + 1) * n..(c + 2) * n, ..]);
        for (mut to, from) in copy.rows_mut().into_iter().zip(images.rows()) {
            let (Some(to), Some(from)) = (to.as_slice_mut(), from.as_slice()) else {
                unreachable!("rows of standard-layout arrays are contiguous");
            };
            ssne_model::shift_image(from, to, shape, [down, right]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssne_tensor::ndarray::array;

    #[test]
    fn shifted_copies_move_pixels_and_keep_the_originals_first() {
        // One 2 x 3 image: [[1, 2, 3], [4, 5, 6]].
        let image = array![[1.0_f32, 2.0, 3.0, 4.0, 5.0, 6.0]];
        let out = with_shifted_copies(image.view(), [2, 3], &[(0, 1), (-1, 0), (1, 1)]);
        assert_eq!(out.nrows(), 4);
        assert_eq!(out.row(0), image.row(0));
        // Right by one: each row's first pixel becomes zero.
        assert_eq!(out.row(1).to_vec(), [0.0, 1.0, 2.0, 0.0, 4.0, 5.0]);
        // Up by one: the bottom row becomes zero.
        assert_eq!(out.row(2).to_vec(), [4.0, 5.0, 6.0, 0.0, 0.0, 0.0]);
        // Down and right by one: the top row's first two pixels land at (1, 1) and (1, 2).
        assert_eq!(out.row(3).to_vec(), [0.0, 0.0, 0.0, 0.0, 1.0, 2.0]);
    }

    #[test]
    fn the_sixty_thousand_point_fixture_has_distinct_copies() {
        let pixels = mnist_sample_pixels(100);
        let out = with_shifted_copies(pixels.view(), [28, 28], &ONE_PIXEL_SHIFTS);
        assert_eq!(out.dim(), (600, 784));
        for c in 1..6 {
            let copy = out.slice(s![c * 100..(c + 1) * 100, ..]);
            assert_ne!(copy, pixels.view(), "copy {c} moved no pixel");
            // A one-pixel move loses at most the ink on one edge row and one edge column.
            let ink: f32 = copy.sum();
            assert!(ink > 0.95 * pixels.sum(), "copy {c} lost ink: {ink}");
        }
    }
}
