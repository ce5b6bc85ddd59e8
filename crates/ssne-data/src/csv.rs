//! CSV files: numeric feature columns, an optional label column, an optional header row.
//!
//! By default the header is detected (see [`HeaderMode::Auto`]) and a column named as one of
//! [`LABEL_COLUMN_NAMES`] (any case) holds the labels; the other header names are kept as
//! [`Dataset::feature_names`]. Labels are non-negative integers, or any strings, which are
//! numbered `0..` in sorted order and kept as [`Dataset::label_names`]. Ragged rows and
//! non-numeric feature cells are errors naming the file, the line and the column.
//!
//! Records are parsed one at a time straight into the feature matrix, so reading a file takes
//! little more memory than its values as `f32`.
//!
//! ```
//! use ssne_data::csv::{read, CsvOptions};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("points.csv");
//! std::fs::write(&path, "x,y,label\n0.5,1,cat\n2,-3e-1,dog\n1,1,cat\n")?;
//! let data = read(&path, &CsvOptions::default())?;
//! assert_eq!(data.features.row(1).to_vec(), [2.0, -0.3]);
//! assert_eq!(data.labels, Some(vec![0, 1, 0]));
//! assert_eq!(data.label_names, Some(vec!["cat".to_owned(), "dog".to_owned()]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::path::Path;

use ::csv::StringRecord;
use ndarray::{Array2, ArrayView1, ArrayView2};

use crate::dataset::{Dataset, check_finite};
use crate::error::DataError;
use crate::source;

/// How to read a CSV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    /// Whether the first row names the columns.
    pub has_header: HeaderMode,
    /// The column holding the labels; by default the header column named as one of
    /// [`LABEL_COLUMN_NAMES`] (any case), and no labels if there is none.
    pub label_column: Option<LabelColumn>,
    /// The cell separator, `b','` by default (`b'\t'` for TSV).
    pub delimiter: u8,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            has_header: HeaderMode::Auto,
            label_column: None,
            delimiter: b',',
        }
    }
}

/// The header names taken for the label column when [`CsvOptions::label_column`] is `None`,
/// compared without regard to case; the first of them the header has wins. `y` only counts when
/// no column is named `x`, because `x,y` are coordinates (as in the maps this project writes).
pub const LABEL_COLUMN_NAMES: [&str; 5] = ["label", "labels", "target", "class", "y"];

/// Whether a CSV file starts with a header row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HeaderMode {
    /// Decide from the content: the first row is a header when all its cells are non-numeric, or
    /// when one of its cells is non-numeric while the cell below it (if any) is a number.
    #[default]
    Auto,
    /// The first row is a header.
    Yes,
    /// There is no header; every row is data.
    No,
}

/// Which column holds the labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelColumn {
    /// The column with this header name (exact match); needs a header.
    Name(String),
    /// The column at this 0-based index.
    Index(usize),
}

/// Reads a CSV file into a [`Dataset`] named after the file.
///
/// # Errors
///
/// [`DataError::Io`], [`DataError::Csv`] when the file is not valid CSV or UTF-8,
/// [`DataError::Empty`] without any row or feature column, [`DataError::ColumnNotFound`] for a
/// label column the file lacks, [`DataError::Ragged`], [`DataError::NotNumeric`], and
/// [`DataError::NonFinite`] for NaN or infinite features.
pub fn read(path: &Path, options: &CsvOptions) -> Result<Dataset, DataError> {
    read_with(path, options, false)
}

/// [`read`], optionally accepting NaN and infinity.
pub(crate) fn read_with(path: &Path, options: &CsvOptions, allow_non_finite: bool) -> Result<Dataset, DataError> {
    let mut opened = Opened::open(path, options)?;
    let mut values = Vec::new();
    let mut labels = LabelCells::default();
    let mut n_rows = 0;
    // One record buffer for the whole file: no String per cell is ever kept.
    let mut record = StringRecord::new();
    while let Some(line) = opened.next(&mut record)? {
        if let Some(cell) = opened.layout.parse(path, &record, line, &mut values)? {
            labels.push(cell);
        }
        n_rows += 1;
    }
    let Opened { layout, .. } = opened;
    values.shrink_to_fit();
    let features = Array2::from_shape_vec((n_rows, layout.n_features()), values).map_err(|_| DataError::Empty {
        path: path.to_path_buf(),
    })?;
    if !allow_non_finite {
        check_finite(&features, path)?;
    }
    let (labels, label_names) = match layout.label_idx {
        Some(_) => {
            let (labels, names) = labels.finish();
            (Some(labels), names)
        }
        None => (None, None),
    };
    let feature_names = layout.feature_names();
    let mut data = Dataset::unchecked(features, labels, path)?.with_name(source::stem(path));
    if let Some(names) = label_names {
        data.set_label_names(names);
    }
    data.feature_names = feature_names;
    Ok(data)
}

