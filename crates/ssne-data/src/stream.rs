//! Reading a data file a chunk of rows at a time, in memory bounded by the chunk, whatever the
//! file's size: [`RowStream`].
//!
//! NPY and IDX files are read through readers that check the header against the file's length
//! first (a gzip IDX file's length is only known at its end) and never allocate by a header
//! field; CSV files are read record by record. Each chunk holds the rows' features exactly as
//! [`load`](crate::load) would give them, and their labels as
//! [`Dataset::shown_labels`](crate::Dataset::shown_labels) would show them, so work done chunk by
//! chunk can match work done on the whole data set bit for bit.
//!
//! ```
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("points.csv");
//! std::fs::write(&path, "a,b,label\n1,2,cat\n3,4,dog\n5,6,cat\n")?;
//! let mut stream = ssne_data::stream::RowStream::open(&path, ssne_data::Format::Auto)?;
//! let first = stream.next_chunk(2)?.expect("two rows");
//! assert_eq!(first.features, ndarray::array![[1.0_f32, 2.0], [3.0, 4.0]]);
//! assert_eq!(first.labels, Some(vec!["cat".to_owned(), "dog".to_owned()]));
//! let second = stream.next_chunk(2)?.expect("one row");
//! assert_eq!((second.first_row, second.features.nrows()), (2, 1));
//! assert!(stream.next_chunk(2)?.is_none());
//! assert_eq!(stream.finish()?, 3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::{Path, PathBuf};

use ndarray::Array2;

use crate::csv::{CsvOptions, CsvRows};
use crate::error::DataError;
use crate::features::{ByteDecoding, ByteFeatures};
use crate::idx::IdxRows;
use crate::load::{Format, companion_labels, detect_format};
use crate::mnist::{self, FileKind, SplitName};
use crate::npy::{Holds, NpyRows};

/// Rows of a [`RowStream`]: a part of the file, in order, as `f32` features
/// ([`RowStream::next_chunk`]) or as `u8` codes ([`RowStream::next_codes`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RowChunk<F = Array2<f32>> {
    /// The index in the file of the chunk's first row.
    pub first_row: usize,
    /// One row per point, as [`load`](crate::load) (or [`load_codes`](crate::load_codes)) reads
    /// them.
    pub features: F,
    /// Each row's label as the user wrote it, when the data has labels.
    pub labels: Option<Vec<String>>,
}

/// Where the features come from.
enum Features {
    Npy(NpyRows),
    Idx(IdxRows),
    Csv { rows: CsvRows, options: CsvOptions },
}

/// Where the labels come from.
enum Labels {
    None,
    /// The CSV file's own label column.
    Csv,
    /// IDX labels, shown by `names` where the source names its classes.
    Idx {
        rows: Box<IdxRows>,
        names: Option<Vec<String>>,
        path: PathBuf,
    },
    Npy {
        rows: Box<NpyRows>,
        path: PathBuf,
    },
}

/// A data file opened to be read a chunk of rows at a time (see the [module](self) docs).
///
/// NaN and infinity are refused as [`load`](crate::load) refuses them, naming the row in the
/// file, unless [`allowing_non_finite`](Self::allowing_non_finite).
pub struct RowStream {
    features: Features,
    labels: Labels,
    path: PathBuf,
    n_features: usize,
    image_shape: Option<[usize; 2]>,
    next_row: usize,
    allow_non_finite: bool,
}

impl std::fmt::Debug for RowStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowStream")
            .field("path", &self.path)
            .field("n_features", &self.n_features)
            .field("next_row", &self.next_row)
            .finish_non_exhaustive()
    }
}

