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
use ssne_data::ndarray::{Array2, s};
use ssne_data::stream::{RowChunk, RowStream};
use ssne_data::{ByteDecoding, ByteFeatures, DataError, Dataset, Features, Format, LoadOptions};

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

/// A loaded data set and how to name it in messages: `f32` rows, or (`train`'s inputs, see
/// [`DataArgs::load_training`]) `u8` codes.
pub(crate) struct Loaded<F = Array2<f32>> {
    pub(crate) data: Dataset<F>,
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
}

impl<F: Features> Loaded<F> {
    /// `the data has no labels` with what was read and how to give labels, for a note or an
    /// error.
    pub(crate) fn no_labels_message(&self) -> String {
        match &self.missing_labels {
            Some(hint) => format!("{} has no labels: {hint}", self.description),
            None => format!("{} has no labels", self.description),
        }
    }
}

/// `train`'s data: `f32` rows, or the `u8` codes of a file that holds `u8` values.
pub(crate) enum TrainingData {
    /// Rows loaded as `f32`.
    Floats(Loaded),
    /// `u8` values kept as codes.
    Bytes(Loaded<ByteFeatures>),
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
fn missing_labels_hint<F: Features>(data: &Dataset<F>, read_as: ReadAs, path: &Path) -> String {
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
        let read = ui
            .step(format!("loading {source}"), || self.read(&source))
            .context("loading the data")?;
        self.select_rows(source, read)
    }

    /// The training rows: IDX images (and MNIST-style folders) and `u8` NPY arrays keep their
    /// `u8` values as codes ([`ssne_data::load_codes`]: a quarter of the memory, decoded and
    /// scaled per batch into the values [`DataArgs::load`] gives), everything else is loaded as
    /// `f32`. The memory check counts one byte per value for codes.
    pub(crate) fn load_training(&self, ui: &Ui) -> anyhow::Result<TrainingData> {
        let source = self.source();
        let codes = ui
            .step(format!("loading {source}"), || self.read_codes(&source))
            .context("loading the data")?;
        match codes {
            Some(read) => Ok(TrainingData::Bytes(self.select_rows(source, read)?)),
            None => self.load(ui).map(TrainingData::Floats),
        }
    }

    /// `--rows` applied to what was read, with the description and label hint of the result.
    fn select_rows<F: Features>(
        &self,
        source: DataSource,
        (data, read_as): (Dataset<F>, Option<ReadAs>),
    ) -> anyhow::Result<Loaded<F>> {
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

    /// [`DataArgs::read`] as `u8` codes, when the source holds `u8` values (IDX images, a
    /// folder of them, a `u8` NPY array); `None` otherwise (the bundled sample, CSV, other NPY
    /// element types), having read at most a header.
    fn read_codes(&self, source: &DataSource) -> anyhow::Result<Option<(Dataset<ByteFeatures>, Option<ReadAs>)>> {
        let DataSource::Path(path) = source else {
            return Ok(None);
        };
        let read_as;
        let data = if path.is_dir() {
            self.check_folder_flags(path)?;
            let split = self.split_name();
            read_as = ReadAs::Folder;
            RowStream::open_mnist_dir(path, split)?.check_memory_as(memory_limit(), 1)?;
            ssne_data::mnist::load_dir_codes(path, split)?
        } else {
            self.check_file_flags(path)?;
            let format = self.file_format(path)?;
            read_as = match format {
                Format::Idx => ReadAs::Idx,
                Format::Npy => ReadAs::Npy,
                _ => return Ok(None),
            };
            let options = LoadOptions::default().with_memory_limit(memory_limit());
            match ssne_data::load_codes(path, format, &options)? {
                Some(data) => data,
                None => return Ok(None),
            }
        };
        Ok(Some((self.with_flags(data, path)?, Some(read_as))))
    }

    /// The split of an MNIST-style folder that `--split` names (the training split by default).
    fn split_name(&self) -> SplitName {
        match self.split.unwrap_or(SplitArg::Train) {
            SplitArg::Train => SplitName::Train,
            SplitArg::Test => SplitName::Test,
        }
    }

    /// The format of the file at `path`: `--format`, or detected from the file.
    fn file_format(&self, path: &Path) -> anyhow::Result<Format> {
        Ok(match self.format(path) {
            Format::Auto => ssne_data::detect_format(path)?,
            format => format,
        })
    }

    /// `--labels` and `--image-shape` applied to data read from `path`.
    fn with_flags<F: Features>(&self, mut data: Dataset<F>, path: &Path) -> anyhow::Result<Dataset<F>> {
        if let Some(labels_path) = &self.labels {
            attach_labels(&mut data, path, labels_path)?;
        }
        if let Some(ImageShapeArg(shape)) = self.image_shape {
            data = with_image_shape(data, shape, path)?;
        }
        Ok(data)
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
            self.check_folder_flags(path)?;
            let split = self.split_name();
            read_as = ReadAs::Folder;
            RowStream::open_mnist_dir(path, split)?.check_memory(memory_limit())?;
            ssne_data::mnist::load_dir(path, split)?
        } else {
            self.check_file_flags(path)?;
            let format = self.file_format(path)?;
            read_as = match format {
                Format::Idx => ReadAs::Idx,
                Format::Npy => ReadAs::Npy,
                _ => ReadAs::Csv,
            };
            let options = LoadOptions::default().with_memory_limit(memory_limit());
            ssne_data::load_with(path, format, &options)?
        };
        data = self.with_flags(data, path)?;
        Ok((data, Some(read_as)))
    }

