//! The data flags every command shares (`--data`, `--labels`, `--format`, `--split`,
//! `--label-column`, `--rows`) and loading a data set from them with `ssne-data`.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};
use ssne_data::csv::{CsvOptions, LABEL_COLUMN_NAMES, LabelColumn};
use ssne_data::mnist::SplitName;
use ssne_data::{Dataset, Format};

use crate::progress::Ui;

/// The word that names the bundled sample instead of a path.
const BUNDLED: &str = "bundled";

/// Where the data comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DataSource {
    /// The 10,000 MNIST digits compiled into the binary.
    Bundled,
    /// A file or an MNIST-style folder.
    Path(PathBuf),
}

impl FromStr for DataSource {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "" => Err("an empty path; give a file, a folder or `bundled`".to_owned()),
            BUNDLED => Ok(DataSource::Bundled),
            path => Ok(DataSource::Path(PathBuf::from(path))),
        }
    }
}

impl fmt::Display for DataSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataSource::Bundled => f.write_str("the bundled MNIST sample"),
            DataSource::Path(path) => write!(f, "{}", path.display()),
        }
    }
}

/// `--format`: how to read `--data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FormatArg {
    /// Detect from the file's first bytes, then its extension (a folder is MNIST-style)
    Auto,
    /// An IDX images file (gzip or raw); its labels file is found beside it
    Idx,
    /// An NPY array: n x d features, or n x h x w images
    Npy,
    /// CSV with numeric feature columns and an optional label column
    Csv,
}

/// `--split`: which half of an MNIST-style folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SplitArg {
    /// train-images-idx3-ubyte and train-labels-idx1-ubyte
    Train,
    /// t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte
    Test,
}

/// `--label-column`: a header name or a 0-based index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LabelColumnArg(LabelColumn);

impl FromStr for LabelColumnArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err("an empty column name".to_owned());
        }
        // A header literally named with digits is reachable through its index.
        Ok(LabelColumnArg(match s.parse::<usize>() {
            Ok(index) => LabelColumn::Index(index),
            Err(_) => LabelColumn::Name(s.to_owned()),
        }))
    }
}

/// `--rows A..B`, `A..` or `..B`: a range of rows, resolved against the data's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RowRange {
    start: Option<usize>,
    end: Option<usize>,
}

impl RowRange {
    /// The rows this range picks out of `n_points`, or a message that echoes the
    /// range as typed and says which ranges the data allows.
    fn resolve(self, n_points: usize) -> Result<Range<usize>, String> {
        let range = self.start.unwrap_or(0)..self.end.unwrap_or(n_points);
        if range.start >= n_points || range.end > n_points {
            return Err(format!(
                "--rows {self} lies outside the data: it has {n_points} rows, so a range must lie within 0..{n_points}"
            ));
        }
        Ok(range)
    }
}

impl FromStr for RowRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not a row range; write A..B (e.g. 0..8000), A.. or ..B");
        let (start, end) = s.split_once("..").ok_or_else(bad)?;
        let bound = |text: &str| -> Result<Option<usize>, String> {
            match text.trim() {
                "" => Ok(None),
                digits => digits.parse().map(Some).map_err(|_| bad()),
            }
        };
        let range = RowRange {
            start: bound(start)?,
            end: bound(end)?,
        };
        if let (Some(a), Some(b)) = (range.start, range.end)
            && a >= b
        {
            return Err(format!("{s:?} is empty; the end is excluded, so write A..B with A < B"));
        }
        Ok(range)
    }
}

impl fmt::Display for RowRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(start) = self.start {
            write!(f, "{start}")?;
        }
        f.write_str("..")?;
        if let Some(end) = self.end {
            write!(f, "{end}")?;
        }
        Ok(())
    }
}

/// `--image-shape HxW`: the rows of a CSV or 2-D NPY file are images of this size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ImageShapeArg(pub(crate) [usize; 2]);

impl FromStr for ImageShapeArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not an image shape; write HxW, e.g. 28x28 or 8x8");
        let (height, width) = s.split_once(['x', 'X']).ok_or_else(bad)?;
        let side = |text: &str| match text.trim().parse::<usize>() {
            Ok(0) | Err(_) => Err(bad()),
            Ok(n) => Ok(n),
        };
        Ok(ImageShapeArg([side(height)?, side(width)?]))
    }
}