/// Which columns of a file hold what, decided from its first records.
#[derive(Debug)]
struct Layout {
    n_columns: usize,
    label_idx: Option<usize>,
    /// The header row, when the file has one.
    header: Option<StringRecord>,
}

impl Layout {
    fn n_features(&self) -> usize {
        self.n_columns - usize::from(self.label_idx.is_some())
    }

    /// The header names of the feature columns.
    fn feature_names(&self) -> Option<Vec<String>> {
        self.header.as_ref().map(|header| {
            header
                .iter()
                .enumerate()
                .filter(|&(col_idx, _)| Some(col_idx) != self.label_idx)
                .map(|(_, name)| name.to_owned())
                .collect()
        })
    }

    /// Parses one data record found at `line`: appends its features to `values` and returns its
    /// label cell.
    fn parse<'r>(
        &self,
        path: &Path,
        record: &'r StringRecord,
        line: u64,
        values: &mut Vec<f32>,
    ) -> Result<Option<&'r str>, DataError> {
        if record.len() != self.n_columns {
            return Err(DataError::Ragged {
                path: path.to_path_buf(),
                line,
                expected: self.n_columns,
                found: record.len(),
            });
        }
        let mut label = None;
        for (col_idx, cell) in record.iter().enumerate() {
            if Some(col_idx) == self.label_idx {
                label = Some(cell);
                continue;
            }
            let value = parse_number(cell).ok_or_else(|| DataError::NotNumeric {
                path: path.to_path_buf(),
                line,
                column: col_idx + 1,
                value: cell.to_owned(),
            })?;
            values.push(value);
        }
        Ok(label)
    }
}

/// A CSV file whose layout is decided, ready to hand out its data records in order.
#[derive(Debug)]
struct Opened {
    records: Records,
    layout: Layout,
    /// The first data records, read ahead to decide the header, last first.
    pending: Vec<(StringRecord, u64)>,
}

impl Opened {
    fn open(path: &Path, options: &CsvOptions) -> Result<Self, DataError> {
        let mut records = Records::open(path, options.delimiter)?;
        let mut first = StringRecord::new();
        let Some(first_line) = records.next(&mut first)? else {
            return Err(DataError::Empty {
                path: path.to_path_buf(),
            });
        };
        // The header is decided from the first two records, so the second is read ahead.
        let mut second = StringRecord::new();
        let second_line = records.next(&mut second)?;
        let n_columns = first.len();
        let has_header = match options.has_header {
            HeaderMode::Yes => true,
            HeaderMode::No => false,
            HeaderMode::Auto => looks_like_header(&first, second_line.map(|_| &second)),
        };
        let header = has_header.then_some(&first);
        let label_idx = label_column(path, header, n_columns, options.label_column.as_ref())?;
        let layout = Layout {
            n_columns,
            label_idx,
            header: header.cloned(),
        };
        if layout.n_features() == 0 {
            return Err(DataError::Empty {
                path: path.to_path_buf(),
            });
        }
        let mut pending = Vec::new();
        if let Some(line) = second_line {
            pending.push((second, line));
        }
        if !has_header {
            pending.push((first, first_line));
        }
        Ok(Opened {
            records,
            layout,
            pending,
        })
    }

    /// The next data record into `record`, with its line; `None` at the end of the file.
    fn next(&mut self, record: &mut StringRecord) -> Result<Option<u64>, DataError> {
        if let Some((pending, line)) = self.pending.pop() {
            *record = pending;
            return Ok(Some(line));
        }
        self.records.next(record)
    }
}

/// A CSV file read a few records at a time, for streamed work on files of any size: the
/// features as [`read`] parses them, and each label as [`read`] shows it (see
/// [`CsvRows::read`]).
#[derive(Debug)]
pub(crate) struct CsvRows {
    opened: Opened,
    path: std::path::PathBuf,
    record: StringRecord,
    /// Labels are shown as their text: not every cell is an integer, or the caller asked so.
    text_labels: bool,
    /// An integer cell was written otherwise than its value prints (`007`, `+7`).
    reformatted_integer: bool,
}