    /// The data read a chunk of rows at a time, for `embed`: files are streamed
    /// ([`ssne_data::stream`]) with the checks and messages of [`DataArgs::load`]; the bundled
    /// sample is loaded (it is small). With `text_labels`, a CSV file's labels are shown as
    /// written (after [`ssne_data::DataError::LabelsReread`]).
    pub(crate) fn stream(&self, text_labels: bool, ui: &Ui) -> anyhow::Result<Streamed> {
        let source = self.source();
        let path = match &source {
            DataSource::Bundled => {
                let loaded = self.load(ui)?;
                let labels = loaded.data.shown_labels();
                return Ok(Streamed {
                    rows: Rows::Memory {
                        loaded: Box::new(loaded),
                        labels,
                        next: 0,
                    },
                    source,
                    rows_arg: None,
                    range: None,
                    pending_skip: 0,
                    labels_path: None,
                });
            }
            DataSource::Path(path) => path.clone(),
        };
        let stream = self.open_stream(&path, text_labels).context("reading the data")?;
        let range = match (self.rows, stream.n_points()) {
            (Some(rows), Some(n_points)) => Some(
                rows.resolve(n_points)
                    .map_err(|problem| anyhow::anyhow!("{problem} ({source})"))?,
            ),
            _ => None,
        };
        anyhow::ensure!(stream.n_points() != Some(0), "{source} has no points");
        let pending_skip = match (&range, self.rows) {
            (Some(range), _) => range.start,
            (None, rows) => rows.and_then(|rows| rows.start).unwrap_or(0),
        };
        Ok(Streamed {
            rows: Rows::File(Box::new(stream)),
            source,
            rows_arg: self.rows,
            range,
            pending_skip,
            labels_path: self.labels.clone(),
        })
    }

    fn open_stream(&self, path: &Path, text_labels: bool) -> anyhow::Result<RowStream> {
        let mut stream = if path.is_dir() {
            self.check_folder_flags(path)?;
            let split = self.split_name();
            RowStream::open_mnist_dir(path, split)?
        } else {
            self.check_file_flags(path)?;
            let format = self.file_format(path)?;
            RowStream::open(path, format)?
        };
        if let Some(labels_path) = &self.labels {
            stream = match stream.with_labels_file(labels_path) {
                Err(DataError::LabelCount { images, labels, .. }) => {
                    bail!(label_count_message(labels_path, labels, path, images))
                }
                other => other?,
            };
        }
        if let Some(ImageShapeArg(shape)) = self.image_shape {
            check_image_shape(stream.image_shape(), stream.n_features(), shape, path)?;
        }
        if text_labels {
            stream = stream.with_text_labels()?;
        }
        Ok(stream)
    }

    /// A folder is read as MNIST-style IDX files.
    fn check_folder_flags(&self, path: &Path) -> anyhow::Result<()> {
        anyhow::ensure!(
            matches!(self.format, FormatArg::Auto | FormatArg::Idx) && self.labels.is_none(),
            "{} is a folder: it is read as MNIST-style IDX files, so --format {} and --labels do not apply",
            path.display(),
            self.format
                .to_possible_value()
                .map_or_else(String::new, |v| v.get_name().to_owned()),
        );
        Ok(())
    }

    /// `--split` names a split of a folder.
    fn check_file_flags(&self, path: &Path) -> anyhow::Result<()> {
        if self.split.is_some() {
            bail!(
                "--split chooses a split of an MNIST-style folder, and {} is a file",
                path.display()
            );
        }
        Ok(())
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

/// The memory used when the machine's available memory cannot be read: 16 GiB.
const FALLBACK_MEMORY_BYTES: u64 = 16 << 30;

/// The most bytes a data set's features may take to be loaded whole: the machine's available
/// memory (`MemAvailable` of `/proc/meminfo`), or [`FALLBACK_MEMORY_BYTES`] where it cannot be
/// read. Larger files are refused before loading, with the streaming `embed` named.
pub(crate) fn memory_limit() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| mem_available(&text))
        .unwrap_or(FALLBACK_MEMORY_BYTES)
}