/// The data flags.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Data")]
pub(crate) struct DataArgs {
    /// `bundled` (the 10,000 MNIST digits in the binary), an IDX images file, a folder with the
    /// four MNIST files, an .npy or a .csv file [default: bundled]
    #[arg(long, value_name = "PATH")]
    pub(crate) data: Option<DataSource>,
    /// The labels of --data when they are in a separate file (IDX labels, or a 1-D integer .npy)
    #[arg(long, value_name = "PATH")]
    labels: Option<PathBuf>,
    /// How to read --data
    #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
    format: FormatArg,
    /// Which split of an MNIST-style folder [default: train]
    #[arg(long, value_enum)]
    split: Option<SplitArg>,
    /// The CSV column holding the labels, by name or 0-based index [default: the column named
    /// label, labels, target, class or y, in any case (y only without an x column)]
    #[arg(long, value_name = "NAME|INDEX")]
    label_column: Option<LabelColumnArg>,
    /// Only these rows, 0-based with the end excluded: `0..8000`, `8000..`, `..500`
    #[arg(long, value_name = "A..B")]
    pub(crate) rows: Option<RowRange>,
    /// The rows are images of H x W pixels (for CSV and 2-D NPY files; IDX files, 3-D NPY arrays
    /// and the bundled sample carry their own shape). Turns on image-only options: --shift-pixels
    /// and saliency pictures
    #[arg(long, value_name = "HxW")]
    image_shape: Option<ImageShapeArg>,
}

/// A loaded data set and how to name it in messages.
pub(crate) struct Loaded {
    pub(crate) data: Dataset,
    /// E.g. `the bundled MNIST sample, rows 8000..10000`.
    pub(crate) description: String,
    /// When the data has no labels: what was read and the flag that gives labels, e.g. `read 64
    /// feature columns: pixel_0 .. pixel_63; ...; pass --label-column NAME`.
    pub(crate) missing_labels: Option<String>,
}

impl Loaded {
    /// Data with labels, or whose source needs no hint.
    pub(crate) fn new(data: Dataset, description: String) -> Self {
        Loaded {
            data,
            description,
            missing_labels: None,
        }
    }

    /// `the data has no labels` with what was read and how to give labels, for a note or an
    /// error.
    pub(crate) fn no_labels_message(&self) -> String {
        match &self.missing_labels {
            Some(hint) => format!("{} has no labels: {hint}", self.description),
            None => format!("{} has no labels", self.description),
        }
    }
}

/// What a data file was read as, to say why it has no labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadAs {
    Folder,
    Idx,
    Npy,
    Csv,
}

/// What was read from `path` (as `read_as`) that has no labels, and the flag that gives them.
fn missing_labels_hint(data: &Dataset, read_as: ReadAs, path: &Path) -> String {
    let file = path.display();
    match read_as {
        ReadAs::Csv => match &data.feature_names {
            Some(names) => csv_columns_hint(names),
            None => format!(
                "read {} columns and no header row, so no column is named as the label; pass --label-column INDEX (0-based)",
                data.n_features()
            ),
        },
        ReadAs::Npy => format!("{file} is an NPY array of features only; pass --labels FILE (a 1-D integer .npy)"),
        ReadAs::Idx | ReadAs::Folder => format!("no IDX labels file was found beside {file}; pass --labels FILE"),
    }
}

/// Which header columns a CSV without a label column was read as features, and how to name one.
fn csv_columns_hint(names: &[String]) -> String {
    let columns = match names {
        [first, .., last] if names.len() > 4 => format!("{first} .. {last}"),
        _ => names.join(", "),
    };
    let plural = if names.len() == 1 { "" } else { "s" };
    let known = LABEL_COLUMN_NAMES.join(", ");
    let is = |name: &str| names.iter().any(|n| n.eq_ignore_ascii_case(name));
    let coordinates = if is("x") && is("y") {
        "; y is taken for a coordinate beside x"
    } else {
        ""
    };
    format!(
        "read {} feature column{plural}: {columns}; no label column ({known}, in any case){coordinates}; pass --label-column NAME",
        names.len()
    )
}

impl DataArgs {
    /// Whether the user named any data (for commands where data is optional).
    pub(crate) fn is_given(&self) -> bool {
        self.data.is_some() || self.rows.is_some() || self.labels.is_some()
    }

    /// The files this data is read from (the IDX labels found beside IDX images included), so
    /// that no output is written over them.
    pub(crate) fn input_paths(&self) -> Vec<PathBuf> {
        let mut paths = Vec::new();
        if let Some(DataSource::Path(path)) = &self.data {
            paths.push(path.clone());
            paths.extend(ssne_data::idx::labels_path_for(path));
        }
        paths.extend(self.labels.clone());
        paths
    }

