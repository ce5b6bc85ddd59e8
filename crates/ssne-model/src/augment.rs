//! Random shifts of image rows, a data augmentation for fine-tuning.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use ssne_tensor::ndarray::{Array2, Axis};

/// Moves every row of `x` (an image of `shape = [height, width]`, row-major)
/// by its own random offset of up to `max_shift` pixels along each axis,
/// filling the uncovered border with zeros (the background of MNIST-like data).
pub(crate) fn shift_rows(x: &mut Array2<f32>, shape: [usize; 2], max_shift: usize, rng: &mut ChaCha8Rng) {
    let span = 2 * max_shift as i64 + 1;
    let mut shifted = vec![0.0_f32; shape[0] * shape[1]];
    for mut row in x.axis_iter_mut(Axis(0)) {
        let dy = rng.random_range(0..span) - max_shift as i64;
        let dx = rng.random_range(0..span) - max_shift as i64;
        if dx == 0 && dy == 0 {
            continue;
        }
        if let Some(pixels) = row.as_slice() {
            shift_image(pixels, &mut shifted, shape, [dy, dx]);
        } else {
            let pixels = row.to_vec();
            shift_image(&pixels, &mut shifted, shape, [dy, dx]);
        }
        row.iter_mut().zip(&shifted).for_each(|(d, &s)| *d = s);
    }
}

/// Writes `image` (`shape = [height, width]`, row-major) moved `down` rows and `right` columns
/// (`[down, right]`, either negative) into `out`, zeros where no pixel lands: the shift that
/// fine-tuning's augmentation draws at random, for anyone who needs a fixed one (bench fixtures
/// that grow a data set with shifted copies, say). Slices shorter than `height * width` are
/// filled as far as they reach.
///
/// ```
/// let image = [1.0_f32, 2.0, 3.0, 4.0, 5.0, 6.0]; // [[1, 2, 3], [4, 5, 6]]
/// let mut out = [0.0_f32; 6];
/// ssne_model::shift_image(&image, &mut out, [2, 3], [1, 1]);
/// assert_eq!(out, [0.0, 0.0, 0.0, 0.0, 1.0, 2.0]);
/// ```
pub fn shift_image(image: &[f32], out: &mut [f32], shape: [usize; 2], [down, right]: [i64; 2]) {
    let [height, width] = shape;
    out.fill(0.0);
    for r in 0..height as i64 {
        let src_r = r - down;
        if !(0..height as i64).contains(&src_r) {
            continue;
        }
        for c in 0..width as i64 {
            let src_c = c - right;
            if !(0..width as i64).contains(&src_c) {
                continue;
            }
            let (to, from) = (r as usize * width + c as usize, src_r as usize * width + src_c as usize);
            if let (Some(slot), Some(&pixel)) = (out.get_mut(to), image.get(from)) {
                *slot = pixel;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use ssne_tensor::ndarray::Array2;

    use super::*;

    #[test]
    fn shifts_move_pixels_within_the_bound_and_keep_their_values() {
        // One lit pixel in the middle of a 7 x 7 image, many rows.
        let mut x = Array2::zeros((200, 49));
        x.column_mut(3 * 7 + 3).fill(1.0);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        shift_rows(&mut x, [7, 7], 2, &mut rng);
        let mut moved = 0;
        for row in x.rows() {
            assert_eq!(row.sum(), 1.0, "the pixel stays inside the image");
            let at = row.iter().position(|&v| v == 1.0).unwrap();
            let (r, c) = (at / 7, at % 7);
            assert!(
                r.abs_diff(3) <= 2 && c.abs_diff(3) <= 2,
                "moved at most 2 pixels: {r},{c}"
            );
            moved += usize::from(at != 24);
        }
        assert!(moved > 150, "most rows move: {moved}");
    }

    #[test]
    fn pixels_pushed_over_the_border_are_dropped() {
        let mut x = Array2::zeros((50, 9));
        x.column_mut(0).fill(1.0);
        shift_rows(&mut x, [3, 3], 1, &mut ChaCha8Rng::seed_from_u64(2));
        assert!(x.rows().into_iter().any(|r| r.sum() == 0.0));
        assert!(x.iter().all(|&v| v == 0.0 || v == 1.0));
    }
}