/// `MemAvailable` of a `/proc/meminfo` text, in bytes.
fn mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|line| line.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// Gives the rows of `data` (read from `path`) the shape of `--image-shape`, which must cover each
/// row exactly and agree with a shape the file already has.
fn with_image_shape<F: Features>(data: Dataset<F>, shape: [usize; 2], path: &Path) -> anyhow::Result<Dataset<F>> {
    check_image_shape(data.image_shape, data.n_features(), shape, path)?;
    Ok(data.with_image_shape(shape)?)
}

/// Whether `--image-shape` fits rows of `n_features` values from `path`, which may have a shape.
fn check_image_shape(
    file_shape: Option<[usize; 2]>,
    n_features: usize,
    shape: [usize; 2],
    path: &Path,
) -> anyhow::Result<()> {
    let [height, width] = shape;
    if let Some([h, w]) = file_shape
        && [h, w] != shape
    {
        bail!(
            "--image-shape {height}x{width} differs from the {h} x {w} images that {} holds; leave the flag out",
            path.display()
        );
    }
    if height.checked_mul(width) != Some(n_features) {
        bail!(
            "--image-shape {height}x{width} has {} pixels, but each row of {} has {n_features} values",
            height.saturating_mul(width),
            path.display()
        );
    }
    Ok(())
}

/// The message for labels that are not one per point.
fn label_count_message(labels_path: &Path, n_labels: usize, data_path: &Path, n_points: usize) -> String {
    format!(
        "{} holds {n_labels} labels but {} has {n_points} points; give the labels file that belongs to the data",
        labels_path.display(),
        data_path.display(),
    )
}

/// Replaces the labels of `data` with those of `--labels` (IDX labels, or NPY by extension).
fn attach_labels<F: Features>(data: &mut Dataset<F>, data_path: &Path, labels_path: &Path) -> anyhow::Result<()> {
    let is_npy = labels_path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("npy"));
    let labels = if is_npy {
        ssne_data::npy::read_labels(labels_path)?
    } else {
        ssne_data::idx::read_labels(labels_path)?
    };
    if labels.len() != data.n_points() {
        bail!(label_count_message(
            labels_path,
            labels.len(),
            data_path,
            data.n_points()
        ));
    }
    // Names that came with the features' own labels describe other numbers now; the new labels
    // are made compact like every loader's (ssne_data::compact_labels).
    let (labels, names) = ssne_data::compact_labels(labels, None);
    data.labels = Some(labels);
    data.label_names = names;
    Ok(())
}

/// Rows of the data handed out a chunk at a time ([`DataArgs::stream`]), `--rows` applied.
pub(crate) struct Streamed {
    rows: Rows,
    source: DataSource,
    /// `--rows` as given.
    rows_arg: Option<RowRange>,
    /// `--rows` resolved, when the number of points was known from the start.
    range: Option<Range<usize>>,
    /// Rows still to skip before the first one handed out.
    pending_skip: usize,
    labels_path: Option<PathBuf>,
}

enum Rows {
    File(Box<RowStream>),
    /// The bundled sample, already loaded with `--rows` applied.
    Memory {
        loaded: Box<Loaded>,
        labels: Option<Vec<String>>,
        next: usize,
    },
}

/// One chunk of rows: features and, when the data has them, the labels as the user wrote them.
pub(crate) type Chunk = (Array2<f32>, Option<Vec<String>>);

/// One chunk of rows as `u8` codes, with the labels as the user wrote them.
pub(crate) type CodeChunk = (ByteFeatures, Option<Vec<String>>);

impl Streamed {
    /// The number of rows that will be handed out, when known before reading (not for CSV).
    pub(crate) fn n_points(&self) -> Option<usize> {
        match &self.rows {
            Rows::Memory { loaded, .. } => Some(loaded.data.n_points()),
            Rows::File(stream) => match (&self.range, self.rows_arg) {
                (Some(range), _) => Some(range.len()),
                (None, None) => stream.n_points(),
                (None, Some(_)) => None,
            },
        }
    }

    /// Whether the rows come with labels.
    pub(crate) fn has_labels(&self) -> bool {
        match &self.rows {
            Rows::Memory { labels, .. } => labels.is_some(),
            Rows::File(stream) => stream.has_labels(),
        }
    }

    /// The end of the wanted rows, when there is one.
    fn wanted_end(&self) -> Option<usize> {
        match (&self.range, self.rows_arg) {
            (Some(range), _) => Some(range.end),
            (None, rows) => rows.and_then(|rows| rows.end),
        }
    }

