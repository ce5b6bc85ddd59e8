//! Writing results: embeddings (CSV or NPY by extension), JSON and PNG files, always atomically
//! through `ssne_data::write_atomic`, so a failed run leaves no half-written file (folders of
//! results are `crate::staged_folder`'s).

use std::path::{Path, PathBuf};

use std::io::Write as _;

use anyhow::{Context as _, bail};
use ssne_data::ndarray::{Array2, ArrayView2};

/// The file formats an embedding can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TableFormat {
    /// `x,y` (plus `label`) with a header row.
    Csv,
    /// An `n x 2` little-endian `f32` array.
    Npy,
}

impl TableFormat {
    /// The format named by the file's extension; checked before any work is done.
    pub(crate) fn from_path(path: &Path) -> anyhow::Result<Self> {
        let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("csv") => Ok(TableFormat::Csv),
            Some("npy") => Ok(TableFormat::Npy),
            _ => bail!(
                "{}: the output format is chosen by the extension; end the name in .csv or .npy",
                path.display()
            ),
        }
    }
}

/// Refuses, before any work, to write a model (or its training log) over one of the command's
/// inputs, or over an existing file that is not a model file unless `force` is given.
///
/// Paths are compared after resolving links and relative parts, so `./d/../x.csv` and a link
/// to `x.csv` are both `x.csv`. A path that does not exist yet cannot be an input.
pub(crate) fn check_model_output(out: &Path, log: &Path, inputs: &[PathBuf], force: bool) -> anyhow::Result<()> {
    check_not_input("the model", out, inputs)?;
    check_not_input("the training log", log, inputs)?;
    if !force && !is_model_file_or_absent(out)? {
        bail!(
            "{}: this file exists and is not a salient-sne model file; give --force to replace it",
            out.display()
        );
    }
    Ok(())
}

/// Refuses, before any work, to write `what` to `out` when `out` is one of the command's
/// `inputs` (compared as in [`check_model_output`]).
pub(crate) fn check_not_input(what: &str, out: &Path, inputs: &[PathBuf]) -> anyhow::Result<()> {
    let Ok(resolved) = std::fs::canonicalize(out) else {
        return Ok(());
    };
    if inputs
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .any(|input| input == resolved)
    {
        bail!(
            "{}: this is one of the command's inputs; writing {what} there would destroy it. Choose another path",
            out.display()
        );
    }
    Ok(())
}

/// Whether `path` is missing, or starts with the model file magic.
fn is_model_file_or_absent(path: &Path) -> anyhow::Result<bool> {
    use std::io::Read as _;
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(true),
        Err(e) => return Err(e).with_context(|| format!("{}: cannot read the existing file", path.display())),
    };
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        bail!("{}: this is a folder, not a model file path", path.display());
    }
    let mut head = [0u8; 8];
    let mut filled = 0;
    while filled < head.len() {
        match file.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) => return Err(e).with_context(|| format!("{}: cannot read the existing file", path.display())),
        }
    }
    Ok(filled == head.len() && head == ssne_model::model_file::MAGIC)
}

/// Creates the folder that will hold `path`, so a fresh `--out a/b/c.csv` just works.
pub(crate) fn ensure_parent(path: &Path) -> anyhow::Result<()> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => std::fs::create_dir_all(parent)
            .with_context(|| format!("{}: cannot create the output folder", parent.display())),
        _ => Ok(()),
    }
}

/// Writes 2-D coordinates: CSV `x,y[,label][,shift]`, or NPY `n x 2` with the labels (as the
/// user wrote them) one per line in a text file beside it ([`labels_path_beside`]), written first
/// so that a finished NPY always has its labels. The same file as an [`EmbeddingWriter`] fed the
/// rows in parts.
pub(crate) fn write_embedding(
    path: &Path,
    embedding: ArrayView2<'_, f32>,
    labels: Option<&[String]>,
    shifts: Option<&[f32]>,
) -> anyhow::Result<()> {
    let mut writer = EmbeddingWriter::create(path, labels.is_some(), shifts.is_some())?;
    writer.write(embedding, labels, shifts)?;
    writer.finish()
}

/// An embedding written as its rows come (see [`write_embedding`] for the formats), atomically:
/// the labels file and the table appear only at [`finish`](Self::finish), the labels first.
pub(crate) struct EmbeddingWriter {
    out: EmbeddingOut,
    labels: bool,
    shifts: bool,
    n_rows: usize,
}

enum EmbeddingOut {
    Npy {
        table: ssne_data::npy::F32Writer,
        labels: Option<ssne_data::AtomicFile>,
    },
    Csv(Box<ssne_data::csv::TableWriter>),
}

