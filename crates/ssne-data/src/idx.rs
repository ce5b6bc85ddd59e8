//! IDX files (the MNIST format): `u8` images and labels, gzip-compressed or raw.
//!
//! An IDX file is a big-endian magic (`0x00000803` for `u8` images with 3 dimensions,
//! `0x00000801` for `u8` labels with 1), one big-endian `u32` per dimension, then the values in
//! row-major order. Compression is detected from the gzip magic `1f 8b`, never from the file name.
//! The header's sizes are multiplied with `checked_mul` and capped at [`MAX_DATA_BYTES`]; the
//! values are then read incrementally, so memory follows the bytes actually present, and no more
//! than the announced bytes (and one buffer past them) are ever decompressed.
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
//! // Labels 7 and 3 are numbered 1 and 0 for the model, and keep their values as names.
//! assert_eq!((data.image_shape, data.labels), (Some([1, 2]), Some(vec![1, 0])));
//! assert_eq!(data.label_names, Some(vec!["3".to_owned(), "7".to_owned()]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::Read;
use std::path::{Path, PathBuf};

use ndarray::Array2;

use crate::dataset::Dataset;
use crate::error::DataError;
use crate::features::{ByteDecoding, ByteFeatures};
use crate::source::{self, Decoded};

/// Magic number of an IDX file of `u8` values with 3 dimensions (images).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of `u8` values with 1 dimension (labels).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// The most data bytes (after the header) an IDX file may announce: 4 GiB, which become 16 GiB
/// of `f32` features. MNIST's training images are 47 MB and the largest EMNIST split about
/// 550 MB, so only a damaged or hostile header reaches this.
pub const MAX_DATA_BYTES: u64 = 1 << 32;

/// How far past a header announcing more than [`MAX_DATA_BYTES`] the stream is read, to tell a
/// short damaged file ([`DataError::Truncated`]) from a huge one ([`DataError::TooLarge`]).
const PROBE_BYTES: u64 = 1 << 20;

/// The first allocation for values, so that small files do not grow their buffer many times.
const FIRST_RESERVE: usize = 64 * 1024;

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
/// The file is streamed: the header is read first, and then no more than the data it announces
/// (plus one byte to see that nothing follows) is decompressed, so a small gzip file that
/// expands to far more than its header says is refused after about the announced size.
///
/// # Errors
///
/// [`DataError::Io`] when the file cannot be read, [`DataError::Decompress`] for a corrupt gzip
/// stream, [`DataError::BadMagic`] when it is not an images file, [`DataError::Truncated`] when
/// it ends before the data its header announces, [`DataError::TrailingData`] when it goes on
/// past them, [`DataError::TooLarge`] for a header announcing more than [`MAX_DATA_BYTES`], and
/// [`DataError::BadDimensions`] for dimensions that overflow or images without pixels.
pub fn read_images(path: &Path) -> Result<(Array2<f32>, [usize; 2]), DataError> {
    images_from(Decoded::open(path)?)
}

/// Reads a labels file.
///
/// # Errors
///
/// As [`read_images`], with the labels magic.
pub fn read_labels(path: &Path) -> Result<Vec<u32>, DataError> {
    labels_from(Decoded::open(path)?)
}

/// [`read_images`] from any reader (gzip or raw); errors name `source`.
///
/// # Errors
///
/// As [`read_images`].
pub fn read_images_from(reader: impl Read, source: &Path) -> Result<(Array2<f32>, [usize; 2]), DataError> {
    images_from(Decoded::new(reader, source)?)
}

/// [`read_labels`] from any reader (gzip or raw); errors name `source`.
///
/// # Errors
///
/// As [`read_labels`].
pub fn read_labels_from(reader: impl Read, source: &Path) -> Result<Vec<u32>, DataError> {
    labels_from(Decoded::new(reader, source)?)
}