    /// The source, the bundled sample when `--data` is left out.
    pub(crate) fn source(&self) -> DataSource {
        self.data.clone().unwrap_or(DataSource::Bundled)
    }

    /// Loads the data set, its labels and the selected rows, under a spinner.
    pub(crate) fn load(&self, ui: &Ui) -> anyhow::Result<Loaded> {
        let source = self.source();
        let (data, read_as) = ui
            .step(format!("loading {source}"), || self.read(&source))
            .context("loading the data")?;
        let missing_labels = match (&source, read_as) {
            (DataSource::Path(path), Some(read_as)) if data.labels.is_none() => {
                Some(missing_labels_hint(&data, read_as, path))
            }
            _ => None,
        };
        let (data, description) = match self.rows {
            Some(rows) => {
                let range = rows
                    .resolve(data.n_points())
                    .map_err(|problem| anyhow::anyhow!("{problem} ({source})"))?;
                let selected = data
                    .rows(range.clone())
                    .with_context(|| format!("selecting --rows {rows} of {source}"))?;
                (selected, format!("{source}, rows {}..{}", range.start, range.end))
            }
            None => (data, source.to_string()),
        };
        anyhow::ensure!(data.n_points() > 0, "{description} has no points");
        Ok(Loaded {
            data,
            description,
            missing_labels,
        })
    }

    /// The data set, and what its file was read as (`None` for the bundled sample).
    fn read(&self, source: &DataSource) -> anyhow::Result<(Dataset, Option<ReadAs>)> {
        let path = match source {
            DataSource::Bundled => {
                self.reject_with_bundled()?;
                let data = ssne_data::bundled::mnist_sample().context("decoding the bundled MNIST sample")?;
                return Ok((data, None));
            }
            DataSource::Path(path) => path,
        };
        let read_as;
        let mut data = if path.is_dir() {
            anyhow::ensure!(
                matches!(self.format, FormatArg::Auto | FormatArg::Idx) && self.labels.is_none(),
                "{} is a folder: it is read as MNIST-style IDX files, so --format {} and --labels do not apply",
                path.display(),
                self.format
                    .to_possible_value()
                    .map_or_else(String::new, |v| v.get_name().to_owned()),
            );
            let split = match self.split.unwrap_or(SplitArg::Train) {
                SplitArg::Train => SplitName::Train,
                SplitArg::Test => SplitName::Test,
            };
            read_as = ReadAs::Folder;
            ssne_data::mnist::load_dir(path, split)?
        } else {
            if self.split.is_some() {
                bail!(
                    "--split chooses a split of an MNIST-style folder, and {} is a file",
                    path.display()
                );
            }
            let format = match self.format(path) {
                Format::Auto => ssne_data::detect_format(path)?,
                format => format,
            };
            read_as = match format {
                Format::Idx => ReadAs::Idx,
                Format::Npy => ReadAs::Npy,
                _ => ReadAs::Csv,
            };
            ssne_data::load(path, format)?
        };
        if let Some(labels_path) = &self.labels {
            attach_labels(&mut data, path, labels_path)?;
        }
        if let Some(ImageShapeArg(shape)) = self.image_shape {
            data = with_image_shape(data, shape, path)?;
        }
        Ok((data, Some(read_as)))
    }

    /// The flags that only make sense for files.
    fn reject_with_bundled(&self) -> anyhow::Result<()> {
        let flag = if self.labels.is_some() {
            "--labels"
        } else if self.image_shape.is_some() {
            "--image-shape"
        } else if self.split.is_some() {
            "--split"
        } else if self.label_column.is_some() {
            "--label-column"
        } else if self.format != FormatArg::Auto {
            "--format"
        } else {
            return Ok(());
        };
        bail!("{flag} does not apply to the bundled sample; give a file with --data PATH")
    }

    fn format(&self, path: &Path) -> Format {
        let csv = || {
            let tab = path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("tsv"));
            Format::Csv(CsvOptions {
                label_column: self.label_column.clone().map(|c| c.0),
                delimiter: if tab { b'\t' } else { b',' },
                ..CsvOptions::default()
            })
        };
        match self.format {
            // A label column only exists in CSV, so asking for one settles the format.
            FormatArg::Auto if self.label_column.is_some() => csv(),
            FormatArg::Auto => Format::Auto,
            FormatArg::Idx => Format::Idx,
            FormatArg::Npy => Format::Npy,
            FormatArg::Csv => csv(),
        }
    }
}

