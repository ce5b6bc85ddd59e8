//! IDX files (the MNIST format): `u8` images and labels, gzip-compressed or raw.
//!
//! An IDX file is a big-endian magic (`0x00000803` for `u8` images with 3 dimensions,
//! `0x00000801` for `u8` labels with 1), one big-endian `u32` per dimension, then the values in
//! row-major order. Compression is detected from the gzip magic `1f 8b`, never from the file name.
//! The header's sizes are multiplied with `checked_mul` and compared with the bytes actually
//! present before anything is allocated from them.
//!
//! ```
//! use std::io::Write;
//!
//! let dir = tempfile::tempdir()?;
//! let images = dir.path().join("train-images-idx3-ubyte");
//! let mut bytes = vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2];
//! bytes.extend([0, 255, 51, 102]);
//! std::fs::File::create(&images)?.write_all(&bytes)?;
//! std::fs::write(dir.path().join("train-labels-idx1-ubyte"), [0, 0, 8, 1, 0, 0, 0, 2, 7, 3])?;
//!
//! let labels = ssne_data::idx::labels_path_for(&images).expect("an images-idx3 name");
//! let data = ssne_data::idx::load_pair(&images, Some(&labels))?;
//! assert_eq!(data.features.row(0).to_vec(), [0.0, 1.0]);
//! assert_eq!(data.features.row(1).to_vec(), [0.2, 0.4]);
//! assert_eq!((data.image_shape, data.labels), (Some([1, 2]), Some(vec![7, 3])));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::Read;
use std::path::{Path, PathBuf};

use ndarray::Array2;

use crate::dataset::Dataset;
use crate::error::DataError;
use crate::source;

/// Magic number of an IDX file of `u8` values with 3 dimensions (images).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of `u8` values with 1 dimension (labels).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// What an IDX file holds, from its header (see [`inspect`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdxInfo {
    /// `n_images` images of `rows x cols` bytes.
    Images {
        /// Number of images.
        n_images: usize,
        /// Pixel rows per image.
        rows: usize,
        /// Pixel columns per image.
        cols: usize,
    },
    /// `n_labels` one-byte labels.
    Labels {
        /// Number of labels.
        n_labels: usize,
    },
}

/// Reads an images file into an `n x (rows * cols)` matrix of values `v / 255` in `[0, 1]`,
/// with the image shape `[rows, cols]`.
///
/// # Errors
///
/// [`DataError::Io`] when the file cannot be read, [`DataError::Decompress`] for a corrupt gzip
/// stream, [`DataError::BadMagic`] when it is not an images file, [`DataError::Truncated`] and
/// [`DataError::BadDimensions`] when the header does not match the data.
pub fn read_images(path: &Path) -> Result<(Array2<f32>, [usize; 2]), DataError> {
    images_from_bytes(&source::read_decoded(path)?, path)
}

/// Reads a labels file.
///
/// # Errors
///
/// As [`read_images`], with the labels magic.
pub fn read_labels(path: &Path) -> Result<Vec<u32>, DataError> {
    labels_from_bytes(&source::read_decoded(path)?, path)
}

/// [`read_images`] from any reader (gzip or raw); errors name `source`.
///
/// # Errors
///
/// As [`read_images`].
pub fn read_images_from(reader: impl Read, source: &Path) -> Result<(Array2<f32>, [usize; 2]), DataError> {
    let bytes = source::decode(source::read_all(reader, source)?, source)?;
    images_from_bytes(&bytes, source)
}

/// [`read_labels`] from any reader (gzip or raw); errors name `source`.
///
/// # Errors
///
/// As [`read_labels`].
pub fn read_labels_from(reader: impl Read, source: &Path) -> Result<Vec<u32>, DataError> {
    let bytes = source::decode(source::read_all(reader, source)?, source)?;
    labels_from_bytes(&bytes, source)
}

/// Checks an IDX file's magic, header and size without converting its values, and says what it
/// holds. `cargo xtask fetch-mnist` uses this to validate downloads.
///
/// # Errors
///
/// As [`read_images`]; [`DataError::BadMagic`] names the images magic when the file is neither.
pub fn inspect(path: &Path) -> Result<IdxInfo, DataError> {
    let bytes = source::read_decoded(path)?;
    match magic(&bytes) {
        Some(LABELS_MAGIC) => {
            let (dims, _) = parse(&bytes, LABELS_MAGIC, 1, path)?;
            Ok(IdxInfo::Labels { n_labels: dims[0] })
        }
        _ => {
            let (dims, _) = parse(&bytes, IMAGES_MAGIC, 3, path)?;
            Ok(IdxInfo::Images {
                n_images: dims[0],
                rows: dims[1],
                cols: dims[2],
            })
        }
    }
}