/// Checks an IDX file's magic, header and size without converting its values, and says what it
/// holds. `cargo xtask fetch-mnist` uses this to validate downloads.
///
/// # Errors
///
/// As [`read_images`]; [`DataError::BadMagic`] names the images magic when the file is neither.
pub fn inspect(path: &Path) -> Result<IdxInfo, DataError> {
    let mut stream = Decoded::open(path)?;
    let header = read_header(&mut stream, Expected::Either, MAX_DATA_BYTES)?;
    // Every byte is still read, to check the size (and, for gzip, the checksum).
    read_data(&mut stream, &header, |_| Ok(()))?;
    match *header.dims.as_slice() {
        [n_labels] => Ok(IdxInfo::Labels { n_labels }),
        [_, 0, _] | [_, _, 0] => Err(bad_dimensions(&header, stream.path(), "an image has no pixels")),
        [n_images, rows, cols] => Ok(IdxInfo::Images { n_images, rows, cols }),
        _ => Err(bad_dimensions(
            &header,
            stream.path(),
            "an IDX file of u8 has 1 or 3 of them",
        )),
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

fn images_from(stream: Decoded<impl Read>) -> Result<(Array2<f32>, [usize; 2]), DataError> {
    images_as(stream, pixel_value)
}

/// Reads an images file as its `u8` codes, `n x (rows * cols)`, with the image shape: the
/// storage of [`ByteFeatures`](crate::ByteFeatures) with [`ByteDecoding::UnitInterval`], which
/// decodes each code to the value [`read_images`] gives it.
///
/// # Errors
///
/// As [`read_images`].
pub fn read_image_codes(path: &Path) -> Result<(Array2<u8>, [usize; 2]), DataError> {
    images_as(Decoded::open(path)?, |byte| byte)
}

/// Loads an images file as `u8` codes and, if given, its labels: [`load_pair`] in a quarter of
/// the memory, the same values once decoded.
///
/// # Errors
///
/// As [`load_pair`].
pub fn load_codes_pair(images: &Path, labels: Option<&Path>) -> Result<Dataset<ByteFeatures>, DataError> {
    let (codes, shape) = read_image_codes(images)?;
    let (labels, labels_path) = match labels {
        Some(path) => (Some(read_labels(path)?), path),
        None => (None, Path::new(crate::dataset::IN_MEMORY)),
    };
    Dataset::wrap(
        ByteFeatures::new(codes, ByteDecoding::UnitInterval),
        labels,
        labels_path,
    )?
    .with_name(source::stem(images))
    .with_image_shape(shape)
}

/// The images of `stream`, each pixel byte turned into a value by `convert`.
fn images_as<T>(
    mut stream: Decoded<impl Read>,
    convert: impl Fn(u8) -> T,
) -> Result<(Array2<T>, [usize; 2]), DataError> {
    let header = read_header(&mut stream, Expected::Images, MAX_DATA_BYTES)?;
    let &[n_images, rows, cols] = header.dims.as_slice() else {
        return Err(bad_dimensions(&header, stream.path(), "images have 3 of them"));
    };
    let mut values: Vec<T> = Vec::new();
    let path = stream.path().to_path_buf();
    read_data(&mut stream, &header, |bytes| {
        reserve(&mut values, bytes.len(), header.n_values, &path)?;
        values.extend(bytes.iter().map(|&byte| convert(byte)));
        Ok(())
    })?;
    // Checked after the data, so that it is known to be empty, as such a header says.
    if rows == 0 || cols == 0 {
        return Err(bad_dimensions(&header, &path, "an image has no pixels"));
    }
    // `read_header` checked that n_images * rows * cols = n_values, and `read_data` delivered
    // exactly n_values bytes; map the error anyway rather than panic.
    let features = Array2::from_shape_vec((n_images, rows * cols), values)
        .map_err(|_| bad_dimensions(&header, &path, "they do not match the data"))?;
    Ok((features, [rows, cols]))
}

fn labels_from(mut stream: Decoded<impl Read>) -> Result<Vec<u32>, DataError> {
    let header = read_header(&mut stream, Expected::Labels, MAX_DATA_BYTES)?;
    let mut labels: Vec<u32> = Vec::new();
    let path = stream.path().to_path_buf();
    read_data(&mut stream, &header, |bytes| {
        reserve(&mut labels, bytes.len(), header.n_values, &path)?;
        labels.extend(bytes.iter().map(|&label| u32::from(label)));
        Ok(())
    })?;
    Ok(labels)
}

/// An open IDX file (images or labels, gzip or raw) read a few rows at a time, for streamed
/// work on files of any size: no more than one buffer of decoded bytes is held. A raw file's
/// header is checked against the file's length before any row is read; a gzip file's length is
/// only known at its end, where a short or long stream is an error.
pub(crate) struct IdxRows {
    stream: Decoded<std::fs::File>,
    header: Header,
    n_points: usize,
    /// Bytes per row: `rows * cols` for images, 1 for labels.
    row_len: usize,
    image_shape: Option<[usize; 2]>,
    next_row: usize,
}

impl IdxRows {
    /// Opens an images file (`labels == false`) or a labels file and checks its header. A header
    /// announcing more than the file holds is refused here for a raw file; the size a header
    /// announces is never allocated.
    pub(crate) fn open(path: &Path, labels: bool) -> Result<Self, DataError> {
        let mut stream = Decoded::open(path)?;
        let expected = if labels { Expected::Labels } else { Expected::Images };
        // Nothing is allocated by the header, so no limit but the address space applies.
        let header = read_header(&mut stream, expected, u64::MAX)?;
        let (n_points, row_len, image_shape) = match *header.dims.as_slice() {
            [n_labels] => (n_labels, 1, None),
            [n_images, rows, cols] => (n_images, rows * cols, Some([rows, cols])),
            _ => return Err(bad_dimensions(&header, path, "images have 3 of them")),
        };
        if !stream.is_gzip() {
            let file_len = std::fs::metadata(path)
                .map_err(|source| DataError::Io {
                    path: path.to_path_buf(),
                    source,
                })?
                .len();
            let expected_bytes = header.header_len.saturating_add(header.n_values as u64);
            if file_len < expected_bytes {
                return Err(DataError::Truncated {
                    path: path.to_path_buf(),
                    expected_bytes,
                    found_bytes: file_len,
                });
            }
            if file_len > expected_bytes {
                return Err(DataError::TrailingData {
                    path: path.to_path_buf(),
                    expected_bytes,
                });
            }
        }
        if row_len == 0 {
            return Err(bad_dimensions(&header, path, "an image has no pixels"));
        }
        Ok(IdxRows {
            stream,
            header,
            n_points,
            row_len,
            image_shape,
            next_row: 0,
        })
    }

    /// Whether the file is gzip-compressed.
    pub(crate) fn is_gzip(&self) -> bool {
        self.stream.is_gzip()
    }

    /// The number of rows (images or labels) the header announces.
    pub(crate) fn n_points(&self) -> usize {
        self.n_points
    }

    /// Values per row (1 for labels).
    pub(crate) fn n_features(&self) -> usize {
        self.row_len
    }

    /// `[rows, cols]` of the images.
    pub(crate) fn image_shape(&self) -> Option<[usize; 2]> {
        self.image_shape
    }

    /// Hands the bytes of up to `max_rows` rows to `sink`, in pieces; returns the rows read.
    /// After the last row, checks that the stream ends there.
    pub(crate) fn read_rows(&mut self, max_rows: usize, mut sink: impl FnMut(&[u8])) -> Result<usize, DataError> {
        let n_rows = max_rows.min(self.n_points - self.next_row);
        let mut remaining = n_rows * self.row_len;
        while remaining > 0 {
            let chunk = self.stream.fill()?;
            if chunk.is_empty() {
                let done = self.next_row * self.row_len + (n_rows * self.row_len - remaining);
                return Err(DataError::Truncated {
                    path: self.stream.path().to_path_buf(),
                    expected_bytes: self.header.header_len + self.header.n_values as u64,
                    found_bytes: self.header.header_len + done as u64,
                });
            }
            let n = chunk.len().min(remaining);
            sink(&chunk[..n]);
            self.stream.consume(n);
            remaining -= n;
        }
        self.next_row += n_rows;
        if n_rows > 0 && self.next_row == self.n_points && !self.stream.fill()?.is_empty() {
            // For gzip this also reads the member's trailer, so its checksum is verified.
            return Err(DataError::TrailingData {
                path: self.stream.path().to_path_buf(),
                expected_bytes: self.header.header_len + self.header.n_values as u64,
            });
        }
        Ok(n_rows)
    }

    /// Appends up to `max_rows` images as `v / 255` (as [`read_images`] converts them).
    pub(crate) fn read_features(&mut self, max_rows: usize, out: &mut Vec<f32>) -> Result<usize, DataError> {
        self.read_rows(max_rows, |bytes| {
            out.extend(bytes.iter().map(|&byte| pixel_value(byte)))
        })
    }

    /// Appends up to `max_rows` images as their `u8` codes.
    pub(crate) fn read_code_rows(&mut self, max_rows: usize, out: &mut Vec<u8>) -> Result<usize, DataError> {
        self.read_rows(max_rows, |bytes| out.extend_from_slice(bytes))
    }

    /// Appends up to `max_rows` labels.
    pub(crate) fn read_labels(&mut self, max_rows: usize, out: &mut Vec<u32>) -> Result<usize, DataError> {
        self.read_rows(max_rows, |bytes| {
            out.extend(bytes.iter().map(|&label| u32::from(label)))
        })
    }
}

/// A pixel byte as a feature in `[0, 1]`.
fn pixel_value(byte: u8) -> f32 {
    ByteDecoding::UnitInterval.decode(byte)
}

/// Which magic a reader accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    Images,
    Labels,
    /// Labels, or else images ([`DataError::BadMagic`] then names the images magic).
    Either,
}

/// An IDX header that has passed every check that needs no data.
#[derive(Debug)]
struct Header {
    /// The dimensions, as stored.
    dims_u64: Vec<u64>,
    /// The dimensions; each fits a `usize` because their product does.
    dims: Vec<usize>,
    /// Bytes of magic and dimensions.
    header_len: u64,
    /// The data bytes the dimensions announce, at most [`MAX_DATA_BYTES`].
    n_values: usize,
}

/// Reads and checks the magic and the dimensions; leaves `stream` at the first data byte.
fn read_header(stream: &mut Decoded<impl Read>, expected: Expected, limit: u64) -> Result<Header, DataError> {
    let path = stream.path().to_path_buf();
    let mut magic_bytes = [0; 4];
    let found = stream.read_up_to(&mut magic_bytes)?;
    let magic = u32::from_be_bytes(magic_bytes);
    let wanted = match expected {
        Expected::Images => IMAGES_MAGIC,
        Expected::Labels => LABELS_MAGIC,
        Expected::Either if magic == LABELS_MAGIC => LABELS_MAGIC,
        Expected::Either => IMAGES_MAGIC,
    };
    let n_dims = if wanted == LABELS_MAGIC { 1 } else { 3 };
    let header_len = 4 + 4 * n_dims as u64;
    let truncated = |found_bytes: usize| DataError::Truncated {
        path: path.clone(),
        expected_bytes: header_len,
        found_bytes: found_bytes as u64,
    };
    if found < magic_bytes.len() {
        return Err(truncated(found));
    }
    if magic != wanted {
        return Err(DataError::BadMagic {
            path,
            found: magic,
            expected: wanted,
        });
    }
    let mut dim_bytes = [0; 12];
    let dim_bytes = &mut dim_bytes[..4 * n_dims];
    let found = stream.read_up_to(dim_bytes)?;
    if found < dim_bytes.len() {
        return Err(truncated(4 + found));
    }
    let dims_u64: Vec<u64> = dim_bytes
        .chunks_exact(4)
        .map(|chunk| u64::from(u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]])))
        .collect();
    let n_values = dims_u64
        .iter()
        .try_fold(1_u64, |product, &dim| product.checked_mul(dim));
    let n_values = match n_values.filter(|&n| n <= limit).map(usize::try_from) {
        Some(Ok(n_values)) => n_values,
        _ => return Err(oversized(stream, dims_u64, header_len, n_values)),
    };
    // Every dimension is at most the product (or the product is zero and the dimension is a u32,
    // which fits a usize too).
    let dims = dims_u64.iter().map(|&dim| dim as usize).collect();
    Ok(Header {
        dims_u64,
        dims,
        header_len,
        n_values,
    })
}

