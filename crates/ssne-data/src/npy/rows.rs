//! Reading an NPY file a few rows at a time, for streamed work on files of any size.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::header::{self, Dtype, Header};
use super::{feature_axes, io_error, wrong_axes};
use crate::error::DataError;

/// The longest NPY header accepted when streaming. NumPy refuses headers past 10,000 bytes by
/// default; this leaves room for hand-written files and still never allocates by a header field.
pub(crate) const MAX_HEADER_BYTES: usize = 1 << 20;

/// Whether the array holds features (2-D or 3-D) or labels (1-D or `n x 1` integers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Holds {
    Features,
    Labels,
}

/// An open NPY file whose header has been checked against the file's length; rows are read on
/// demand, in C or Fortran order.
#[derive(Debug)]
pub(crate) struct NpyRows {
    file: BufReader<File>,
    path: PathBuf,
    header: Header,
    n_points: usize,
    n_features: usize,
    image_shape: Option<[usize; 2]>,
    next_row: usize,
    bytes: Vec<u8>,
}

impl NpyRows {
    /// Opens `path` and checks its header: its length, the element type for `holds`, the axes,
    /// and that the data the shape announces is exactly what the file holds. Only the header is
    /// read.
    pub(crate) fn open(path: &Path, holds: Holds) -> Result<Self, DataError> {
        let file = File::open(path).map_err(|source| io_error(path, source))?;
        let file_len = file.metadata().map_err(|source| io_error(path, source))?.len();
        let mut file = BufReader::new(file);
        let mut preamble = Vec::with_capacity(12);
        (&mut file)
            .take(12)
            .read_to_end(&mut preamble)
            .map_err(|source| io_error(path, source))?;
        let malformed = |reason: String| DataError::NpyHeader {
            path: path.to_path_buf(),
            reason,
        };
        let Some(data_offset) = header::declared_data_offset(&preamble) else {
            // Not a readable preamble: the parser names what is wrong with it.
            Header::parse(&preamble, path)?;
            return Err(malformed("the file ends inside the header".to_owned()));
        };
        if data_offset as u64 > file_len {
            return Err(malformed("the file ends inside the header".to_owned()));
        }
        if data_offset > MAX_HEADER_BYTES {
            return Err(malformed(format!(
                "the header is {data_offset} bytes long, more than the {MAX_HEADER_BYTES} accepted"
            )));
        }
        let mut head = vec![0; data_offset];
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.read_exact(&mut head))
            .map_err(|source| io_error(path, source))?;
        let (header, _) = Header::parse(&head, path)?;
        let data_len = file_len - data_offset as u64;
        let (n_points, n_features, image_shape) = match holds {
            Holds::Features => feature_axes(&header, data_len, path)?,
            Holds::Labels => {
                if matches!(header.dtype, Dtype::F32 | Dtype::F64) {
                    return Err(DataError::UnsupportedDtype {
                        path: path.to_path_buf(),
                        dtype: header.descr.clone(),
                    });
                }
                match header.shape.as_slice() {
                    [n] | [n, 1] => (*n, 1, None),
                    _ => return Err(wrong_axes(&header, data_len, path, "labels must be 1-D (or n x 1)")),
                }
            }
        };
        let n_bytes = header
            .data_bytes()
            .ok_or_else(|| wrong_axes(&header, data_len, path, "their product overflows"))?;
        if data_len < n_bytes as u64 {
            return Err(DataError::Truncated {
                path: path.to_path_buf(),
                expected_bytes: (data_offset as u64).saturating_add(n_bytes as u64),
                found_bytes: file_len,
            });
        }
        if data_len > n_bytes as u64 {
            return Err(wrong_axes(
                &header,
                data_len,
                path,
                "the file holds more bytes than they account for",
            ));
        }
        Ok(NpyRows {
            file,
            path: path.to_path_buf(),
            header,
            n_points,
            n_features,
            image_shape,
            next_row: 0,
            bytes: Vec::new(),
        })
    }

    /// The number of rows.
    pub(crate) fn n_points(&self) -> usize {
        self.n_points
    }

    /// Values per row (1 for labels).
    pub(crate) fn n_features(&self) -> usize {
        self.n_features
    }

    /// `[h, w]` of a 3-D array.
    pub(crate) fn image_shape(&self) -> Option<[usize; 2]> {
        self.image_shape
    }

    /// Whether the array holds `u8` values.
    pub(crate) fn holds_u8(&self) -> bool {
        self.header.dtype == Dtype::U8
    }

    /// Every row as `u8` codes, `n x d` in C order, when the array holds `u8` (the file's
    /// length was checked against its header in `open`, so the allocation is the file's size);
    /// `None` for another element type.
    pub(crate) fn read_codes(mut self) -> Result<Option<ndarray::Array2<u8>>, DataError> {
        if !self.holds_u8() {
            return Ok(None);
        }
        self.read_span(0, self.n_points * self.n_features)?;
        let bytes = std::mem::take(&mut self.bytes);
        let data_len = bytes.len() as u64;
        let mismatch = |header: &Header| wrong_axes(header, data_len, &self.path, "they do not match the data");
        if !self.header.fortran_order {
            // C order is already the rows' order: no copy (an n x h x w array is n x (h * w)).
            return ndarray::Array2::from_shape_vec((self.n_points, self.n_features), bytes)
                .map(Some)
                .map_err(|_| mismatch(&self.header));
        }
        use ndarray::ShapeBuilder as _;
        let array = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&self.header.shape).f(), bytes)
            .map_err(|_| mismatch(&self.header))?;
        let codes = array
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order((self.n_points, self.n_features))
            .map_err(|_| mismatch(&self.header))?;
        Ok(Some(codes))
    }

    /// Moves past up to `n` rows without reading them; returns how many.
    pub(crate) fn skip(&mut self, n: usize) -> usize {
        let skipped = n.min(self.n_points - self.next_row);
        self.next_row += skipped;
        skipped
    }

    /// Appends up to `max_rows` rows as `f32` (converted as [`super::read_features`] converts
    /// them) to `out`; returns how many.
    pub(crate) fn read_features(&mut self, max_rows: usize, out: &mut Vec<f32>) -> Result<usize, DataError> {
        self.read_rows_as(max_rows, out, |header, bytes| header.decode(bytes).into_f32())
    }

    /// Appends up to `max_rows` rows of `u8` codes to `out` (in C order, whatever the file's);
    /// returns how many, or `None` when the array does not hold `u8`.
    pub(crate) fn read_code_rows(&mut self, max_rows: usize, out: &mut Vec<u8>) -> Result<Option<usize>, DataError> {
        if !self.holds_u8() {
            return Ok(None);
        }
        if self.header.fortran_order {
            return self.read_rows_as(max_rows, out, |_, bytes| bytes.to_vec()).map(Some);
        }
        // C order: the file's bytes are the codes, read straight into `out`.
        let n_rows = max_rows.min(self.n_points - self.next_row);
        let base = out.len();
        out.resize(base + n_rows * self.n_features, 0);
        self.read_span_into(self.next_row * self.n_features, &mut out[base..])?;
        self.next_row += n_rows;
        Ok(Some(n_rows))
    }

    /// Appends up to `max_rows` rows to `out`, each span of the file's bytes turned into values
    /// by `decode`, and reordered from Fortran order when the file is; returns how many.
    fn read_rows_as<T: Copy + Default>(
        &mut self,
        max_rows: usize,
        out: &mut Vec<T>,
        decode: impl Fn(&Header, &[u8]) -> Vec<T>,
    ) -> Result<usize, DataError> {
        let n_rows = max_rows.min(self.n_points - self.next_row);
        if n_rows == 0 {
            return Ok(0);
        }
        if self.header.fortran_order {
            let base = out.len();
            out.resize(base + n_rows * self.n_features, T::default());
            let height = self.image_shape.map_or(self.n_features, |[h, _]| h);
            for feature in 0..self.n_features {
                // Feature (a, b) of an h x w image is C index a * w + b and Fortran column a + h * b.
                let column = match self.image_shape {
                    Some([_, w]) => feature / w + height * (feature % w),
                    None => feature,
                };
                self.read_span(column * self.n_points + self.next_row, n_rows)?;
                let values = decode(&self.header, &self.bytes);
                for (row, value) in values.into_iter().enumerate() {
                    out[base + row * self.n_features + feature] = value;
                }
            }
        } else {
            self.read_span(self.next_row * self.n_features, n_rows * self.n_features)?;
            out.extend(decode(&self.header, &self.bytes));
        }
        self.next_row += n_rows;
        Ok(n_rows)
    }

    /// Appends up to `max_rows` labels to `out`; returns how many.
    pub(crate) fn read_labels(&mut self, max_rows: usize, out: &mut Vec<u32>) -> Result<usize, DataError> {
        let first = self.next_row;
        let n_rows = max_rows.min(self.n_points - first);
        if n_rows == 0 {
            return Ok(0);
        }
        // One value per row: the same bytes in either order.
        self.read_span(first, n_rows)?;
        for (offset, value) in self.header.decode(&self.bytes).into_i64().into_iter().enumerate() {
            let label = u32::try_from(value).map_err(|_| DataError::BadLabel {
                path: self.path.clone(),
                index: first + offset,
                value,
            })?;
            out.push(label);
        }
        self.next_row += n_rows;
        Ok(n_rows)
    }

    /// Reads `count` elements starting at element `start` of the data into `self.bytes`.
    fn read_span(&mut self, start: usize, count: usize) -> Result<(), DataError> {
        let mut bytes = std::mem::take(&mut self.bytes);
        bytes.resize(count * self.header.element_bytes(), 0);
        let read = self.read_span_into(start, &mut bytes);
        self.bytes = bytes;
        read
    }

    /// Fills `buf` with the data's bytes from element `start` on.
    fn read_span_into(&mut self, start: usize, buf: &mut [u8]) -> Result<(), DataError> {
        let size = self.header.element_bytes();
        // Within the data, whose size was checked against the file's length in `open`.
        let offset = (self.header.data_offset() + start * size) as u64;
        let path = &self.path;
        let position = self.file.stream_position().map_err(|source| io_error(path, source))?;
        if position != offset {
            self.file
                .seek(SeekFrom::Start(offset))
                .map_err(|source| io_error(path, source))?;
        }
        self.file.read_exact(buf).map_err(|source| io_error(path, source))
    }
}
