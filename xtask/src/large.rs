//! `make-large`: a large, realistic image set made from an MNIST-style folder (Fashion-MNIST),
//! for benches and scale runs: every source image in turn, the first copy as it is and each
//! later copy rotated and shifted slightly, until the asked number of rows.
//!
//! The output is written as it is made, a chunk of rows at a time (10^6 images never sit in
//! memory), atomically (a temporary file, then a rename), with the labels beside it. Each row's
//! rotation and shift come from its own stream of a `ChaCha8Rng` seeded from `--seed`, so the
//! file is the same byte for byte whatever the chunking.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ssne_data::AtomicFile;
use ssne_data::mnist::{FileKind, SplitName, candidate_names};

/// The largest rotation, in degrees, either way.
pub const MAX_ROTATION_DEGREES: f32 = 12.0;
/// The largest shift, in pixels, along each axis.
pub const MAX_SHIFT_PIXELS: f32 = 2.0;
/// Rows made and written per step.
const CHUNK_ROWS: usize = 4096;

/// How the images are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// NPY `n x h x w` of `<f4` values `v / 255` (as the IDX loader reads pixels, so a model
    /// trained on the folder embeds the file as it is).
    NpyF32,
    /// NPY `n x h x w` of `|u1` bytes.
    NpyU8,
    /// An IDX images file (bytes), with an IDX labels file.
    Idx,
}

/// What to make.
#[derive(Debug, Clone, PartialEq)]
pub struct MakeLarge {
    /// The MNIST-style folder whose training split is the source.
    pub from: PathBuf,
    /// Rows to write.
    pub rows: usize,
    /// The images file.
    pub out: PathBuf,
    /// Seeds the rotations and shifts.
    pub seed: u64,
    /// How to store the images.
    pub layout: Layout,
}

/// The files written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Made {
    /// The images.
    pub images: PathBuf,
    /// The labels: `<out>.labels.npy` beside an NPY file, the `labels-idx1` file beside IDX.
    pub labels: PathBuf,
}

/// The labels file that goes with `out`.
///
/// # Errors
///
/// For IDX, a name without `images-idx3` (the loaders find the labels by that name).
pub fn labels_path(out: &Path, layout: Layout) -> anyhow::Result<PathBuf> {
    match layout {
        Layout::NpyF32 | Layout::NpyU8 => Ok(out.with_extension("labels.npy")),
        Layout::Idx => ssne_data::idx::labels_path_for(out).with_context(|| {
            format!(
                "{}: name an IDX output like large-images-idx3-ubyte, so that its labels file (large-labels-idx1-ubyte) is found beside it",
                out.display()
            )
        }),
    }
}

/// Makes the file; `progress` is told the rows written after each chunk.
///
/// # Errors
///
/// A source folder that cannot be read, zero rows, more than `u32::MAX` rows for IDX, an
/// output that cannot be written (nothing is left behind then).
pub fn make(task: &MakeLarge, mut progress: impl FnMut(usize)) -> anyhow::Result<Made> {
    ensure!(task.rows > 0, "--rows must be at least 1");
    if task.layout == Layout::Idx {
        ensure!(
            u32::try_from(task.rows).is_ok(),
            "an IDX file holds at most {} rows",
            u32::MAX
        );
    }
    let labels_out = labels_path(&task.out, task.layout)?;
    let source = Source::read(&task.from)?;
    let [height, width] = source.shape;

    let mut labels_file = AtomicFile::create(&labels_out)?;
    match task.layout {
        Layout::NpyF32 | Layout::NpyU8 => labels_file.write_all(&npy_header("|u1", &[task.rows]))?,
        Layout::Idx => {
            labels_file.write_all(&ssne_data::idx::LABELS_MAGIC.to_be_bytes())?;
            labels_file.write_all(&idx_dim(task.rows)?)?;
        }
    }
    let mut images = AtomicFile::create(&task.out)?;
    match task.layout {
        Layout::NpyF32 => images.write_all(&npy_header("<f4", &[task.rows, height, width]))?,
        Layout::NpyU8 => images.write_all(&npy_header("|u1", &[task.rows, height, width]))?,
        Layout::Idx => {
            images.write_all(&ssne_data::idx::IMAGES_MAGIC.to_be_bytes())?;
            for dim in [task.rows, height, width] {
                images.write_all(&idx_dim(dim)?)?;
            }
        }
    }
    let area = height * width;
    let mut pixels = vec![0_u8; CHUNK_ROWS * area];
    let mut bytes = Vec::with_capacity(CHUNK_ROWS * area * 4);
    let mut labels = Vec::with_capacity(CHUNK_ROWS);
    let mut start = 0;
    while start < task.rows {
        let end = (start + CHUNK_ROWS).min(task.rows);
        labels.clear();
        for (offset, image) in pixels[..(end - start) * area].chunks_exact_mut(area).enumerate() {
            let row = start + offset;
            let index = row % source.n_images();
            let original = source.image(index);
            if row < source.n_images() {
                image.copy_from_slice(original);
            } else {
                let motion = Motion::of_row(task.seed, row);
                motion.apply(original, image, source.shape);
            }
            labels.push(source.labels[index]);
        }
        let chunk = &pixels[..(end - start) * area];
        bytes.clear();
        match task.layout {
            Layout::NpyF32 => {
                for &byte in chunk {
                    bytes.extend_from_slice(&(f32::from(byte) / 255.0).to_le_bytes());
                }
            }
            Layout::NpyU8 | Layout::Idx => bytes.extend_from_slice(chunk),
        }
        images.write_all(&bytes)?;
        labels_file.write_all(&labels)?;
        start = end;
        progress(end);
    }
    // The labels first, so that finished images always have theirs.
    labels_file.commit()?;
    images.commit()?;
    Ok(Made {
        images: task.out.clone(),
        labels: labels_out,
    })
}