impl EmbeddingWriter {
    /// Starts writing `path` (its folder is created), with a label column (or labels file) and a
    /// shift column as asked.
    pub(crate) fn create(path: &Path, labels: bool, shifts: bool) -> anyhow::Result<Self> {
        ensure_parent(path)?;
        let out = match TableFormat::from_path(path)? {
            TableFormat::Npy => EmbeddingOut::Npy {
                labels: labels
                    .then(|| ssne_data::AtomicFile::create(&labels_path_beside(path)))
                    .transpose()?,
                table: ssne_data::npy::F32Writer::create(path, 2)?,
            },
            TableFormat::Csv => {
                let mut names = vec!["x", "y"];
                if labels {
                    names.push("label");
                }
                if shifts {
                    names.push("shift");
                }
                EmbeddingOut::Csv(Box::new(ssne_data::csv::TableWriter::create(path, &names)?))
            }
        };
        Ok(EmbeddingWriter {
            out,
            labels,
            shifts,
            n_rows: 0,
        })
    }

    /// Appends rows: their coordinates and, as the writer was created, their labels and shifts.
    pub(crate) fn write(
        &mut self,
        embedding: ArrayView2<'_, f32>,
        labels: Option<&[String]>,
        shifts: Option<&[f32]>,
    ) -> anyhow::Result<()> {
        anyhow::ensure!(
            embedding.ncols() == 2,
            "the model maps to {} dimensions, not 2",
            embedding.ncols()
        );
        let n_rows = embedding.nrows();
        let fits = |len: Option<usize>, wanted: bool| match len {
            Some(len) => wanted && len == n_rows,
            None => !wanted,
        };
        anyhow::ensure!(
            fits(labels.map(<[String]>::len), self.labels) && fits(shifts.map(<[f32]>::len), self.shifts),
            "the labels or shifts do not match the embedded points"
        );
        match &mut self.out {
            EmbeddingOut::Npy { table, labels: file } => {
                if let (Some(file), Some(labels)) = (file.as_mut(), labels) {
                    for label in labels {
                        writeln!(file, "{label}").context("writing the labels file")?;
                    }
                }
                table.write_rows(&embedding)?;
            }
            EmbeddingOut::Csv(table) => {
                use ssne_data::csv::Cell;
                let mut cells = Vec::with_capacity(4);
                for (row, point) in embedding.rows().into_iter().enumerate() {
                    cells.clear();
                    cells.extend([Cell::Number(point[0]), Cell::Number(point[1])]);
                    if let Some(labels) = labels {
                        cells.push(Cell::Text(&labels[row]));
                    }
                    if let Some(shifts) = shifts {
                        cells.push(Cell::Number(shifts[row]));
                    }
                    table.write_row(&cells)?;
                }
            }
        }
        self.n_rows += n_rows;
        Ok(())
    }

    /// The rows written so far.
    pub(crate) fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Renames the files into place: the labels file first, then the table.
    pub(crate) fn finish(self) -> anyhow::Result<()> {
        match self.out {
            EmbeddingOut::Npy { table, labels } => {
                if let Some(labels) = labels {
                    labels.commit()?;
                }
                table.finish()?;
            }
            EmbeddingOut::Csv(table) => table.finish()?,
        }
        Ok(())
    }
}

/// Where the labels of an NPY embedding go: `map.npy` -> `map.labels.txt`.
pub(crate) fn labels_path_beside(npy: &Path) -> PathBuf {
    npy.with_extension("labels.txt")
}

/// Writes one named column of numbers: CSV with a header, or a 1-column NPY.
pub(crate) fn write_column(path: &Path, name: &str, values: &[f32]) -> anyhow::Result<()> {
    ensure_parent(path)?;
    let column = Array2::from_shape_fn((values.len(), 1), |(i, _)| values[i]);
    match TableFormat::from_path(path)? {
        TableFormat::Npy => ssne_data::npy::write_f32(path, &column.view())?,
        TableFormat::Csv => ssne_data::csv::write_f32(path, &[name], column.view())?,
    }
    Ok(())
}

/// Writes bytes (a rendered PNG) atomically.
pub(crate) fn write_bytes(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    ensure_parent(path)?;
    ssne_data::write_atomic(path, |out| out.write_all(bytes))?;
    Ok(())
}

/// Writes a pretty-printed JSON document atomically.
pub(crate) fn write_json(path: &Path, value: &serde_json::Value) -> anyhow::Result<()> {
    ensure_parent(path)?;
    let text = serde_json::to_string_pretty(value).context("formatting JSON")?;
    ssne_data::write_atomic(path, |out| writeln!(out, "{text}"))?;
    Ok(())
}

/// Prints one JSON object on stdout (the `--json` summary).
pub(crate) fn print_json(value: &serde_json::Value) {
    println!("{value}");
}

/// The list of written files as JSON strings.
pub(crate) fn file_list(files: &[PathBuf]) -> serde_json::Value {
    serde_json::Value::Array(
        files
            .iter()
            .map(|f| serde_json::Value::String(f.display().to_string()))
            .collect(),
    )
}

/// A byte count for messages, in MB (10^6 bytes) with one decimal: `784.0 MB`.
pub(crate) fn bytes_text(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_decides_the_format() {
        assert_eq!(
            TableFormat::from_path(Path::new("a/b.CSV")).ok(),
            Some(TableFormat::Csv)
        );
        assert_eq!(TableFormat::from_path(Path::new("b.npy")).ok(), Some(TableFormat::Npy));
        assert!(TableFormat::from_path(Path::new("b.txt")).is_err());
        assert!(TableFormat::from_path(Path::new("b")).is_err());
    }
}
