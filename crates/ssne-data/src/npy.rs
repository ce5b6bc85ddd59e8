//! NumPy `.npy` files: features (`f32`, `f64`, `u8`, `i32`, `i64`) and integer labels.
//!
//! Features are 2-D (`n x d`) or 3-D (`n x h x w` images, flattened to `n x (h * w)` with the
//! image shape kept); C and Fortran order are both read, any byte order. Labels are 1-D (or
//! `n x 1`) arrays of `u8`, `i32` or `i64` with values in `0..=u32::MAX`. Other dtypes give
//! [`DataError::UnsupportedDtype`] naming the dtype. Files are written as NPY 1.0, `<f4`, C order.
//!
//! ```
//! use ndarray::array;
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("embedding.npy");
//! let y = array![[0.5_f32, -1.0], [2.0, 3.25]];
//! ssne_data::npy::write_f32(&path, &y.view())?;
//! assert_eq!(ssne_data::npy::read_features(&path)?, y);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::Write as _;
use std::path::Path;

use ndarray::{Array2, ArrayD, ArrayView2, IxDyn, ShapeBuilder};

use crate::dataset::{Dataset, check_finite};
use crate::error::DataError;
use crate::features::{ByteDecoding, ByteFeatures};
use crate::source;

mod header;
mod rows;

pub(crate) use rows::{Holds, NpyRows};

use header::{Dtype, Header};

/// Reads a 2-D or 3-D numeric array as `n x d` features (3-D arrays are flattened per image).
///
/// # Errors
///
/// [`DataError::Io`], [`DataError::NpyHeader`] for a malformed file,
/// [`DataError::UnsupportedDtype`], [`DataError::Truncated`] / [`DataError::BadDimensions`] when
/// the shape does not match the data or has the wrong number of axes, and
/// [`DataError::NonFinite`] for NaN or infinity.
pub fn read_features(path: &Path) -> Result<Array2<f32>, DataError> {
    Ok(read_features_with(path, false)?.0)
}

/// Reads a 1-D (or `n x 1`) integer array as labels.
///
/// # Errors
///
/// As [`read_features`], [`DataError::UnsupportedDtype`] for float labels and
/// [`DataError::BadLabel`] for a negative label or one past `u32::MAX`.
pub fn read_labels(path: &Path) -> Result<Vec<u32>, DataError> {
    let bytes = source::read_file(path)?;
    let (header, data) = Header::parse(&bytes, path)?;
    if matches!(header.dtype, Dtype::F32 | Dtype::F64) {
        return Err(DataError::UnsupportedDtype {
            path: path.to_path_buf(),
            dtype: header.descr,
        });
    }
    let n_labels = match header.shape.as_slice() {
        [n] | [n, 1] => *n,
        _ => {
            return Err(wrong_axes(
                &header,
                data.len() as u64,
                path,
                "labels must be 1-D (or n x 1)",
            ));
        }
    };
    let values = header.values(data, path)?.into_i64();
    values
        .into_iter()
        .take(n_labels)
        .enumerate()
        .map(|(index, value)| {
            u32::try_from(value).map_err(|_| DataError::BadLabel {
                path: path.to_path_buf(),
                index,
                value,
            })
        })
        .collect()
}

/// Loads features and optional labels as a [`Dataset`] named after the features file; 3-D
/// features keep their image shape.
///
/// # Errors
///
/// As [`read_features`] and [`read_labels`], and [`DataError::LabelCount`] when they disagree.
pub fn load(features: &Path, labels: Option<&Path>) -> Result<Dataset, DataError> {
    load_with(features, labels, false)
}

/// [`load`], optionally accepting NaN and infinity.
pub(crate) fn load_with(features: &Path, labels: Option<&Path>, allow_non_finite: bool) -> Result<Dataset, DataError> {
    let (values, image_shape) = read_features_with(features, allow_non_finite)?;
    let (labels, labels_path) = match labels {
        Some(path) => (Some(read_labels(path)?), path),
        None => (None, features),
    };
    let mut data = Dataset::unchecked(values, labels, labels_path)?.with_name(source::stem(features));
    if let Some(shape) = image_shape {
        data = data.with_image_shape(shape)?;
    }
    Ok(data)
}

/// Loads a `u8` features array as its codes, decoded as [`load`] decodes them
/// ([`ByteDecoding::Value`]), with optional labels and the image shape of a 3-D array; `None`
/// when the array holds another element type (only its header is read then).
///
/// # Errors
///
/// As [`load`].
pub fn load_codes(features: &Path, labels: Option<&Path>) -> Result<Option<Dataset<ByteFeatures>>, DataError> {
    let rows = NpyRows::open(features, Holds::Features)?;
    let image_shape = rows.image_shape();
    let Some(codes) = rows.read_codes()? else {
        return Ok(None);
    };
    let (labels, labels_path) = match labels {
        Some(path) => (Some(read_labels(path)?), path),
        None => (None, features),
    };
    let mut data = Dataset::wrap(ByteFeatures::new(codes, ByteDecoding::Value), labels, labels_path)?
        .with_name(source::stem(features));
    if let Some(shape) = image_shape {
        data = data.with_image_shape(shape)?;
    }
    Ok(Some(data))
}

/// Writes `data` as an NPY 1.0 file of little-endian `f32` in C order, atomically (see
/// [`write_atomic`](crate::write_atomic)).
///
/// # Errors
///
/// [`DataError::Io`] when the file cannot be written; nothing is left under `path` then.
pub fn write_f32(path: &Path, data: &ArrayView2<'_, f32>) -> Result<(), DataError> {
    let mut writer = F32Writer::create(path, data.ncols())?;
    writer.write_rows(data)?;
    writer.finish()
}

