//! The error type of `ssne-data`: every variant names the file (or pseudo-path) and the problem.

use std::path::PathBuf;

use crate::scaling::ScalingKind;
use crate::split::Split;

/// What can go wrong while reading, checking, slicing or writing a data set.
///
/// File problems carry the `path` they were found in. Data that never came from a file (a
/// [`Dataset::new`](crate::Dataset::new) call, the bundled sample) uses a pseudo-path in angle
/// brackets such as `<in-memory>` or `<bundled mnist-sample>/images-idx3-ubyte.gz`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The operating system refused a read, write, rename or directory listing.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file starts with the gzip magic but its compressed stream is corrupt or cut short.
    #[error("{}: corrupt gzip stream: {source}", path.display())]
    Decompress {
        /// The compressed file.
        path: PathBuf,
        /// What the decompressor reported.
        source: std::io::Error,
    },
    /// An IDX file whose magic number is not the one this reader expects.
    #[error("{}: IDX magic {found:#010x}, expected {expected:#010x}", path.display())]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The first four bytes, big-endian.
        found: u32,
        /// The magic for this kind of file (`0x00000803` images, `0x00000801` labels).
        expected: u32,
    },
    /// The file ends before the bytes its header announces.
    #[error("{}: truncated: the header announces {expected_bytes} bytes, the file holds {found_bytes}", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Bytes needed (header and data) according to the header.
        expected_bytes: u64,
        /// Bytes actually present (after decompression).
        found_bytes: u64,
    },
    /// Header dimensions that cannot describe the data: their product overflows, an image has no
    /// pixels, an NPY file holds more bytes than they account for, or the array has the wrong
    /// number of axes.
    #[error("{}: dimensions {dims:?} do not fit the {data_bytes} data bytes: {reason}", path.display())]
    BadDimensions {
        /// The file.
        path: PathBuf,
        /// The dimensions read from the header.
        dims: Vec<u64>,
        /// The number of data bytes after the header.
        data_bytes: u64,
        /// Which check failed.
        reason: &'static str,
    },
    /// An IDX file (after decompression) that goes on past the data its header announces. The
    /// reader stops one buffer after the announced size, so how much more there is stays unknown:
    /// a gzip file expanding to far more than its header says is refused without inflating it.
    #[error(
        "{}: more data than the header declares: it announces {expected_bytes} bytes and the file goes on",
        path.display()
    )]
    TrailingData {
        /// The file.
        path: PathBuf,
        /// Bytes (header and data) according to the header.
        expected_bytes: u64,
    },
    /// An IDX header whose dimensions announce more data than
    /// [`idx::MAX_DATA_BYTES`](crate::idx::MAX_DATA_BYTES) (or overflow), in a file that goes on
    /// for more than a megabyte after the header (a shorter one is [`DataError::Truncated`]).
    /// Refused before anything is allocated from the header.
    #[error(
        "{}: the header's dimensions {dims:?} announce more than {limit_bytes} data bytes, the most this reader accepts",
        path.display()
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The dimensions read from the header.
        dims: Vec<u64>,
        /// The limit, in data bytes after the header.
        limit_bytes: u64,
    },
    /// Holding the file's values in memory, as `f32` features, would take more than the limit a
    /// caller set ([`LoadOptions::memory_limit`](crate::LoadOptions)). Found from the header,
    /// before anything is read; [`stream`](crate::stream) reads such a file in bounded memory.
    #[error(
        "{}: its {n_points} x {n_features} values need {needed_bytes} bytes in memory as {storage}, more than the {limit_bytes} allowed",
        path.display()
    )]
    TooLargeForMemory {
        /// The file.
        path: PathBuf,
        /// Rows, from the header.
        n_points: u64,
        /// Values per row, from the header.
        n_features: u64,
        /// `n_points * n_features * 4` (`* 1` for `u8` codes, see [`crate::load_codes`]).
        needed_bytes: u64,
        /// The limit.
        limit_bytes: u64,
        /// What the values would be held as: `f32`, or `u8 codes`.
        storage: &'static str,
    },
    /// A streamed CSV file showed integer labels as their values (`007` as `7`, as a whole file
    /// of integer labels is shown), then met a label that is not an integer, so every label
    /// should have been shown as written. Read the file again with text labels
    /// ([`RowStream::with_text_labels`](crate::stream::RowStream::with_text_labels)).
    #[error(
        "{}: line {line}: a label that is not an integer follows integer labels written in another form (as 007); read the file again with text labels",
        path.display()
    )]
    LabelsReread {
        /// The file.
        path: PathBuf,
        /// The line of the first label that is not an integer.
        line: u64,
    },
    /// Images (or feature rows) and labels disagree on the number of points.
    #[error("{}: {labels} labels for {images} points", path.display())]
    LabelCount {
        /// The labels file (or the data's pseudo-path).
        path: PathBuf,
        /// Number of points (rows of the features).
        images: usize,
        /// Number of labels.
        labels: usize,
    },
    /// A NaN or infinite feature value, rejected unless the caller opted in with
    /// [`LoadOptions::allowing_non_finite`](crate::LoadOptions::allowing_non_finite).
    #[error("{}: non-finite value {value} at row {row}, column {col} (0-based)", path.display())]
    NonFinite {
        /// The file.
        path: PathBuf,
        /// 0-based row (point) index.
        row: usize,
        /// 0-based feature index.
        col: usize,
        /// The offending value.
        value: f32,
    },
    /// A CSV row with a different number of cells than the first row.
    #[error("{}: line {line} has {found} cells, expected {expected}", path.display())]
    Ragged {
        /// The CSV file.
        path: PathBuf,
        /// 1-based line number in the file.
        line: u64,
        /// Cells in the first row.
        expected: usize,
        /// Cells in this row.
        found: usize,
    },
    /// A CSV feature cell that is not a number.
    #[error("{}: line {line}, column {column}: {value:?} is not a number", path.display())]
    NotNumeric {
        /// The CSV file.
        path: PathBuf,
        /// 1-based line number in the file.
        line: u64,
        /// 1-based column number in the file.
        column: usize,
        /// The cell as written.
        value: String,
    },
    /// A CSV file the `csv` parser could not read (invalid UTF-8, unbalanced quotes, ...).
    #[error("{}: line {line}: {message}", path.display())]
    Csv {
        /// The CSV file.
        path: PathBuf,
        /// 1-based line number where parsing stopped (0 when unknown).
        line: u64,
        /// What the parser reported.
        message: String,
    },
    /// A label column requested by name or index that the CSV file does not have.
    #[error("{}: no label column {column} (the file has {n_columns} columns)", path.display())]
    ColumnNotFound {
        /// The CSV file.
        path: PathBuf,
        /// The requested column, as given (`"name"` or `#index`).
        column: String,
        /// Number of columns in the file.
        n_columns: usize,
    },
    /// Rows asked for as `u8` codes from a file that holds other values (a CSV file, an NPY
    /// array of another element type).
    #[error("{}: holds no u8 codes to read as such (only IDX images and u8 NPY arrays do)", path.display())]
    NotCodes {
        /// The file.
        path: PathBuf,
    },
    /// A file without a single row or column of data where one was needed.
    #[error("{}: no data", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// An NPY file whose element type this crate does not read.
    #[error(
        "{}: unsupported NPY dtype {dtype:?} (features: <f4, <f8, |u1, <i8, <i4; labels: |u1, <i4, <i8)",
        path.display()
    )]
    UnsupportedDtype {
        /// The NPY file.
        path: PathBuf,
        /// The `descr` field of the header, e.g. `"<c8"`.
        dtype: String,
    },
    /// An NPY file whose magic or header dictionary cannot be parsed.
    #[error("{}: not a valid NPY file: {reason}", path.display())]
    NpyHeader {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A label that is negative or does not fit in `u32`.
    #[error("{}: label {value} at index {index} is not in 0..=4294967295", path.display())]
    BadLabel {
        /// The labels file.
        path: PathBuf,
        /// 0-based index of the label.
        index: usize,
        /// The stored value.
        value: i64,
    },
    /// A row range outside `0..n_points` or with `start > end`.
    #[error("rows {start}..{end} are out of range for {n_points} points")]
    RowRange {
        /// Requested start.
        start: usize,
        /// Requested end (exclusive).
        end: usize,
        /// Number of points in the data set.
        n_points: usize,
    },
    /// A row index at or past `n_points`.
    #[error("row {index} is out of range for {n_points} points")]
    RowIndex {
        /// The offending index.
        index: usize,
        /// Number of points in the data set.
        n_points: usize,
    },
    /// A row buffer that does not hold one value per feature.
    #[error("a row buffer of {found} values for rows of {expected} features")]
    RowWidth {
        /// Features per row.
        expected: usize,
        /// Values the buffer holds.
        found: usize,
    },
    /// A split point larger than the data set, or a fraction outside `[0, 1]`.
    #[error("split {split:?} is invalid for {n_points} points")]
    BadSplit {
        /// The requested split.
        split: Split,
        /// Number of points in the data set.
        n_points: usize,
    },
    /// Scaling parameters fitted on data with a different number of features.
    #[error("scaling has parameters for {found} features, the data has {expected}")]
    ScalingMismatch {
        /// Features of the data set.
        expected: usize,
        /// Length of the scaling's parameter vectors.
        found: usize,
    },
    /// A second scaling applied on top of one already recorded.
    #[error("the data is already scaled ({existing:?}); apply scaling to unscaled data")]
    AlreadyScaled {
        /// The kind of scaling already applied.
        existing: ScalingKind,
    },
    /// A path whose format cannot be told from its content or extension.
    #[error("{}: unknown data format (expected IDX, NPY, CSV or an MNIST folder)", path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// A folder that lacks one of the standard MNIST files.
    #[error("{}: none of {tried:?} found", path.display())]
    MissingFile {
        /// The folder.
        path: PathBuf,
        /// The file names looked for.
        tried: Vec<String>,
    },
    /// A CSV header whose length differs from the number of columns written.
    #[error("{}: header has {header} names for {columns} columns", path.display())]
    HeaderMismatch {
        /// The CSV file being written.
        path: PathBuf,
        /// Number of header names.
        header: usize,
        /// Number of data columns.
        columns: usize,
    },
    /// Columns of a table to be written that are not all the same length.
    #[error("{}: the columns to write have {first} and {other} rows", path.display())]
    ColumnLengths {
        /// The CSV file being written.
        path: PathBuf,
        /// Rows of the first column.
        first: usize,
        /// Rows of a column of another length.
        other: usize,
    },
    /// `image_shape` whose area differs from the number of features.
    #[error("image shape {shape:?} has {} pixels, the data has {n_features} features", shape[0].saturating_mul(shape[1]))]
    ImageShape {
        /// The shape given.
        shape: [usize; 2],
        /// Features per point.
        n_features: usize,
    },
}