    /// How the file's rows decode from `u8` codes, when it holds them (IDX images, `u8` NPY):
    /// then [`Streamed::next_codes`] reads them without the `f32` copy. `None` for the bundled
    /// sample, which is already in memory as `f32`.
    pub(crate) fn byte_decoding(&self) -> Option<ByteDecoding> {
        match &self.rows {
            Rows::Memory { .. } => None,
            Rows::File(stream) => stream.byte_decoding(),
        }
    }

    /// The next rows, at most `max_rows`; `None` when the wanted rows are done.
    pub(crate) fn next_chunk(&mut self, max_rows: usize) -> anyhow::Result<Option<Chunk>> {
        if let Rows::Memory { loaded, labels, next } = &mut self.rows {
            let n_points = loaded.data.n_points();
            if *next >= n_points {
                return Ok(None);
            }
            let end = (*next + max_rows).min(n_points);
            let features = loaded.data.features.slice(s![*next..end, ..]).to_owned();
            let part = labels.as_ref().map(|labels| labels[*next..end].to_vec());
            *next = end;
            return Ok(Some((features, part)));
        }
        let chunk = self.next_from_file(max_rows, RowStream::next_chunk)?;
        Ok(chunk.map(|chunk| (chunk.features, chunk.labels)))
    }

    /// [`Streamed::next_chunk`] as `u8` codes, for a file whose
    /// [`byte_decoding`](Streamed::byte_decoding) is known.
    pub(crate) fn next_codes(&mut self, max_rows: usize) -> anyhow::Result<Option<CodeChunk>> {
        anyhow::ensure!(
            !matches!(self.rows, Rows::Memory { .. }),
            "{} is held as f32 features, not u8 codes",
            self.source
        );
        let chunk = self.next_from_file(max_rows, RowStream::next_codes)?;
        Ok(chunk.map(|chunk| (chunk.features, chunk.labels)))
    }

    /// The next rows of the file, at most `max_rows`, read by `read` after the rows before
    /// `--rows` are skipped; `None` when the wanted rows are done.
    fn next_from_file<F>(
        &mut self,
        max_rows: usize,
        read: impl FnOnce(&mut RowStream, usize) -> Result<Option<RowChunk<F>>, DataError>,
    ) -> anyhow::Result<Option<RowChunk<F>>> {
        let wanted_end = self.wanted_end();
        let labels_path = self.labels_path.clone();
        let Rows::File(stream) = &mut self.rows else {
            return Ok(None);
        };
        if self.pending_skip > 0 {
            let wanted = self.pending_skip;
            let skipped = stream.skip(wanted).context("reading the data")?;
            self.pending_skip = 0;
            if skipped < wanted {
                // Only a CSV file's length is unknown until now: the range lies outside.
                let n_points = stream.next_row();
                return Err(self.outside(n_points));
            }
        }
        let max_rows = match wanted_end {
            Some(end) => max_rows.min(end.saturating_sub(stream.next_row())),
            None => max_rows,
        };
        if max_rows == 0 {
            return Ok(None);
        }
        match read(stream, max_rows) {
            Err(DataError::LabelCount { images, labels, .. }) if labels_path.is_some() => {
                let labels_path = labels_path.unwrap_or_default();
                bail!(label_count_message(&labels_path, labels, stream.path(), images))
            }
            other => other.context("reading the data"),
        }
    }

    /// The `--rows` error once the number of points is known.
    fn outside(&self, n_points: usize) -> anyhow::Error {
        let problem = self
            .rows_arg
            .map(|rows| rows.resolve(n_points))
            .and_then(Result::err)
            .unwrap_or_else(|| format!("--rows lies outside the data: it has {n_points} rows"));
        anyhow::anyhow!("{problem} ({})", self.source)
    }

    /// Ends the reading (a CSV file is read to its end, as loading checks it whole); returns how
    /// to name the rows handed out, e.g. `data.csv, rows 10..20`.
    pub(crate) fn finish(self) -> anyhow::Result<String> {
        let stream = match self.rows {
            Rows::Memory { loaded, .. } => return Ok(loaded.description),
            Rows::File(stream) => *stream,
        };
        let n_points = stream.finish().context("reading the data")?;
        let Some(rows) = self.rows_arg else {
            anyhow::ensure!(n_points > 0, "{} has no points", self.source);
            return Ok(self.source.to_string());
        };
        match rows.resolve(n_points) {
            Ok(range) => Ok(format!("{}, rows {}..{}", self.source, range.start, range.end)),
            Err(problem) => bail!("{problem} ({})", self.source),
        }
    }
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
    fn available_memory_is_read_from_meminfo() {
        let text = "MemTotal:       24576000 kB\nMemFree:  100 kB\nMemAvailable:   20000000 kB\n";
        assert_eq!(mem_available(text), Some(20_000_000 * 1024));
        assert_eq!(mem_available("MemTotal: 5 kB\n"), None);
        assert_eq!(mem_available("MemAvailable: lots\n"), None);
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