/// Loads an images file and, if given, its labels file as a [`Dataset`] named after the images
/// file, with its image shape.
///
/// # Errors
///
/// As [`read_images`] and [`read_labels`], and [`DataError::LabelCount`] (naming the labels
/// file) when the two files disagree on the number of points.
pub fn load_pair(images: &Path, labels: Option<&Path>) -> Result<Dataset, DataError> {
    let (features, shape) = read_images(images)?;
    let labels = labels
        .map(|labels_path| Ok::<_, DataError>((read_labels(labels_path)?, labels_path)))
        .transpose()?;
    pair(features, shape, labels, source::stem(images))
}

/// The labels file that goes with `images`: the same folder and name with `images-idx3`
/// replaced by `labels-idx1` (also `images.idx3` -> `labels.idx1`). `None` when the name contains
/// neither. Whether the file exists is not checked.
pub fn labels_path_for(images: &Path) -> Option<PathBuf> {
    let name = images.file_name()?.to_str()?;
    let labels_name = if name.contains("images-idx3") {
        name.replacen("images-idx3", "labels-idx1", 1)
    } else if name.contains("images.idx3") {
        name.replacen("images.idx3", "labels.idx1", 1)
    } else {
        return None;
    };
    Some(images.with_file_name(labels_name))
}

/// Builds the data set of an images matrix and optional labels (with the labels' source).
pub(crate) fn pair(
    features: Array2<f32>,
    shape: [usize; 2],
    labels: Option<(Vec<u32>, &Path)>,
    name: String,
) -> Result<Dataset, DataError> {
    let (labels, labels_path) = match labels {
        Some((labels, path)) => (Some(labels), path),
        None => (None, Path::new(crate::dataset::IN_MEMORY)),
    };
    // Values v / 255 are finite by construction, so only the counts need checking.
    Dataset::unchecked(features, labels, labels_path)?
        .with_name(name)
        .with_image_shape(shape)
}

/// Decodes images from decompressed IDX bytes.
pub(crate) fn images_from_bytes(bytes: &[u8], path: &Path) -> Result<(Array2<f32>, [usize; 2]), DataError> {
    let (dims, data) = parse(bytes, IMAGES_MAGIC, 3, path)?;
    let (n_images, rows, cols) = (dims[0], dims[1], dims[2]);
    let values: Vec<f32> = data.iter().map(|&byte| f32::from(byte) / 255.0).collect();
    // `parse` checked that the data holds exactly n_images * rows * cols bytes; map the error
    // anyway rather than panic.
    let features = Array2::from_shape_vec((n_images, rows * cols), values).map_err(|_| bad_dims(&dims, data, path))?;
    Ok((features, [rows, cols]))
}

/// Decodes labels from decompressed IDX bytes.
pub(crate) fn labels_from_bytes(bytes: &[u8], path: &Path) -> Result<Vec<u32>, DataError> {
    let (_, data) = parse(bytes, LABELS_MAGIC, 1, path)?;
    Ok(data.iter().map(|&label| u32::from(label)).collect())
}

fn magic(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?))
}

/// Checks magic, header and size; returns the dimensions and exactly the data bytes.
fn parse<'a>(bytes: &'a [u8], expected: u32, n_dims: usize, path: &Path) -> Result<(Vec<usize>, &'a [u8]), DataError> {
    let header_len = 4 + 4 * n_dims;
    let truncated = |expected_bytes: u64| DataError::Truncated {
        path: path.to_path_buf(),
        expected_bytes,
        found_bytes: bytes.len() as u64,
    };
    let found = magic(bytes).ok_or_else(|| truncated(header_len as u64))?;
    if found != expected {
        return Err(DataError::BadMagic {
            path: path.to_path_buf(),
            found,
            expected,
        });
    }
    let header = bytes.get(4..header_len).ok_or_else(|| truncated(header_len as u64))?;
    let dims_u64: Vec<u64> = header
        .chunks_exact(4)
        .map(|chunk| u64::from(u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]])))
        .collect();
    let data = &bytes[header_len..];
    let bad = |reason: &'static str| DataError::BadDimensions {
        path: path.to_path_buf(),
        dims: dims_u64.clone(),
        data_bytes: data.len() as u64,
        reason,
    };
    let n_values = dims_u64
        .iter()
        .try_fold(1_u64, |product, &dim| product.checked_mul(dim))
        .ok_or_else(|| bad("their product overflows"))?;
    let expected_bytes = n_values
        .checked_add(header_len as u64)
        .ok_or_else(|| bad("their product overflows"))?;
    if (data.len() as u64) < n_values {
        return Err(truncated(expected_bytes));
    }
    if data.len() as u64 > n_values {
        return Err(bad("the file holds more bytes than they account for"));
    }
    if n_dims == 3 && (dims_u64[1] == 0 || dims_u64[2] == 0) {
        return Err(bad("an image has no pixels"));
    }
    // Each dimension is at most the data length here, which is a usize.
    let dims = dims_u64.iter().map(|&dim| dim as usize).collect();
    Ok((dims, data))
}