/// The training split of the source folder, as bytes.
struct Source {
    pixels: Vec<u8>,
    labels: Vec<u8>,
    shape: [usize; 2],
}

impl Source {
    fn read(dir: &Path) -> anyhow::Result<Self> {
        let mut stream = ssne_data::stream::RowStream::open_mnist_dir(dir, SplitName::Train)
            .with_context(|| format!("{}: reading the source images", dir.display()))?;
        let shape = stream
            .image_shape()
            .with_context(|| format!("{}: the source holds no images", dir.display()))?;
        let mut pixels = Vec::with_capacity(stream.n_points().unwrap_or(0) * shape[0] * shape[1]);
        while let Some(chunk) = stream.next_codes(CHUNK_ROWS)? {
            pixels.extend(chunk.features.codes().iter());
        }
        let labels_file = candidate_names(SplitName::Train, FileKind::Labels)
            .iter()
            .map(|name| dir.join(name))
            .find(|path| path.is_file())
            .with_context(|| format!("{}: no training labels file", dir.display()))?;
        let labels = ssne_data::idx::read_labels(&labels_file)?;
        let labels = labels
            .into_iter()
            .map(|label| u8::try_from(label).context("an IDX label is a byte"))
            .collect::<anyhow::Result<Vec<u8>>>()?;
        let source = Source { pixels, labels, shape };
        if source.n_images() == 0 || source.labels.len() != source.n_images() {
            bail!(
                "{}: {} images and {} labels",
                dir.display(),
                source.n_images(),
                source.labels.len()
            );
        }
        Ok(source)
    }

    fn n_images(&self) -> usize {
        self.pixels.len() / (self.shape[0] * self.shape[1])
    }

    fn image(&self, index: usize) -> &[u8] {
        let area = self.shape[0] * self.shape[1];
        &self.pixels[index * area..(index + 1) * area]
    }
}

/// A small rotation about the image's centre, then a shift.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Motion {
    /// Degrees, counter-clockwise.
    pub degrees: f32,
    /// Pixels to the right.
    pub dx: f32,
    /// Pixels down.
    pub dy: f32,
}