impl RowStream {
    /// Opens a file (or, with [`Format::Auto`], an MNIST-style folder's training split) as
    /// [`load`](crate::load) would read it; an IDX images file gets the labels file beside it
    /// when there is one. Only headers are read.
    ///
    /// # Errors
    ///
    /// The header errors of the format's reader: [`DataError::Io`], [`DataError::UnknownFormat`],
    /// [`DataError::NpyHeader`], [`DataError::UnsupportedDtype`], [`DataError::BadMagic`],
    /// [`DataError::Truncated`] and [`DataError::TrailingData`] (a raw file whose length differs
    /// from its header's), [`DataError::BadDimensions`], [`DataError::LabelCount`], the CSV
    /// layout errors, [`DataError::MissingFile`] for a folder.
    pub fn open(path: &Path, format: Format) -> Result<Self, DataError> {
        let format = match format {
            Format::Auto if path.is_dir() => return Self::open_mnist_dir(path, SplitName::Train),
            Format::Auto => detect_format(path)?,
            other => other,
        };
        match format {
            Format::Idx => Self::open_idx(path, companion_labels(path).as_deref(), None),
            Format::Npy => {
                let rows = NpyRows::open(path, Holds::Features)?;
                let (n_features, image_shape) = (rows.n_features(), rows.image_shape());
                Ok(Self::new(
                    path,
                    Features::Npy(rows),
                    Labels::None,
                    n_features,
                    image_shape,
                ))
            }
            Format::Csv(options) => {
                let rows = CsvRows::open(path, &options, false)?;
                let labels = if rows.has_labels() { Labels::Csv } else { Labels::None };
                let n_features = rows.n_features();
                Ok(Self::new(
                    path,
                    Features::Csv { rows, options },
                    labels,
                    n_features,
                    None,
                ))
            }
            Format::Auto => Err(DataError::UnknownFormat {
                path: path.to_path_buf(),
            }),
        }
    }

    /// Opens one split of an MNIST-style folder, as [`mnist::load_dir`] reads it (with the
    /// Fashion-MNIST class names when the folder's name contains `fashion`).
    ///
    /// # Errors
    ///
    /// [`DataError::MissingFile`], and the errors of [`RowStream::open`] for IDX files.
    pub fn open_mnist_dir(dir: &Path, split: SplitName) -> Result<Self, DataError> {
        let images = mnist::find(dir, split, FileKind::Images)?;
        let labels = mnist::find(dir, split, FileKind::Labels)?;
        let names = mnist::is_fashion_folder(dir).then(mnist::fashion_label_names);
        Self::open_idx(&images, Some(&labels), names)
    }

    fn open_idx(images: &Path, labels: Option<&Path>, names: Option<Vec<String>>) -> Result<Self, DataError> {
        let rows = IdxRows::open(images, false)?;
        let (n_features, image_shape) = (rows.n_features(), rows.image_shape());
        let labels = match labels {
            Some(path) => {
                let label_rows = IdxRows::open(path, true)?;
                if label_rows.n_points() != rows.n_points() {
                    return Err(DataError::LabelCount {
                        path: path.to_path_buf(),
                        images: rows.n_points(),
                        labels: label_rows.n_points(),
                    });
                }
                Labels::Idx {
                    rows: Box::new(label_rows),
                    names,
                    path: path.to_path_buf(),
                }
            }
            None => Labels::None,
        };
        Ok(Self::new(images, Features::Idx(rows), labels, n_features, image_shape))
    }

    fn new(
        path: &Path,
        features: Features,
        labels: Labels,
        n_features: usize,
        image_shape: Option<[usize; 2]>,
    ) -> Self {
        RowStream {
            features,
            labels,
            path: path.to_path_buf(),
            n_features,
            image_shape,
            next_row: 0,
            allow_non_finite: false,
        }
    }