impl CsvRows {
    /// Opens `path` and decides its layout from its first records, as [`read`] does. With
    /// `text_labels`, every label is shown as written.
    pub(crate) fn open(path: &Path, options: &CsvOptions, text_labels: bool) -> Result<Self, DataError> {
        Ok(CsvRows {
            opened: Opened::open(path, options)?,
            path: path.to_path_buf(),
            record: StringRecord::new(),
            text_labels,
            reformatted_integer: false,
        })
    }

    /// Values per row.
    pub(crate) fn n_features(&self) -> usize {
        self.opened.layout.n_features()
    }

    /// Whether a column holds labels.
    pub(crate) fn has_labels(&self) -> bool {
        self.opened.layout.label_idx.is_some()
    }

    /// Appends up to `max_rows` records: features to `features`, and labels to `labels` as
    /// [`read`] would show them. [`read`] shows integer labels as their values (`007` as `7`)
    /// when every cell is an integer, and as written otherwise; a text cell after an integer
    /// that was shown otherwise than written is [`DataError::LabelsReread`]. Returns the rows
    /// read.
    pub(crate) fn read(
        &mut self,
        max_rows: usize,
        features: &mut Vec<f32>,
        mut labels: Option<&mut Vec<String>>,
    ) -> Result<usize, DataError> {
        let mut n_read = 0;
        while n_read < max_rows {
            let Some(line) = self.opened.next(&mut self.record)? else {
                break;
            };
            let cell = self.opened.layout.parse(&self.path, &self.record, line, features)?;
            if let (Some(cell), Some(labels)) = (cell, labels.as_deref_mut()) {
                let shown = match cell.parse::<u32>() {
                    Ok(value) if !self.text_labels => {
                        let printed = value.to_string();
                        self.reformatted_integer |= printed != cell;
                        printed
                    }
                    Ok(_) => cell.to_owned(),
                    Err(_) => {
                        if !self.text_labels && self.reformatted_integer {
                            return Err(DataError::LabelsReread {
                                path: self.path.clone(),
                                line,
                            });
                        }
                        self.text_labels = true;
                        cell.to_owned()
                    }
                };
                labels.push(shown);
            }
            n_read += 1;
        }
        Ok(n_read)
    }
}

/// Label cells as they are read: as integers while every cell so far is one, and also as ids of
/// the distinct strings in order of appearance, in case a later cell is not an integer. Only the
/// distinct strings are kept, not one per row.
#[derive(Debug, Default)]
struct LabelCells {
    /// Every cell as a `u32`, until one is not (then emptied).
    integers: Vec<u32>,
    /// Whether a cell was not a `u32`.
    not_integers: bool,
    /// The id of each row's cell in `names`.
    ids: Vec<u32>,
    /// Each distinct cell with its id, numbered in order of appearance.
    names: HashMap<String, u32>,
}

impl LabelCells {
    fn push(&mut self, cell: &str) {
        if !self.not_integers {
            match cell.parse::<u32>() {
                Ok(label) => self.integers.push(label),
                Err(_) => {
                    self.not_integers = true;
                    self.integers = Vec::new();
                }
            }
        }
        let id = match self.names.get(cell) {
            Some(&id) => id,
            None => {
                // At most one id per row, and a row count past u32::MAX could not have been read.
                let id = self.names.len() as u32;
                self.names.insert(cell.to_owned(), id);
                id
            }
        };
        self.ids.push(id);
    }

    /// Integer labels as they are; otherwise every distinct string numbered in sorted order.
    fn finish(self) -> (Vec<u32>, Option<Vec<String>>) {
        if !self.not_integers {
            return (self.integers, None);
        }
        let mut names: Vec<(String, u32)> = self.names.into_iter().collect();
        names.sort_unstable();
        let mut rank = vec![0; names.len()];
        for (sorted, &(_, id)) in names.iter().enumerate() {
            // Ids are 0..names.len(), numbered as they were handed out.
            if let Some(slot) = rank.get_mut(id as usize) {
                *slot = sorted as u32;
            }
        }
        let labels = self
            .ids
            .iter()
            .map(|&id| rank.get(id as usize).copied().unwrap_or_default())
            .collect();
        (labels, Some(names.into_iter().map(|(name, _)| name).collect()))
    }
}

