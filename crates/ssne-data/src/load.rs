//! One entry point for every format: [`load`] and [`load_with`], with format detection.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::csv::CsvOptions;
use crate::dataset::Dataset;
use crate::error::DataError;
use crate::features::ByteFeatures;
use crate::mnist::{self, SplitName};
use crate::{csv, idx, npy, source};

/// The format of a data file, or [`Format::Auto`] to detect it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Format {
    /// Detect: a directory is an MNIST-style folder (its training split); a file starting with
    /// the NPY magic is NPY; one starting with the gzip magic or an IDX magic is IDX; otherwise
    /// the extension decides (`.csv`, `.txt`: CSV; `.tsv`: tab-separated CSV).
    #[default]
    Auto,
    /// An IDX images file; the labels file next to it (see [`idx::labels_path_for`]) is loaded
    /// too when it exists, gzip or raw.
    Idx,
    /// An NPY features file (see [`npy`]), without labels.
    Npy,
    /// A CSV file read with these options.
    Csv(CsvOptions),
}

/// What a loader accepts beyond the defaults.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct LoadOptions {
    /// Accept NaN and infinite feature values instead of failing with [`DataError::NonFinite`].
    pub allow_non_finite: bool,
    /// Refuse, from its header and before reading its values, an NPY or IDX file (or MNIST-style
    /// folder) whose features would take more than this many bytes as `f32`
    /// ([`DataError::TooLargeForMemory`]). A CSV file's size is only known once it is read, so
    /// it is not checked. `None`: no limit.
    pub memory_limit: Option<u64>,
}

impl LoadOptions {
    /// These options, refusing files whose features need more than `bytes` in memory.
    #[must_use]
    pub fn with_memory_limit(mut self, bytes: u64) -> Self {
        self.memory_limit = Some(bytes);
        self
    }

    /// These options, accepting NaN and infinity.
    #[must_use]
    pub fn allowing_non_finite(mut self) -> Self {
        self.allow_non_finite = true;
        self
    }
}

/// Loads a data set from a file or MNIST-style folder; NaN and infinity are rejected.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("points.csv");
/// std::fs::write(&path, "1,2\n3,4\n")?;
/// let data = ssne_data::load(&path, ssne_data::Format::Auto)?;
/// assert_eq!((data.n_points(), data.n_features(), data.name.as_str()), (2, 2, "points"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`DataError::UnknownFormat`] when [`Format::Auto`] cannot tell the format, and the errors of
/// the format's reader ([`idx::load_pair`], [`npy::load`], [`csv::read`],
/// [`mnist::load_dir`]).
pub fn load(path: &Path, format: Format) -> Result<Dataset, DataError> {
    load_with(path, format, &LoadOptions::default())
}

/// [`load`] with [`LoadOptions`], e.g. to accept NaN and infinity:
///
/// ```
/// use ssne_data::{load_with, DataError, Format, LoadOptions};
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("gaps.csv");
/// std::fs::write(&path, "1,NaN\n3,4\n")?;
/// assert!(matches!(load_with(&path, Format::Auto, &LoadOptions::default()), Err(DataError::NonFinite { row: 0, col: 1, .. })));
/// let data = load_with(&path, Format::Auto, &LoadOptions::default().allowing_non_finite())?;
/// assert!(data.features[[0, 1]].is_nan());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// As [`load`].
pub fn load_with(path: &Path, format: Format, options: &LoadOptions) -> Result<Dataset, DataError> {
    if let Some(limit) = options.memory_limit {
        check_memory(path, &format, limit)?;
    }
    let format = match format {
        Format::Auto if path.is_dir() => return mnist::load_dir(path, SplitName::Train),
        Format::Auto => detect_format(path)?,
        other => other,
    };
    match format {
        Format::Idx => idx::load_pair(path, companion_labels(path).as_deref()),
        Format::Npy => npy::load_with(path, None, options.allow_non_finite),
        Format::Csv(csv_options) => csv::read_with(path, &csv_options, options.allow_non_finite),
        // `detect` never answers Auto.
        Format::Auto => Err(DataError::UnknownFormat {
            path: path.to_path_buf(),
        }),
    }
}