    /// Takes the labels from `path` instead (an IDX labels file, or a 1-D integer `.npy` by its
    /// extension), shown as their values. Call it before reading any row.
    ///
    /// # Errors
    ///
    /// The header errors of the labels file, and [`DataError::LabelCount`] (naming the labels
    /// file) when the number of points is known and differs.
    pub fn with_labels_file(mut self, path: &Path) -> Result<Self, DataError> {
        let is_npy = path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("npy"));
        let (labels, n_labels) = if is_npy {
            let rows = NpyRows::open(path, Holds::Labels)?;
            let n = rows.n_points();
            (
                Labels::Npy {
                    rows: Box::new(rows),
                    path: path.to_path_buf(),
                },
                n,
            )
        } else {
            let rows = IdxRows::open(path, true)?;
            let n = rows.n_points();
            (
                Labels::Idx {
                    rows: Box::new(rows),
                    names: None,
                    path: path.to_path_buf(),
                },
                n,
            )
        };
        if let Some(n_points) = self.n_points()
            && n_points != n_labels
        {
            return Err(DataError::LabelCount {
                path: path.to_path_buf(),
                images: n_points,
                labels: n_labels,
            });
        }
        self.labels = labels;
        Ok(self)
    }

    /// Accepts NaN and infinite feature values.
    #[must_use]
    pub fn allowing_non_finite(mut self) -> Self {
        self.allow_non_finite = true;
        self
    }

    /// The same CSV file opened again from its start with every label shown as written, after
    /// [`DataError::LabelsReread`]. Other formats come back unchanged.
    ///
    /// # Errors
    ///
    /// As [`RowStream::open`].
    pub fn with_text_labels(mut self) -> Result<Self, DataError> {
        if let Features::Csv { options, .. } = &self.features {
            let rows = CsvRows::open(&self.path, options, true)?;
            let options = options.clone();
            self.features = Features::Csv { rows, options };
            self.next_row = 0;
        }
        Ok(self)
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The number of rows, when the header says it (NPY and IDX); `None` for CSV.
    pub fn n_points(&self) -> Option<usize> {
        match &self.features {
            Features::Npy(rows) => Some(rows.n_points()),
            Features::Idx(rows) => Some(rows.n_points()),
            Features::Csv { .. } => None,
        }
    }

    /// Values per row.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// `[height, width]` when each row is an image (IDX files, 3-D NPY arrays).
    pub fn image_shape(&self) -> Option<[usize; 2]> {
        self.image_shape
    }

    /// Whether the rows come with labels.
    pub fn has_labels(&self) -> bool {
        !matches!(self.labels, Labels::None)
    }

    /// Refuses the file when its rows, held in memory as `f32` features, would take more than
    /// `limit` bytes ([`DataError::TooLargeForMemory`]): what [`LoadOptions::memory_limit`]
    /// checks before loading. A CSV file (whose number of rows is unknown) passes, and so does a
    /// gzip IDX file announcing more than [`idx::MAX_DATA_BYTES`](crate::idx::MAX_DATA_BYTES):
    /// its length is unknown before decompressing, and its reader refuses it, as damaged
    /// ([`DataError::Truncated`]) or too large ([`DataError::TooLarge`]), after a short look.
    ///
    /// [`LoadOptions::memory_limit`]: crate::LoadOptions::memory_limit
    ///
    /// # Errors
    ///
    /// [`DataError::TooLargeForMemory`].
    pub fn check_memory(&self, limit: u64) -> Result<(), DataError> {
        self.check_memory_as(limit, 4)
    }

    /// [`check_memory`](Self::check_memory) for rows held as `bytes_per_value` bytes per value:
    /// 4 for `f32`, 1 for the `u8` codes of [`load_codes`](crate::load_codes).
    ///
    /// # Errors
    ///
    /// [`DataError::TooLargeForMemory`].
    pub fn check_memory_as(&self, limit: u64, bytes_per_value: u64) -> Result<(), DataError> {
        let n_points = self.n_points().unwrap_or(0) as u64;
        let n_features = self.n_features as u64;
        let n_values = n_points.saturating_mul(n_features);
        if let Features::Idx(rows) = &self.features
            && rows.is_gzip()
            && n_values > crate::idx::MAX_DATA_BYTES
        {
            return Ok(());
        }
        let needed_bytes = n_values.saturating_mul(bytes_per_value);
        if needed_bytes > limit {
            return Err(DataError::TooLargeForMemory {
                path: self.path.clone(),
                n_points,
                n_features,
                needed_bytes,
                limit_bytes: limit,
                storage: if bytes_per_value == 1 { "u8 codes" } else { "f32" },
            });
        }
        Ok(())
    }

    /// The index of the next row to be read.
    pub fn next_row(&self) -> usize {
        self.next_row
    }

    /// Moves past up to `n` rows; returns how many there were. CSV records are still parsed
    /// (and checked), as [`load`](crate::load) checks every record.
    ///
    /// # Errors
    ///
    /// As [`RowStream::next_chunk`].
    pub fn skip(&mut self, n: usize) -> Result<usize, DataError> {
        let mut skipped = 0;
        while skipped < n {
            let want = (n - skipped).min(SKIP_ROWS);
            let got = match &mut self.features {
                Features::Npy(rows) => {
                    let got = rows.skip(want);
                    self.skip_labels(got)?;
                    got
                }
                _ => self.next_chunk(want)?.map_or(0, |chunk| chunk.features.nrows()),
            };
            if got == 0 {
                break;
            }
            if matches!(self.features, Features::Npy(_)) {
                self.next_row += got;
            }
            skipped += got;
        }
        Ok(skipped)
    }

    fn skip_labels(&mut self, n: usize) -> Result<(), DataError> {
        match &mut self.labels {
            Labels::Npy { rows, .. } => {
                rows.skip(n);
            }
            Labels::Idx { rows, .. } => {
                let mut scratch = Vec::new();
                rows.read_labels(n, &mut scratch)?;
            }
            Labels::None | Labels::Csv => {}
        }
        Ok(())
    }

    /// The next rows, at most `max_rows` of them (at least one is asked for); `None` at the end.
    ///
    /// # Errors
    ///
    /// [`DataError::Io`], [`DataError::Truncated`] / [`DataError::TrailingData`] /
    /// [`DataError::Decompress`] for a gzip file whose stream does not match its header, the CSV
    /// record errors ([`DataError::Ragged`], [`DataError::NotNumeric`], [`DataError::Csv`],
    /// [`DataError::LabelsReread`]), [`DataError::BadLabel`], [`DataError::LabelCount`] when a
    /// CSV file and its labels file disagree, and [`DataError::NonFinite`] naming the row in the
    /// file.
    pub fn next_chunk(&mut self, max_rows: usize) -> Result<Option<RowChunk>, DataError> {
        let max_rows = max_rows.max(1);
        let first_row = self.next_row;
        let mut values = Vec::with_capacity(max_rows.saturating_mul(self.n_features).min(MAX_RESERVE));
        let mut labels = self.has_labels().then(Vec::new);
        let n_rows = match &mut self.features {
            Features::Npy(rows) => rows.read_features(max_rows, &mut values)?,
            Features::Idx(rows) => rows.read_features(max_rows, &mut values)?,
            Features::Csv { rows, .. } => {
                let own = matches!(self.labels, Labels::Csv).then_some(()).and(labels.as_mut());
                rows.read(max_rows, &mut values, own)?
            }
        };
        if !self.end_chunk(first_row, n_rows, &mut labels)? {
            return Ok(None);
        }
        let features = Array2::from_shape_vec((n_rows, self.n_features), values).map_err(|_| DataError::Empty {
            path: self.path.clone(),
        })?;
        if !self.allow_non_finite {
            check_finite_from(&features, first_row, &self.path)?;
        }
        Ok(Some(RowChunk {
            first_row,
            features,
            labels,
        }))
    }

    /// How the rows' `u8` codes become features when the file holds codes (IDX images and `u8`
    /// NPY arrays, as [`load_codes`](crate::load_codes) keeps them), so they can be read with
    /// [`next_codes`](Self::next_codes) at a quarter of the memory traffic; `None` otherwise.
    pub fn byte_decoding(&self) -> Option<ByteDecoding> {
        match &self.features {
            Features::Idx(_) => Some(ByteDecoding::UnitInterval),
            Features::Npy(rows) if rows.holds_u8() => Some(ByteDecoding::Value),
            Features::Npy(_) | Features::Csv { .. } => None,
        }
    }

    /// The next rows as their `u8` codes, at most `max_rows` of them (at least one is asked
    /// for); `None` at the end. The codes decode to the features [`next_chunk`](Self::next_chunk)
    /// would give, bit for bit. Codes are always finite, so there is nothing to check there.
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("images.npy");
    /// let mut file = b"\x93NUMPY\x01\x00".to_vec();
    /// let header = "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 2), }";
    /// let header = format!("{header:<117}\n");
    /// file.extend((header.len() as u16).to_le_bytes());
    /// file.extend(header.as_bytes());
    /// file.extend([0_u8, 255, 10, 20, 30, 40]);
    /// std::fs::write(&path, file)?;
    /// let mut stream = ssne_data::stream::RowStream::open(&path, ssne_data::Format::Auto)?;
    /// assert_eq!(stream.byte_decoding(), Some(ssne_data::ByteDecoding::Value));
    /// let chunk = stream.next_codes(2)?.expect("two rows");
    /// assert_eq!(chunk.features.codes(), ndarray::array![[0_u8, 255], [10, 20]]);
    /// assert_eq!(stream.next_codes(2)?.expect("one row").first_row, 2);
    /// assert!(stream.next_codes(2)?.is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`DataError::NotCodes`] when the file holds no codes ([`byte_decoding`](Self::byte_decoding)
    /// is `None`), and the errors of [`next_chunk`](Self::next_chunk) but the CSV and non-finite
    /// ones.
    pub fn next_codes(&mut self, max_rows: usize) -> Result<Option<RowChunk<ByteFeatures>>, DataError> {
        let decoding = self.byte_decoding().ok_or_else(|| DataError::NotCodes {
            path: self.path.clone(),
        })?;
        let max_rows = max_rows.max(1);
        let first_row = self.next_row;
        let mut codes = Vec::with_capacity(max_rows.saturating_mul(self.n_features).min(MAX_RESERVE));
        let n_rows = match &mut self.features {
            Features::Idx(rows) => rows.read_code_rows(max_rows, &mut codes)?,
            Features::Npy(rows) => rows.read_code_rows(max_rows, &mut codes)?.unwrap_or(0),
            Features::Csv { .. } => 0,
        };
        let mut labels = self.has_labels().then(Vec::new);
        if !self.end_chunk(first_row, n_rows, &mut labels)? {
            return Ok(None);
        }
        let codes = Array2::from_shape_vec((n_rows, self.n_features), codes).map_err(|_| DataError::Empty {
            path: self.path.clone(),
        })?;
        Ok(Some(RowChunk {
            first_row,
            features: ByteFeatures::new(codes, decoding),
            labels,
        }))
    }

    /// After `n_rows` rows were read from `first_row`: at the end (none read), checks that a
    /// labels file ends too and returns `false`; else appends their labels from a labels file to
    /// `labels` (a CSV file's own labels come with its rows) and moves on.
    fn end_chunk(
        &mut self,
        first_row: usize,
        n_rows: usize,
        labels: &mut Option<Vec<String>>,
    ) -> Result<bool, DataError> {
        if n_rows == 0 {
            self.check_labels_end(first_row)?;
            return Ok(false);
        }
        if let Some(labels) = labels.as_mut() {
            self.read_labels(n_rows, labels, first_row)?;
        }
        self.next_row += n_rows;
        Ok(true)
    }

    /// Appends the labels of the `n_rows` rows just read (from `first_row`) when they come from
    /// a labels file.
    fn read_labels(&mut self, n_rows: usize, shown: &mut Vec<String>, first_row: usize) -> Result<(), DataError> {
        let mut values = Vec::with_capacity(n_rows);
        let (got, names, path) = match &mut self.labels {
            Labels::None | Labels::Csv => return Ok(()),
            Labels::Idx { rows, names, path } => (rows.read_labels(n_rows, &mut values)?, names.as_deref(), path),
            Labels::Npy { rows, path } => (rows.read_labels(n_rows, &mut values)?, None, path),
        };
        if got < n_rows {
            // Only a CSV file's length is unknown in advance: count the rest for the message.
            let path = path.clone();
            let n_labels = first_row + got;
            let mut n_points = first_row + n_rows;
            let mut scratch = Vec::new();
            if let Features::Csv { rows, .. } = &mut self.features {
                loop {
                    scratch.clear();
                    let more = rows.read(SKIP_ROWS, &mut scratch, None)?;
                    if more == 0 {
                        break;
                    }
                    n_points += more;
                }
            }
            return Err(DataError::LabelCount {
                path,
                images: n_points,
                labels: n_labels,
            });
        }
        shown.extend(values.into_iter().map(|value| {
            names
                .and_then(|names| names.get(value as usize))
                .cloned()
                .unwrap_or_else(|| value.to_string())
        }));
        Ok(())
    }

    /// At the end of the features: a labels file must end too.
    fn check_labels_end(&self, n_points: usize) -> Result<(), DataError> {
        let (rows_left, n_labels, path) = match &self.labels {
            Labels::Idx { rows, path, .. } => (rows.n_points() > n_points, rows.n_points(), path),
            Labels::Npy { rows, path } => (rows.n_points() > n_points, rows.n_points(), path),
            Labels::None | Labels::Csv => return Ok(()),
        };
        if rows_left {
            return Err(DataError::LabelCount {
                path: path.clone(),
                images: n_points,
                labels: n_labels,
            });
        }
        Ok(())
    }

    /// Ends the reading and returns the number of rows the file holds. A CSV file's remaining
    /// records are still parsed and checked, as [`load`](crate::load) checks every record, and
    /// they decide how its labels show ([`DataError::LabelsReread`]); the rows of an NPY or IDX
    /// file past the last one read are not read (their number is the header's).
    ///
    /// # Errors
    ///
    /// As [`RowStream::next_chunk`], for the remaining CSV records.
    pub fn finish(mut self) -> Result<usize, DataError> {
        if let Some(n_points) = self.n_points() {
            return Ok(n_points);
        }
        while self.next_chunk(SKIP_ROWS)?.is_some() {}
        Ok(self.next_row)
    }
}

/// Rows read per step when skipping, or finishing a CSV file.
const SKIP_ROWS: usize = 4096;

/// The most values reserved ahead for a chunk; larger chunks grow as rows arrive.
const MAX_RESERVE: usize = 1 << 24;

/// [`crate::dataset::check_finite`] of rows that start at row `first_row` of `path`.
fn check_finite_from(features: &Array2<f32>, first_row: usize, path: &Path) -> Result<(), DataError> {
    crate::dataset::check_finite(features, path).map_err(|err| match err {
        DataError::NonFinite { path, row, col, value } => DataError::NonFinite {
            path,
            row: first_row + row,
            col,
            value,
        },
        other => other,
    })
}