/// Writes `data` as CSV with an optional header (pass `&[]` for none), atomically (see
/// [`write_atomic`](crate::write_atomic)). Values are written in Rust's shortest round-trip form,
/// so [`read`] gives back the same bits.
///
/// # Errors
///
/// [`DataError::HeaderMismatch`] when a non-empty header does not have one name per column,
/// [`DataError::Io`] when the file cannot be written (nothing is left under `path` then).
pub fn write_f32(path: &Path, header: &[&str], data: ArrayView2<'_, f32>) -> Result<(), DataError> {
    if !header.is_empty() && header.len() != data.ncols() {
        return Err(DataError::HeaderMismatch {
            path: path.to_path_buf(),
            header: header.len(),
            columns: data.ncols(),
        });
    }
    let mut writer = TableWriter::create(path, header)?;
    let mut cells = Vec::with_capacity(data.ncols());
    for row in data.rows() {
        cells.clear();
        cells.extend(row.iter().map(|&value| Cell::Number(value)));
        writer.write_row(&cells)?;
    }
    writer.finish()
}

/// One cell of a row written by [`TableWriter`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    /// A number, in its shortest round-trip form.
    Number(f32),
    /// Text as it is (quoted where CSV needs it).
    Text(&'a str),
}

/// Writes a CSV table row by row, atomically: only the current row is held, and nothing appears
/// under the path before [`finish`](Self::finish). [`write_f32`] and [`write_table`] are this
/// writer, so a table streamed row by row is the same file, byte for byte.
///
/// ```
/// use ssne_data::csv::{Cell, TableWriter};
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("map.csv");
/// let mut writer = TableWriter::create(&path, &["x", "label"])?;
/// writer.write_row(&[Cell::Number(0.5), Cell::Text("cat")])?;
/// writer.write_row(&[Cell::Number(-1.0), Cell::Text("dog")])?;
/// writer.finish()?;
/// assert_eq!(std::fs::read_to_string(&path)?, "x,label\n0.5,cat\n-1,dog\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct TableWriter {
    writer: ::csv::Writer<crate::AtomicFile>,
    path: std::path::PathBuf,
    /// Cells per row: the header's length, or the first row's without a header.
    n_columns: Option<usize>,
    cell: String,
}

impl TableWriter {
    /// Starts the table with the header row `names` (none when `names` is empty).
    ///
    /// # Errors
    ///
    /// [`DataError::Io`] when the temporary file cannot be created or written.
    pub fn create(path: &Path, names: &[&str]) -> Result<Self, DataError> {
        let mut writer = TableWriter {
            writer: ::csv::Writer::from_writer(crate::AtomicFile::create(path)?),
            path: path.to_path_buf(),
            n_columns: None,
            cell: String::new(),
        };
        if !names.is_empty() {
            writer.n_columns = Some(names.len());
            let result = writer.writer.write_record(names);
            result.map_err(|err| csv_error(path, err))?;
        }
        Ok(writer)
    }

    /// Appends one row.
    ///
    /// # Errors
    ///
    /// [`DataError::ColumnLengths`] when the row's length differs from the header's (or from the
    /// first row's), [`DataError::Io`] when the file cannot be written.
    pub fn write_row(&mut self, cells: &[Cell<'_>]) -> Result<(), DataError> {
        let n_columns = *self.n_columns.get_or_insert(cells.len());
        if cells.len() != n_columns {
            return Err(DataError::ColumnLengths {
                path: self.path.clone(),
                first: n_columns,
                other: cells.len(),
            });
        }
        let result = (|| {
            for cell in cells {
                match *cell {
                    Cell::Number(value) => {
                        self.cell.clear();
                        // Writing to a String cannot fail.
                        let _ = std::fmt::Write::write_fmt(&mut self.cell, format_args!("{value}"));
                        self.writer.write_field(&self.cell)?;
                    }
                    Cell::Text(text) => self.writer.write_field(text)?,
                }
            }
            self.writer.write_record(None::<&[u8]>)
        })();
        result.map_err(|err| csv_error(&self.path, err))
    }

    /// Flushes the table and renames it into place.
    ///
    /// # Errors
    ///
    /// [`DataError::Io`] when a step fails; nothing is left under the path then.
    pub fn finish(self) -> Result<(), DataError> {
        let file = self.writer.into_inner().map_err(|err| DataError::Io {
            path: self.path.clone(),
            source: err.into_error(),
        })?;
        file.commit()
    }
}

/// One named column of a table written by [`write_table`].
#[derive(Debug, Clone, Copy)]
pub enum Column<'a> {
    /// Numbers, written like [`write_f32`] writes them.
    Numbers {
        /// The header cell.
        name: &'a str,
        /// One value per row.
        values: ArrayView1<'a, f32>,
    },
    /// Text, such as the user's own label values.
    Text {
        /// The header cell.
        name: &'a str,
        /// One value per row.
        values: &'a [String],
    },
}

