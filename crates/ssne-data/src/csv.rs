//! CSV files: numeric feature columns, an optional label column, an optional header row.
//!
//! By default the header is detected (see [`HeaderMode::Auto`]) and a column named `label`
//! (any case) holds the labels. Labels are non-negative integers, or any strings, which are
//! numbered `0..` in sorted order and kept as [`Dataset::label_names`]. Ragged rows and
//! non-numeric feature cells are errors naming the file, the line and the column.
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

use std::collections::BTreeMap;
use std::path::Path;

use ndarray::{Array2, ArrayView2};

use crate::dataset::{Dataset, check_finite};
use crate::error::DataError;
use crate::source;

/// How to read a CSV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    /// Whether the first row names the columns.
    pub has_header: HeaderMode,
    /// The column holding the labels; by default a header column named `label` (any case), and
    /// no labels if there is none.
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
    let rows = read_rows(path, options.delimiter)?;
    let Some((first, _)) = rows.first() else {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    };
    let n_columns = first.len();
    let has_header = match options.has_header {
        HeaderMode::Yes => true,
        HeaderMode::No => false,
        HeaderMode::Auto => looks_like_header(first, rows.get(1).map(|(row, _)| row.as_slice())),
    };
    let header = if has_header { Some(first.as_slice()) } else { None };
    let label_idx = label_column(path, header, n_columns, options.label_column.as_ref())?;
    let n_features = n_columns - usize::from(label_idx.is_some());
    if n_features == 0 {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    let data_rows = &rows[usize::from(has_header)..];
    let mut values = Vec::with_capacity(data_rows.len() * n_features);
    let mut label_cells = Vec::with_capacity(if label_idx.is_some() { data_rows.len() } else { 0 });
    for (row, line) in data_rows {
        if row.len() != n_columns {
            return Err(DataError::Ragged {
                path: path.to_path_buf(),
                line: *line,
                expected: n_columns,
                found: row.len(),
            });
        }
        for (col_idx, cell) in row.iter().enumerate() {
            if Some(col_idx) == label_idx {
                label_cells.push(cell.as_str());
                continue;
            }
            let value = parse_number(cell).ok_or_else(|| DataError::NotNumeric {
                path: path.to_path_buf(),
                line: *line,
                column: col_idx + 1,
                value: cell.clone(),
            })?;
            values.push(value);
        }
    }
    let features = Array2::from_shape_vec((data_rows.len(), n_features), values).map_err(|_| DataError::Empty {
        path: path.to_path_buf(),
    })?;
    if !allow_non_finite {
        check_finite(&features, path)?;
    }
    let (labels, label_names) = match label_idx {
        Some(_) => {
            let (labels, names) = encode_labels(&label_cells);
            (Some(labels), names)
        }
        None => (None, None),
    };
    let mut data = Dataset::unchecked(features, labels, path)?.with_name(source::stem(path));
    data.label_names = label_names;
    Ok(data)
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
    crate::write_atomic(path, |out| {
        let mut writer = ::csv::Writer::from_writer(out);
        if !header.is_empty() {
            writer.write_record(header)?;
        }
        let mut cell = String::new();
        for row in data.rows() {
            for value in row {
                cell.clear();
                // Writing to a String cannot fail.
                let _ = std::fmt::Write::write_fmt(&mut cell, format_args!("{value}"));
                writer.write_field(&cell)?;
            }
            writer.write_record(None::<&[u8]>)?;
        }
        writer.flush()?;
        writer.into_inner().map_err(|err| err.into_error())?.flush()
    })
}

/// All records with their 1-based line numbers, cells trimmed.
fn read_rows(path: &Path, delimiter: u8) -> Result<Vec<(Vec<String>, u64)>, DataError> {
    let file = std::fs::File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        // Ragged rows are reported by us, with the expected and found counts.
        .flexible(true)
        .trim(::csv::Trim::All)
        .delimiter(delimiter)
        .from_reader(std::io::BufReader::new(file));
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|err| csv_error(path, err))?;
        let line = record.position().map_or(0, ::csv::Position::line);
        rows.push((record.iter().map(str::to_owned).collect(), line));
    }
    Ok(rows)
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

fn looks_like_header(first: &[String], second: Option<&[String]>) -> bool {
    let is_number = |cell: &String| parse_number(cell).is_some();
    if first.iter().all(|cell| !is_number(cell)) {
        return true;
    }
    first.iter().enumerate().any(|(col_idx, cell)| {
        !is_number(cell) && second.is_none_or(|second| second.get(col_idx).is_some_and(is_number))
    })
}

fn label_column(
    path: &Path,
    header: Option<&[String]>,
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
        None => Ok(header.and_then(|header| header.iter().position(|cell| cell.eq_ignore_ascii_case("label")))),
    }
}

/// Integer labels as they are; otherwise every distinct string numbered in sorted order.
fn encode_labels(cells: &[&str]) -> (Vec<u32>, Option<Vec<String>>) {
    if let Ok(labels) = cells
        .iter()
        .map(|cell| cell.parse::<u32>())
        .collect::<Result<Vec<_>, _>>()
    {
        return (labels, None);
    }
    let mut ids: BTreeMap<&str, u32> = cells.iter().map(|&cell| (cell, 0)).collect();
    for (id, value) in ids.values_mut().enumerate() {
        // At most one id per row, and a row count past u32::MAX could not have been read.
        *value = id as u32;
    }
    let labels = cells.iter().map(|cell| ids[cell]).collect();
    (labels, Some(ids.keys().map(|&name| name.to_owned()).collect()))
}

#[cfg(test)]
mod tests {
    use super::{encode_labels, looks_like_header};

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|&c| c.to_owned()).collect()
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

    #[test]
    fn labels_are_integers_or_sorted_names() {
        assert_eq!(encode_labels(&["3", "0", "3"]), (vec![3, 0, 3], None));
        let (labels, names) = encode_labels(&["b", "a", "-1", "b"]);
        assert_eq!(labels, [2, 1, 0, 2]);
        assert_eq!(names, Some(vec!["-1".to_owned(), "a".to_owned(), "b".to_owned()]));
    }
}