fn bad_dims(dims: &[usize], data: &[u8], path: &Path) -> DataError {
    DataError::BadDimensions {
        path: path.to_path_buf(),
        dims: dims.iter().map(|&dim| dim as u64).collect(),
        data_bytes: data.len() as u64,
        reason: "they do not match the data",
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::{IMAGES_MAGIC, IdxInfo, images_from_bytes, labels_from_bytes, labels_path_for, parse};
    use crate::DataError;

    fn header(magic: u32, dims: &[u32]) -> Vec<u8> {
        let mut bytes = magic.to_be_bytes().to_vec();
        for dim in dims {
            bytes.extend(dim.to_be_bytes());
        }
        bytes
    }

    #[test]
    fn decodes_images_and_labels() {
        let mut bytes = header(IMAGES_MAGIC, &[2, 1, 3]);
        bytes.extend([0, 51, 255, 102, 153, 204]);
        let (features, shape) = images_from_bytes(&bytes, Path::new("x")).unwrap();
        assert_eq!(shape, [1, 3]);
        assert_eq!(features.row(1).to_vec(), [0.4, 0.6, 0.8]);
        let mut labels = header(super::LABELS_MAGIC, &[3]);
        labels.extend([9, 0, 4]);
        assert_eq!(labels_from_bytes(&labels, Path::new("y")).unwrap(), [9, 0, 4]);
    }

    #[test]
    fn header_sizes_are_bounded_by_the_data() {
        let path = Path::new("x");
        let huge = header(IMAGES_MAGIC, &[u32::MAX, u32::MAX, u32::MAX]);
        assert!(matches!(
            parse(&huge, IMAGES_MAGIC, 3, path),
            Err(DataError::BadDimensions { .. })
        ));
        let short = header(IMAGES_MAGIC, &[60_000, 28, 28]);
        assert!(matches!(
            parse(&short, IMAGES_MAGIC, 3, path),
            Err(DataError::Truncated {
                expected_bytes: 47_040_016,
                found_bytes: 16,
                ..
            })
        ));
        assert!(matches!(
            parse(&short[..10], IMAGES_MAGIC, 3, path),
            Err(DataError::Truncated { .. })
        ));
        assert!(matches!(
            parse(&[0, 0], IMAGES_MAGIC, 3, path),
            Err(DataError::Truncated { .. })
        ));
        let no_pixels = header(IMAGES_MAGIC, &[5, 0, 28]);
        assert!(matches!(
            parse(&no_pixels, IMAGES_MAGIC, 3, path),
            Err(DataError::BadDimensions { .. })
        ));
    }

    #[test]
    fn labels_path_replaces_the_kind() {
        assert_eq!(
            labels_path_for(Path::new("d/t10k-images-idx3-ubyte.gz")),
            Some(PathBuf::from("d/t10k-labels-idx1-ubyte.gz"))
        );
        assert_eq!(
            labels_path_for(Path::new("train-images.idx3-ubyte")),
            Some(PathBuf::from("train-labels.idx1-ubyte"))
        );
        assert_eq!(labels_path_for(Path::new("d/points.csv")), None);
    }

    #[test]
    fn inspect_reports_the_kind() {
        let dir = tempfile::tempdir().unwrap();
        let labels = dir.path().join("l");
        let mut bytes = header(super::LABELS_MAGIC, &[2]);
        bytes.extend([1, 2]);
        std::fs::write(&labels, bytes).unwrap();
        assert_eq!(super::inspect(&labels).unwrap(), IdxInfo::Labels { n_labels: 2 });
        let other = dir.path().join("o");
        std::fs::write(&other, header(0x0000_0d03, &[1, 1, 1])).unwrap();
        assert!(matches!(
            super::inspect(&other),
            Err(DataError::BadMagic { found: 0x0d03, .. })
        ));
    }
}