impl Column<'_> {
    fn name(&self) -> &str {
        match self {
            Column::Numbers { name, .. } | Column::Text { name, .. } => name,
        }
    }

    fn len(&self) -> usize {
        match self {
            Column::Numbers { values, .. } => values.len(),
            Column::Text { values, .. } => values.len(),
        }
    }
}

/// Writes `columns` side by side as CSV with a header row, atomically (see
/// [`write_atomic`](crate::write_atomic)); numbers in their shortest round-trip form, as
/// [`write_f32`] writes them.
///
/// ```
/// # use ssne_data::csv::{Column, write_table};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("map.csv");
/// let x = ndarray::array![0.5_f32, -1.0];
/// let labels = ["cat".to_owned(), "dog".to_owned()];
/// write_table(&path, &[
///     Column::Numbers { name: "x", values: x.view() },
///     Column::Text { name: "label", values: &labels },
/// ])?;
/// assert_eq!(std::fs::read_to_string(&path)?, "x,label\n0.5,cat\n-1,dog\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`DataError::ColumnLengths`] when the columns are not all as long as the first, [`DataError::Io`] when the file cannot
/// be written (nothing is left under `path` then).
pub fn write_table(path: &Path, columns: &[Column<'_>]) -> Result<(), DataError> {
    let n_rows = columns.first().map_or(0, Column::len);
    if let Some(other) = columns.iter().find(|c| c.len() != n_rows) {
        return Err(DataError::ColumnLengths {
            path: path.to_path_buf(),
            first: n_rows,
            other: other.len(),
        });
    }
    let names: Vec<&str> = columns.iter().map(Column::name).collect();
    let mut writer = TableWriter::create(path, &names)?;
    let mut cells = Vec::with_capacity(columns.len());
    for row in 0..n_rows {
        cells.clear();
        cells.extend(columns.iter().map(|column| match column {
            Column::Numbers { values, .. } => Cell::Number(values[row]),
            Column::Text { values, .. } => Cell::Text(&values[row]),
        }));
        writer.write_row(&cells)?;
    }
    writer.finish()
}

/// The records of a CSV file, cells trimmed, read one at a time.
struct Records {
    reader: ::csv::Reader<std::io::BufReader<std::fs::File>>,
    path: std::path::PathBuf,
}

impl std::fmt::Debug for Records {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Records")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Records {
    fn open(path: &Path, delimiter: u8) -> Result<Self, DataError> {
        let file = std::fs::File::open(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            // Ragged rows are reported by us, with the expected and found counts.
            .flexible(true)
            .trim(::csv::Trim::All)
            .delimiter(delimiter)
            .from_reader(std::io::BufReader::new(file));
        Ok(Records {
            reader,
            path: path.to_path_buf(),
        })
    }

    /// Reads the next record into `record` and returns its 1-based line number, or `None` at the
    /// end of the file.
    fn next(&mut self, record: &mut StringRecord) -> Result<Option<u64>, DataError> {
        match self.reader.read_record(record) {
            Ok(true) => Ok(Some(record.position().map_or(0, ::csv::Position::line))),
            Ok(false) => Ok(None),
            Err(err) => Err(csv_error(&self.path, err)),
        }
    }
}

fn csv_error(path: &Path, err: ::csv::Error) -> DataError {
    let line = err.position().map_or(0, ::csv::Position::line);
    let message = err.to_string();
    match err.into_kind() {
        ::csv::ErrorKind::Io(source) => DataError::Io {
            path: path.to_path_buf(),
            source,
        },
        _ => DataError::Csv {
            path: path.to_path_buf(),
            line,
            message,
        },
    }
}

fn parse_number(cell: &str) -> Option<f32> {
    cell.parse::<f32>().ok()
}

fn looks_like_header(first: &StringRecord, second: Option<&StringRecord>) -> bool {
    let is_number = |cell: &str| parse_number(cell).is_some();
    if first.iter().all(|cell| !is_number(cell)) {
        return true;
    }
    first.iter().enumerate().any(|(col_idx, cell)| {
        !is_number(cell) && second.is_none_or(|second| second.get(col_idx).is_some_and(is_number))
    })
}

fn label_column(
    path: &Path,
    header: Option<&StringRecord>,
    n_columns: usize,
    requested: Option<&LabelColumn>,
) -> Result<Option<usize>, DataError> {
    let not_found = |column: String| DataError::ColumnNotFound {
        path: path.to_path_buf(),
        column,
        n_columns,
    };
    match requested {
        Some(LabelColumn::Index(index)) if *index < n_columns => Ok(Some(*index)),
        Some(LabelColumn::Index(index)) => Err(not_found(format!("#{index}"))),
        Some(LabelColumn::Name(name)) => header
            .and_then(|header| header.iter().position(|cell| cell == name))
            .map(Some)
            .ok_or_else(|| not_found(format!("{name:?}"))),
        None => Ok(header.and_then(default_label_column)),
    }
}

/// The column named as the first of [`LABEL_COLUMN_NAMES`] that `header` has.
fn default_label_column(header: &StringRecord) -> Option<usize> {
    let named = |name: &str| header.iter().position(|cell| cell.eq_ignore_ascii_case(name));
    LABEL_COLUMN_NAMES
        .iter()
        .filter(|&&name| name != "y" || named("x").is_none())
        .find_map(|name| named(name))
}

#[cfg(test)]
mod tests {
    use ::csv::StringRecord;

    use super::{LabelCells, default_label_column, looks_like_header};

    fn row(cells: &[&str]) -> StringRecord {
        StringRecord::from(cells.to_vec())
    }

    #[test]
    fn header_detection() {
        assert!(looks_like_header(&row(&["x", "y"]), Some(&row(&["1", "2"]))));
        assert!(looks_like_header(
            &row(&["0", "1", "label"]),
            Some(&row(&["0.5", "1", "3"]))
        ));
        assert!(!looks_like_header(
            &row(&["1.0", "2.0", "cat"]),
            Some(&row(&["3", "4", "dog"]))
        ));
        assert!(!looks_like_header(&row(&["1", "2"]), None));
        assert!(looks_like_header(&row(&["a", "b"]), None));
    }

    fn encode(cells: &[&str]) -> (Vec<u32>, Option<Vec<String>>) {
        let mut labels = LabelCells::default();
        for cell in cells {
            labels.push(cell);
        }
        labels.finish()
    }

    #[test]
    fn labels_are_integers_or_sorted_names() {
        assert_eq!(encode(&["3", "0", "3"]), (vec![3, 0, 3], None));
        let (labels, names) = encode(&["b", "a", "-1", "b"]);
        assert_eq!(labels, [2, 1, 0, 2]);
        assert_eq!(names, Some(vec!["-1".to_owned(), "a".to_owned(), "b".to_owned()]));
        // Integers first, then a name: the integers become names as written.
        let (labels, names) = encode(&["10", "007", "x", "10"]);
        assert_eq!(labels, [1, 0, 2, 1]);
        assert_eq!(names, Some(vec!["007".to_owned(), "10".to_owned(), "x".to_owned()]));
        // A name, then integers: still names.
        let (labels, names) = encode(&["x", "1"]);
        assert_eq!(
            (labels, names),
            (vec![1, 0], Some(vec!["1".to_owned(), "x".to_owned()]))
        );
        assert_eq!(encode(&[]), (vec![], None));
    }

    #[test]
    fn label_columns_have_several_usual_names() {
        for name in ["label", "Labels", "TARGET", "class", "y"] {
            assert_eq!(default_label_column(&row(&["a", name, "b"])), Some(1), "{name}");
        }
        assert_eq!(default_label_column(&row(&["a", "b"])), None);
        // `label` wins over the other names, wherever it is.
        assert_eq!(default_label_column(&row(&["class", "target", "Label"])), Some(2));
        assert_eq!(default_label_column(&row(&["y", "class"])), Some(1));
        // Coordinates are not labels.
        assert_eq!(default_label_column(&row(&["x", "y"])), None);
        assert_eq!(default_label_column(&row(&["X", "y", "label"])), Some(2));
        // Close names are not taken.
        assert_eq!(default_label_column(&row(&["targets", "classes", "yy"])), None);
    }
}