/// Writes an `n x n_cols` NPY file of little-endian `f32` rows as they come, atomically: the
/// number of rows need not be known in advance and only the rows of one call are held. The file
/// is the one [`write_f32`] writes for the same rows, byte for byte ([`write_f32`] is this
/// writer); nothing appears under the path before [`finish`](Self::finish).
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("map.npy");
/// let mut writer = ssne_data::npy::F32Writer::create(&path, 2)?;
/// writer.write_rows(&ndarray::array![[0.5_f32, 1.0]].view())?;
/// writer.write_rows(&ndarray::array![[2.0_f32, 3.0], [4.0, 5.0]].view())?;
/// writer.finish()?;
/// assert_eq!(ssne_data::npy::read_features(&path)?, ndarray::array![[0.5_f32, 1.0], [2.0, 3.0], [4.0, 5.0]]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct F32Writer {
    file: crate::AtomicFile,
    n_cols: usize,
    n_rows: usize,
    buf: Vec<u8>,
}

impl F32Writer {
    /// Starts the file with a placeholder header of the final header's length.
    ///
    /// # Errors
    ///
    /// [`DataError::Io`] when the temporary file cannot be created or written.
    pub fn create(path: &Path, n_cols: usize) -> Result<Self, DataError> {
        let mut file = crate::AtomicFile::create(path)?;
        file.write_all(&header::encode_f32_header(0, n_cols))
            .map_err(|source| io_error(path, source))?;
        Ok(F32Writer {
            file,
            n_cols,
            n_rows: 0,
            buf: Vec::new(),
        })
    }

    /// Appends the rows of `rows`.
    ///
    /// # Errors
    ///
    /// [`DataError::HeaderMismatch`] when `rows` does not have the file's number of columns,
    /// [`DataError::Io`] when the file cannot be written.
    pub fn write_rows(&mut self, rows: &ArrayView2<'_, f32>) -> Result<(), DataError> {
        if rows.ncols() != self.n_cols {
            return Err(DataError::HeaderMismatch {
                path: self.file.path().to_path_buf(),
                header: self.n_cols,
                columns: rows.ncols(),
            });
        }
        self.buf.clear();
        self.buf.reserve(rows.len() * 4);
        // `iter` walks the logical (row-major) order whatever the view's strides.
        for &value in rows {
            self.buf.extend_from_slice(&value.to_le_bytes());
        }
        let path = self.file.path().to_path_buf();
        self.file
            .write_all(&self.buf)
            .map_err(|source| io_error(&path, source))?;
        self.n_rows += rows.nrows();
        Ok(())
    }

    /// Writes the header with the final row count and renames the file into place.
    ///
    /// # Errors
    ///
    /// [`DataError::Io`] when a step fails; nothing is left under the path then.
    pub fn finish(mut self) -> Result<(), DataError> {
        self.file
            .rewrite_start(&header::encode_f32_header(self.n_rows, self.n_cols))?;
        self.file.commit()
    }
}

fn io_error(path: &Path, source: std::io::Error) -> DataError {
    DataError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads features and, for 3-D arrays, the image shape; checks finiteness unless allowed.
pub(crate) fn read_features_with(
    path: &Path,
    allow_non_finite: bool,
) -> Result<(Array2<f32>, Option<[usize; 2]>), DataError> {
    let bytes = source::read_file(path)?;
    let (header, data) = Header::parse(&bytes, path)?;
    let (n_points, n_features, image_shape) = feature_axes(&header, data.len() as u64, path)?;
    let values = header.values(data, path)?.into_f32();
    let shape = IxDyn(&header.shape);
    let array = if header.fortran_order {
        ArrayD::from_shape_vec(shape.f(), values)
    } else {
        ArrayD::from_shape_vec(shape, values)
    }
    .map_err(|_| wrong_axes(&header, data.len() as u64, path, "they do not match the data"))?;
    let features = array
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order((n_points, n_features))
        .map_err(|_| wrong_axes(&header, data.len() as u64, path, "they do not match the data"))?;
    if !allow_non_finite {
        check_finite(&features, path)?;
    }
    Ok((features, image_shape))
}

/// `(n_points, n_features, image_shape)` of a 2-D (`n x d`) or 3-D (`n x h x w`) features array
/// of `data_bytes` data bytes.
fn feature_axes(
    header: &Header,
    data_bytes: u64,
    path: &Path,
) -> Result<(usize, usize, Option<[usize; 2]>), DataError> {
    match header.shape.as_slice() {
        [n, d] => Ok((*n, *d, None)),
        [n, h, w] => match h.checked_mul(*w) {
            Some(area) => Ok((*n, area, Some([*h, *w]))),
            None => Err(wrong_axes(header, data_bytes, path, "their product overflows")),
        },
        _ => Err(wrong_axes(
            header,
            data_bytes,
            path,
            "features must be 2-D (n x d) or 3-D (n x h x w)",
        )),
    }
}

fn wrong_axes(header: &Header, data_bytes: u64, path: &Path, reason: &'static str) -> DataError {
    DataError::BadDimensions {
        path: path.to_path_buf(),
        dims: header.shape.iter().map(|&dim| dim as u64).collect(),
        data_bytes,
        reason,
    }
}