/// The error for dimensions announcing more than [`MAX_DATA_BYTES`] (`n_values` is `None` when
/// their product overflows). A short look past the header tells a small damaged file, reported
/// as [`DataError::Truncated`] (or [`DataError::BadDimensions`] for an overflow) with its exact
/// size, from a big one, [`DataError::TooLarge`]. Nothing read here is kept.
fn oversized(stream: &mut Decoded<impl Read>, dims: Vec<u64>, header_len: u64, n_values: Option<u64>) -> DataError {
    let path = stream.path().to_path_buf();
    let mut found = 0_u64;
    while found <= PROBE_BYTES {
        match stream.fill() {
            Ok([]) => {
                return match n_values.and_then(|n| n.checked_add(header_len)) {
                    Some(expected_bytes) => DataError::Truncated {
                        path,
                        expected_bytes,
                        found_bytes: header_len + found,
                    },
                    None => DataError::BadDimensions {
                        path,
                        dims,
                        data_bytes: found,
                        reason: "their product overflows",
                    },
                };
            }
            Ok(chunk) => {
                let n = chunk.len();
                stream.consume(n);
                found += n as u64;
            }
            Err(err) => return err,
        }
    }
    DataError::TooLarge {
        path,
        dims,
        limit_bytes: MAX_DATA_BYTES,
    }
}

