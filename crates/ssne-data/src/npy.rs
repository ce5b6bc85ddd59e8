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

use std::path::Path;

use ndarray::{Array2, ArrayD, ArrayView2, IxDyn, ShapeBuilder};

use crate::dataset::{Dataset, check_finite};
use crate::error::DataError;
use crate::source;

mod header;

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
        _ => return Err(wrong_axes(&header, data, path, "labels must be 1-D (or n x 1)")),
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

/// Writes `data` as an NPY 1.0 file of little-endian `f32` in C order, atomically (see
/// [`write_atomic`](crate::write_atomic)).
///
/// # Errors
///
/// [`DataError::Io`] when the file cannot be written; nothing is left under `path` then.
pub fn write_f32(path: &Path, data: &ArrayView2<'_, f32>) -> Result<(), DataError> {
    let header = header::encode_f32_header(data.nrows(), data.ncols());
    crate::write_atomic(path, |out| {
        out.write_all(&header)?;
        let mut buf = Vec::with_capacity(data.len() * 4);
        // `iter` walks the logical (row-major) order whatever the view's strides.
        for &value in data.iter() {
            buf.extend_from_slice(&value.to_le_bytes());
        }
        out.write_all(&buf)
    })
}

/// Reads features and, for 3-D arrays, the image shape; checks finiteness unless allowed.
pub(crate) fn read_features_with(
    path: &Path,
    allow_non_finite: bool,
) -> Result<(Array2<f32>, Option<[usize; 2]>), DataError> {
    let bytes = source::read_file(path)?;
    let (header, data) = Header::parse(&bytes, path)?;
    let (n_points, n_features, image_shape) = match header.shape.as_slice() {
        [n, d] => (*n, *d, None),
        [n, h, w] => match h.checked_mul(*w) {
            Some(area) => (*n, area, Some([*h, *w])),
            None => return Err(wrong_axes(&header, data, path, "their product overflows")),
        },
        _ => {
            return Err(wrong_axes(
                &header,
                data,
                path,
                "features must be 2-D (n x d) or 3-D (n x h x w)",
            ));
        }
    };
    let values = header.values(data, path)?.into_f32();
    let shape = IxDyn(&header.shape);
    let array = if header.fortran_order {
        ArrayD::from_shape_vec(shape.f(), values)
    } else {
        ArrayD::from_shape_vec(shape, values)
    }
    .map_err(|_| wrong_axes(&header, data, path, "they do not match the data"))?;
    let features = array
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order((n_points, n_features))
        .map_err(|_| wrong_axes(&header, data, path, "they do not match the data"))?;
    if !allow_non_finite {
        check_finite(&features, path)?;
    }
    Ok((features, image_shape))
}

fn wrong_axes(header: &Header, data: &[u8], path: &Path, reason: &'static str) -> DataError {
    DataError::BadDimensions {
        path: path.to_path_buf(),
        dims: header.shape.iter().map(|&dim| dim as u64).collect(),
        data_bytes: data.len() as u64,
        reason,
    }
}