/// [`load_with`] keeping `u8` values as `u8` codes ([`ByteFeatures`], a quarter of the memory of
/// `f32`, decoded to the same values): IDX images (and MNIST-style folders, their training split)
/// and `u8` NPY arrays. `Ok(None)` for data held in another type (CSV files, `f32` NPY arrays),
/// which [`load_with`] reads; only a header is read then. [`LoadOptions::memory_limit`] counts one
/// byte per value here.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("images.npy");
/// ndarray_npy::write_npy(&path, &ndarray::array![[0_u8, 255], [7, 8]])?;
/// let data = ssne_data::load_codes(&path, ssne_data::Format::Auto, &Default::default())?.expect("u8");
/// let floats = ssne_data::load(&path, ssne_data::Format::Auto)?;
/// assert_eq!(data.features.to_f32(), floats.features);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// As [`load_with`].
pub fn load_codes(
    path: &Path,
    format: Format,
    options: &LoadOptions,
) -> Result<Option<Dataset<ByteFeatures>>, DataError> {
    let format = match format {
        Format::Auto if path.is_dir() => {
            if let Some(limit) = options.memory_limit {
                crate::stream::RowStream::open_mnist_dir(path, SplitName::Train)?.check_memory_as(limit, 1)?;
            }
            return mnist::load_dir_codes(path, SplitName::Train).map(Some);
        }
        Format::Auto => detect_format(path)?,
        other => other,
    };
    match format {
        Format::Idx | Format::Npy => {
            if let Some(limit) = options.memory_limit {
                crate::stream::RowStream::open(path, format.clone())?.check_memory_as(limit, 1)?;
            }
            match format {
                Format::Idx => idx::load_codes_pair(path, companion_labels(path).as_deref()).map(Some),
                _ => npy::load_codes(path, None),
            }
        }
        _ => Ok(None),
    }
}

/// Refuses `path` when its header announces features of more than `limit` bytes as `f32`; CSV
/// files pass (their size is only known once read).
fn check_memory(path: &Path, format: &Format, limit: u64) -> Result<(), DataError> {
    let is_csv = match format {
        Format::Csv(_) => true,
        Format::Auto if !path.is_dir() => matches!(detect_format(path)?, Format::Csv(_)),
        _ => false,
    };
    if is_csv {
        return Ok(());
    }
    // Opening a stream reads and checks the headers only (against the file's length for raw
    // files), so a short file with a huge header is Truncated, not TooLargeForMemory.
    crate::stream::RowStream::open(path, format.clone())?.check_memory(limit)
}

/// The format [`Format::Auto`] reads the file at `path` as: NPY or IDX from its first bytes,
/// otherwise CSV by its extension (`.csv`, `.txt`; `.tsv` tab-separated). Never answers
/// [`Format::Auto`]. Lets a caller say what a file was read as, e.g. when it has no labels.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("points.tsv");
/// std::fs::write(&path, "1\t2\n")?;
/// let format = ssne_data::detect_format(&path)?;
/// assert!(matches!(format, ssne_data::Format::Csv(options) if options.delimiter == b'\t'));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`DataError::Io`] when the file cannot be read, [`DataError::UnknownFormat`] when neither its
/// first bytes nor its extension tell the format.
pub fn detect_format(path: &Path) -> Result<Format, DataError> {
    let mut head = Vec::with_capacity(8);
    std::fs::File::open(path)
        .and_then(|file| file.take(8).read_to_end(&mut head))
        .map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    if head.starts_with(b"\x93NUMPY") {
        return Ok(Format::Npy);
    }
    if source::is_gzip(&head) || head.starts_with(&[0, 0, 8]) {
        return Ok(Format::Idx);
    }
    let extension = path
        .extension()
        .and_then(|ext| ext.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("csv" | "txt") => Ok(Format::Csv(CsvOptions::default())),
        Some("tsv") => Ok(Format::Csv(CsvOptions {
            delimiter: b'\t',
            ..CsvOptions::default()
        })),
        _ => Err(DataError::UnknownFormat {
            path: path.to_path_buf(),
        }),
    }
}

/// The labels file next to an IDX images file, whether it is gzip-compressed or not.
pub(crate) fn companion_labels(images: &Path) -> Option<PathBuf> {
    let labels = idx::labels_path_for(images)?;
    let name = labels.file_name()?.to_str()?;
    let toggled = match name.strip_suffix(".gz") {
        Some(raw) => labels.with_file_name(raw),
        None => labels.with_file_name(format!("{name}.gz")),
    };
    [labels, toggled].into_iter().find(|path| path.is_file())
}