/// Hands exactly `header.n_values` data bytes to `sink`, in chunks, then checks that the stream
/// ends there. A stream that ends early is [`DataError::Truncated`]; one with more is
/// [`DataError::TrailingData`], found by decoding at most one buffer past the announced data.
fn read_data(
    stream: &mut Decoded<impl Read>,
    header: &Header,
    mut sink: impl FnMut(&[u8]) -> Result<(), DataError>,
) -> Result<(), DataError> {
    let mut remaining = header.n_values;
    while remaining > 0 {
        let chunk = stream.fill()?;
        if chunk.is_empty() {
            return Err(DataError::Truncated {
                path: stream.path().to_path_buf(),
                expected_bytes: header.header_len + header.n_values as u64,
                found_bytes: header.header_len + (header.n_values - remaining) as u64,
            });
        }
        let n = chunk.len().min(remaining);
        sink(&chunk[..n])?;
        stream.consume(n);
        remaining -= n;
    }
    // For gzip this also reads the member's trailer, so its checksum is verified.
    if !stream.fill()?.is_empty() {
        return Err(DataError::TrailingData {
            path: stream.path().to_path_buf(),
            expected_bytes: header.header_len + header.n_values as u64,
        });
    }
    Ok(())
}

/// Makes room in `values` for `additional` more of the `total` a header announced, growing
/// geometrically but never past `total`: memory follows the data actually present, not the
/// header's promise, and a complete read ends with no spare capacity.
fn reserve<T>(values: &mut Vec<T>, additional: usize, total: usize, path: &Path) -> Result<(), DataError> {
    if values.capacity() - values.len() >= additional {
        return Ok(());
    }
    let needed = values.len() + additional;
    let target = values.len().saturating_mul(2).max(FIRST_RESERVE).min(total).max(needed);
    values
        .try_reserve_exact(target - values.len())
        .map_err(|_| DataError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::from(std::io::ErrorKind::OutOfMemory),
        })
}