impl Motion {
    /// The motion of output row `row`: drawn from stream `row` of `ChaCha8Rng` seeded by `seed`.
    pub fn of_row(seed: u64, row: usize) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(row as u64);
        Motion {
            degrees: rng.random_range(-MAX_ROTATION_DEGREES..=MAX_ROTATION_DEGREES),
            dx: rng.random_range(-MAX_SHIFT_PIXELS..=MAX_SHIFT_PIXELS),
            dy: rng.random_range(-MAX_SHIFT_PIXELS..=MAX_SHIFT_PIXELS),
        }
    }

    /// Writes `image` (`shape` bytes, row-major) moved into `out`: each output pixel samples
    /// the source bilinearly where the inverse motion takes it (black outside the image).
    pub fn apply(&self, image: &[u8], out: &mut [u8], shape: [usize; 2]) {
        let [height, width] = shape;
        let (sin, cos) = self.degrees.to_radians().sin_cos();
        let (cx, cy) = ((width as f32 - 1.0) / 2.0, (height as f32 - 1.0) / 2.0);
        let at = |x: isize, y: isize| -> f32 {
            if x < 0 || y < 0 || x as usize >= width || y as usize >= height {
                0.0
            } else {
                f32::from(image[y as usize * width + x as usize])
            }
        };
        for y in 0..height {
            for x in 0..width {
                // Undo the shift, then the rotation.
                let (u, v) = (x as f32 - self.dx - cx, y as f32 - self.dy - cy);
                let sx = cos * u + sin * v + cx;
                let sy = -sin * u + cos * v + cy;
                let (x0, y0) = (sx.floor(), sy.floor());
                let (fx, fy) = (sx - x0, sy - y0);
                let (x0, y0) = (x0 as isize, y0 as isize);
                let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx;
                let bottom = at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx;
                let value = top * (1.0 - fy) + bottom * fy;
                out[y * width + x] = value.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
}

/// An IDX dimension.
fn idx_dim(dim: usize) -> anyhow::Result<[u8; 4]> {
    Ok(u32::try_from(dim)
        .context("an IDX dimension fits 32 bits")?
        .to_be_bytes())
}

/// An NPY 1.0 header for a C-order array, padded to a multiple of 64 bytes as NumPy does.
fn npy_header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let shape = match dims.as_slice() {
        [one] => format!("({one},)"),
        _ => format!("({})", dims.join(", ")),
    };
    let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    let unpadded = 10 + dict.len() + 1;
    let padding = (64 - unpadded % 64) % 64;
    let mut header = b"\x93NUMPY\x01\x00".to_vec();
    // A dictionary of a few dimensions is far below u16::MAX bytes.
    let len = u16::try_from(dict.len() + padding + 1).unwrap_or(u16::MAX);
    header.extend_from_slice(&len.to_le_bytes());
    header.extend_from_slice(dict.as_bytes());
    header.resize(header.len() + padding, b' ');
    header.push(b'\n');
    header
}

#[cfg(test)]
mod tests {
    use super::{Motion, npy_header};

    /// A 5 x 6 image with one bright pixel at (x, y) = (2, 1).
    fn dot() -> Vec<u8> {
        let mut image = vec![0_u8; 30];
        image[6 + 2] = 200;
        image
    }

    #[test]
    fn no_motion_is_the_identity_and_a_whole_pixel_shift_moves_pixels() {
        let mut out = vec![0_u8; 30];
        let still = Motion {
            degrees: 0.0,
            dx: 0.0,
            dy: 0.0,
        };
        still.apply(&dot(), &mut out, [5, 6]);
        assert_eq!(out, dot());
        let moved = Motion {
            degrees: 0.0,
            dx: 1.0,
            dy: 2.0,
        };
        moved.apply(&dot(), &mut out, [5, 6]);
        let mut expected = vec![0_u8; 30];
        expected[3 * 6 + 3] = 200;
        assert_eq!(out, expected);
        // A half-pixel shift spreads the dot over two pixels.
        let half = Motion {
            degrees: 0.0,
            dx: 0.5,
            dy: 0.0,
        };
        half.apply(&dot(), &mut out, [5, 6]);
        assert_eq!((out[6 + 2], out[6 + 3]), (100, 100));
        assert_eq!(out.iter().map(|&v| u32::from(v)).sum::<u32>(), 200);
    }

    #[test]
    fn a_quarter_turn_turns_the_image() {
        // On a square image a 90-degree rotation about the centre maps pixels exactly.
        let mut image = vec![0_u8; 16];
        image[1] = 255; // (x, y) = (1, 0)
        let mut out = vec![0_u8; 16];
        Motion {
            degrees: 90.0,
            dx: 0.0,
            dy: 0.0,
        }
        .apply(&image, &mut out, [4, 4]);
        assert_eq!(out.iter().filter(|&&v| v > 0).count(), 1);
        assert_eq!(out.iter().map(|&v| u32::from(v)).sum::<u32>(), 255);
    }

    #[test]
    fn motions_are_small_seeded_and_differ_by_row() {
        let a = Motion::of_row(7, 123_456);
        assert_eq!(a, Motion::of_row(7, 123_456));
        assert_ne!(a, Motion::of_row(7, 123_457));
        assert_ne!(a, Motion::of_row(8, 123_456));
        for row in 0..200 {
            let m = Motion::of_row(1, row);
            assert!(
                m.degrees.abs() <= 12.0 && m.dx.abs() <= 2.0 && m.dy.abs() <= 2.0,
                "{m:?}"
            );
        }
    }

    #[test]
    fn npy_headers_are_aligned() {
        for shape in [&[3_usize][..], &[1_000_000, 28, 28]] {
            let header = npy_header("<f4", shape);
            assert_eq!(header.len() % 64, 0);
            assert_eq!(header.last(), Some(&b'\n'));
        }
        assert!(String::from_utf8_lossy(&npy_header("|u1", &[5])).contains("'shape': (5,)"));
    }
}