/// Gives the rows of `data` (read from `path`) the shape of `--image-shape`, which must cover each
/// row exactly and agree with a shape the file already has.
fn with_image_shape(data: Dataset, shape: [usize; 2], path: &Path) -> anyhow::Result<Dataset> {
    let [height, width] = shape;
    if let Some([h, w]) = data.image_shape
        && [h, w] != shape
    {
        bail!(
            "--image-shape {height}x{width} differs from the {h} x {w} images that {} holds; leave the flag out",
            path.display()
        );
    }
    let n_features = data.n_features();
    data.with_image_shape(shape).map_err(|_| {
        anyhow::anyhow!(
            "--image-shape {height}x{width} has {} pixels, but each row of {} has {n_features} values",
            height.saturating_mul(width),
            path.display()
        )
    })
}

/// Replaces the labels of `data` with those of `--labels` (IDX labels, or NPY by extension).
fn attach_labels(data: &mut Dataset, data_path: &Path, labels_path: &Path) -> anyhow::Result<()> {
    let is_npy = labels_path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("npy"));
    let labels = if is_npy {
        ssne_data::npy::read_labels(labels_path)?
    } else {
        ssne_data::idx::read_labels(labels_path)?
    };
    if labels.len() != data.n_points() {
        bail!(
            "{} holds {} labels but {} has {} points; give the labels file that belongs to the data",
            labels_path.display(),
            labels.len(),
            data_path.display(),
            data.n_points()
        );
    }
    // Names that came with the features' own labels describe other numbers now; the new labels
    // are made compact like every loader's (ssne_data::compact_labels).
    let (labels, names) = ssne_data::compact_labels(labels, None);
    data.labels = Some(labels);
    data.label_names = names;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_ranges_parse_with_open_ends() {
        let resolve = |text: &str, n: usize| text.parse::<RowRange>().and_then(|r| r.resolve(n));
        assert_eq!(resolve("0..8000", 10_000), Ok(0..8000));
        assert_eq!(resolve("8000..", 10_000), Ok(8000..10_000));
        assert_eq!(resolve("..5", 10), Ok(0..5));
        assert_eq!(
            resolve("1800..", 1797),
            Err("--rows 1800.. lies outside the data: it has 1797 rows, so a range must lie within 0..1797".into())
        );
        assert_eq!(
            resolve("0..20000", 1797),
            Err("--rows 0..20000 lies outside the data: it has 1797 rows, so a range must lie within 0..1797".into())
        );
        assert_eq!(resolve("..1797", 1797), Ok(0..1797));
        assert!("5..5".parse::<RowRange>().is_err());
        assert!("9..3".parse::<RowRange>().is_err());
        assert!("a..3".parse::<RowRange>().is_err());
        assert!("3".parse::<RowRange>().is_err());
        assert_eq!("2..7".parse::<RowRange>().map(|r| r.to_string()), Ok("2..7".to_owned()));
    }

    #[test]
    fn label_columns_are_names_or_indices() {
        assert_eq!(
            "label".parse::<LabelColumnArg>(),
            Ok(LabelColumnArg(LabelColumn::Name("label".into())))
        );
        assert_eq!("3".parse::<LabelColumnArg>(), Ok(LabelColumnArg(LabelColumn::Index(3))));
        assert!("".parse::<LabelColumnArg>().is_err());
    }

    #[test]
    fn a_csv_without_labels_lists_its_columns() {
        let names = |list: &[&str]| list.iter().map(|&n| n.to_owned()).collect::<Vec<_>>();
        let known = "(label, labels, target, class, y, in any case)";
        assert_eq!(
            csv_columns_hint(&names(&["a"])),
            format!("read 1 feature column: a; no label column {known}; pass --label-column NAME")
        );
        assert_eq!(
            csv_columns_hint(&names(&["X", "y", "size"])),
            format!(
                "read 3 feature columns: X, y, size; no label column {known}; y is taken for a coordinate beside x; pass --label-column NAME"
            )
        );
        assert!(
            csv_columns_hint(&names(&["p0", "p1", "p2", "p3", "p4"])).starts_with("read 5 feature columns: p0 .. p4;")
        );
    }

    #[test]
    fn bundled_is_a_keyword_and_anything_else_a_path() {
        assert_eq!("bundled".parse::<DataSource>(), Ok(DataSource::Bundled));
        assert_eq!(
            "./bundled".parse::<DataSource>(),
            Ok(DataSource::Path("./bundled".into()))
        );
    }
}