fn bad_dimensions(header: &Header, path: &Path, reason: &'static str) -> DataError {
    DataError::BadDimensions {
        path: path.to_path_buf(),
        dims: header.dims_u64.clone(),
        data_bytes: header.n_values as u64,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::path::{Path, PathBuf};

    use super::{
        IMAGES_MAGIC, IdxInfo, LABELS_MAGIC, MAX_DATA_BYTES, PROBE_BYTES, labels_path_for, read_images_from,
        read_labels_from, reserve,
    };
    use crate::DataError;

    fn header(magic: u32, dims: &[u32]) -> Vec<u8> {
        let mut bytes = magic.to_be_bytes().to_vec();
        for dim in dims {
            bytes.extend(dim.to_be_bytes());
        }
        bytes
    }

    fn images(bytes: impl Read) -> Result<(ndarray::Array2<f32>, [usize; 2]), DataError> {
        read_images_from(bytes, Path::new("x"))
    }

    #[test]
    fn decodes_images_and_labels() {
        let mut bytes = header(IMAGES_MAGIC, &[2, 1, 3]);
        bytes.extend([0, 51, 255, 102, 153, 204]);
        let (features, shape) = images(bytes.as_slice()).unwrap();
        assert_eq!(shape, [1, 3]);
        assert_eq!(features.row(1).to_vec(), [0.4, 0.6, 0.8]);
        let mut labels = header(LABELS_MAGIC, &[3]);
        labels.extend([9, 0, 4]);
        assert_eq!(read_labels_from(labels.as_slice(), Path::new("y")).unwrap(), [9, 0, 4]);
    }

    #[test]
    fn header_sizes_are_bounded_by_the_data() {
        let huge = header(IMAGES_MAGIC, &[u32::MAX, u32::MAX, u32::MAX]);
        assert!(matches!(
            images(huge.as_slice()),
            Err(DataError::BadDimensions { data_bytes: 0, .. })
        ));
        let short = header(IMAGES_MAGIC, &[60_000, 28, 28]);
        assert!(matches!(
            images(short.as_slice()),
            Err(DataError::Truncated {
                expected_bytes: 47_040_016,
                found_bytes: 16,
                ..
            })
        ));
        assert!(matches!(
            images(&short[..10]),
            Err(DataError::Truncated { found_bytes: 10, .. })
        ));
        assert!(matches!(
            images(&[0_u8, 0][..]),
            Err(DataError::Truncated { found_bytes: 2, .. })
        ));
        let no_pixels = header(IMAGES_MAGIC, &[5, 0, 28]);
        assert!(matches!(
            images(no_pixels.as_slice()),
            Err(DataError::BadDimensions { .. })
        ));
    }

    #[test]
    fn an_endless_stream_is_refused_after_the_announced_data() {
        // Without a bound on what is read this test would never end.
        let endless = std::io::Cursor::new(header(IMAGES_MAGIC, &[2, 2, 2])).chain(std::io::repeat(9));
        assert!(matches!(
            images(endless),
            Err(DataError::TrailingData { expected_bytes: 24, .. })
        ));
        let endless = std::io::Cursor::new(header(LABELS_MAGIC, &[3])).chain(std::io::repeat(1));
        assert!(matches!(
            read_labels_from(endless, Path::new("y")),
            Err(DataError::TrailingData { expected_bytes: 11, .. })
        ));
    }

    #[test]
    fn headers_past_the_limit_are_truncated_or_too_large() {
        // 2^33 data bytes: over the limit.
        let over = header(IMAGES_MAGIC, &[1 << 13, 1 << 10, 1 << 10]);
        const { assert!(MAX_DATA_BYTES < 1 << 33) };
        let mut small = over.clone();
        small.extend([0; 100]);
        assert!(matches!(
            images(small.as_slice()),
            Err(DataError::Truncated {
                expected_bytes,
                found_bytes: 116,
                ..
            }) if expected_bytes == (1 << 33) + 16
        ));
        let big = over.as_slice().chain(std::io::repeat(0).take(2 * PROBE_BYTES));
        match images(big) {
            Err(DataError::TooLarge { dims, limit_bytes, .. }) => {
                assert_eq!((dims, limit_bytes), (vec![1 << 13, 1 << 10, 1 << 10], MAX_DATA_BYTES));
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
        // An overflowing product behind a big stream is too large as well.
        let overflow = header(IMAGES_MAGIC, &[u32::MAX; 3]);
        let big = overflow.as_slice().chain(std::io::repeat(0));
        assert!(matches!(images(big), Err(DataError::TooLarge { .. })));
    }

    #[test]
    fn a_header_under_the_limit_allocates_only_what_is_present() {
        // 4 GiB announced (16 GiB of f32), 100 bytes present: truncated, not an allocation.
        let mut bytes = header(LABELS_MAGIC, &[u32::MAX]);
        bytes.extend([3; 100]);
        assert!(matches!(
            read_labels_from(bytes.as_slice(), Path::new("y")),
            Err(DataError::Truncated { found_bytes: 108, .. })
        ));
    }

    #[test]
    fn reserve_grows_geometrically_up_to_the_total() {
        let path = Path::new("x");
        let mut values: Vec<u8> = Vec::new();
        reserve(&mut values, 10, 1_000_000, path).unwrap();
        let first = values.capacity();
        assert!((super::FIRST_RESERVE..1_000_000).contains(&first), "{first}");
        values.resize(first, 0);
        reserve(&mut values, 10, 1_000_000, path).unwrap();
        assert!(values.capacity() >= 2 * first);
        values.resize(999_990, 0);
        reserve(&mut values, 10, 1_000_000, path).unwrap();
        assert_eq!(values.capacity(), 1_000_000);
        let mut small: Vec<u8> = Vec::new();
        reserve(&mut small, 3, 5, path).unwrap();
        assert_eq!(small.capacity(), 5);
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
        let mut bytes = header(LABELS_MAGIC, &[2]);
        bytes.extend([1, 2]);
        std::fs::write(&labels, bytes).unwrap();
        assert_eq!(super::inspect(&labels).unwrap(), IdxInfo::Labels { n_labels: 2 });
        let other = dir.path().join("o");
        std::fs::write(&other, header(0x0000_0d03, &[1, 1, 1])).unwrap();
        assert!(matches!(
            super::inspect(&other),
            Err(DataError::BadMagic { found: 0x0d03, .. })
        ));
        let images = dir.path().join("i");
        let mut bytes = header(IMAGES_MAGIC, &[1, 2, 2]);
        bytes.extend([0; 5]);
        std::fs::write(&images, bytes).unwrap();
        assert!(matches!(
            super::inspect(&images),
            Err(DataError::TrailingData { expected_bytes: 20, .. })
        ));
    }
}
