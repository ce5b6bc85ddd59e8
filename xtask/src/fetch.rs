//! `fetch-mnist` and `fetch-fashion-mnist`: download or import the four IDX files, verified.
//!
//! Every file goes to `<dest>/<name>.part` first, is checked (published MD5, then the IDX header
//! through `ssne-data`), and only then renamed to its final name, so an interrupted or rejected
//! transfer never leaves a file under the final name. A verified file already in `dest` is kept
//! and not fetched again. The mirror list and checksum table live in a [`FetchPlan`], so tests can
//! point the same logic at a local server with their own files.
//!
//! Raw versus gzip: downloads are kept as published (`*.gz`). `--from` accepts each file as
//! `<name>.gz` or as the decompressed `<name>`; a `.gz` whose bytes differ from the published
//! one is accepted when its decompressed content has the published raw MD5 (Debian's
//! `dataset-fashion-mnist` recompresses the files, so their `.gz` MD5s differ while the data is
//! identical). Files are imported in the form found, under the matching name; `ssne-data`
//! reads both.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use ssne_data::mnist::{FASHION_FILES, FileKind, MNIST_FILES, StandardFile};

use crate::http;
use crate::verify::{Form, verify};

/// Public MNIST mirrors, tried in this order (torchvision's S3 copy first: the original site
/// often refuses scripted downloads).
pub const MNIST_MIRRORS: [&str; 3] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
];

/// The Fashion-MNIST mirror (Zalando's S3 website).
pub const FASHION_MIRRORS: [&str; 1] = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"];

/// One file to fetch and how to recognise it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSpec {
    /// The published name, e.g. `train-images-idx3-ubyte.gz`.
    pub name: String,
    /// Lower-case hex MD5 of the published file.
    pub md5: String,
    /// Lower-case hex MD5 of the decompressed file, when known: lets raw files and other gzip
    /// wrappers of the same data pass.
    pub raw_md5: Option<String>,
    /// Whether the IDX header must say images or labels.
    pub kind: FileKind,
}

impl FileSpec {
    /// The name of the decompressed file: [`name`](Self::name) without `.gz`.
    pub fn raw_name(&self) -> &str {
        self.name.strip_suffix(".gz").unwrap_or(&self.name)
    }

    fn final_name(&self, form: Form) -> &str {
        match form {
            Form::Gz => &self.name,
            Form::Raw => self.raw_name(),
        }
    }
}

impl From<&StandardFile> for FileSpec {
    fn from(file: &StandardFile) -> Self {
        Self {
            name: file.name.to_owned(),
            md5: file.gz_md5.to_owned(),
            raw_md5: Some(file.raw_md5.to_owned()),
            kind: file.kind,
        }
    }
}

/// What to fetch, from where, to where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchPlan {
    /// The files, fetched in this order.
    pub files: Vec<FileSpec>,
    /// Base URLs tried in order for each file.
    pub mirrors: Vec<String>,
    /// The destination folder (created if missing).
    pub dest: PathBuf,
    /// What to tell the user when every mirror fails (how to use `--from`).
    pub offline_hint: String,
}

impl FetchPlan {
    /// MNIST into `dest`, from [`MNIST_MIRRORS`], checked against [`MNIST_FILES`].
    pub fn mnist(dest: PathBuf) -> Self {
        Self {
            files: MNIST_FILES.iter().map(FileSpec::from).collect(),
            mirrors: MNIST_MIRRORS.map(String::from).to_vec(),
            dest,
            offline_hint: "Without internet access, copy the four files (gzip or raw) from a machine that has them \
                           and import them:\n  cargo xtask fetch-mnist --from DIR"
                .to_owned(),
        }
    }

    /// Fashion-MNIST into `dest`, from [`FASHION_MIRRORS`], checked against [`FASHION_FILES`].
    pub fn fashion_mnist(dest: PathBuf) -> Self {
        Self {
            files: FASHION_FILES.iter().map(FileSpec::from).collect(),
            mirrors: FASHION_MIRRORS.map(String::from).to_vec(),
            dest,
            offline_hint: "Without internet access, import the files from a folder. On Debian or Ubuntu:\n  \
                           apt-get install dataset-fashion-mnist\n  \
                           cargo xtask fetch-fashion-mnist --from /usr/share/datasets/fashion-mnist"
                .to_owned(),
        }
    }

    /// Puts `extra` before the built-in mirrors, in the order given.
    pub fn prepend_mirrors(&mut self, extra: &[String]) {
        self.mirrors.splice(0..0, extra.iter().cloned());
    }
}

/// Where the files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The plan's mirrors.
    Mirrors,
    /// A local folder (`--from`).
    Dir(PathBuf),
}

/// How much to tell the user while fetching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ui {
    /// Print nothing but errors.
    pub quiet: bool,
    /// Draw download progress bars.
    pub bars: bool,
}

impl Ui {
    /// Messages unless `quiet`; bars only when also stderr is a terminal.
    pub fn terminal(quiet: bool) -> Self {
        use std::io::IsTerminal;
        Self {
            quiet,
            bars: !quiet && std::io::stderr().is_terminal(),
        }
    }

    /// Nothing printed, nothing drawn (tests).
    pub fn silent() -> Self {
        Self {
            quiet: true,
            bars: false,
        }
    }

    fn say(&self, message: &str) {
        if !self.quiet {
            // xtask is a terminal tool: its messages go to stderr.
            #[allow(clippy::print_stderr)]
            {
                eprintln!("{message}");
            }
        }
    }
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A verified copy was already in the destination; nothing was transferred.
    AlreadyPresent,
    /// Downloaded from this URL.
    Downloaded {
        /// The URL that delivered the verified file.
        url: String,
    },
    /// Copied from this local file.
    Imported {
        /// The source file.
        from: PathBuf,
    },
}

/// One file's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// The published name of the file.
    pub name: String,
    /// Where the verified file now is.
    pub path: PathBuf,
    /// How it got there.
    pub outcome: Outcome,
}

/// The results of a run, one entry per file of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    /// In the plan's order.
    pub files: Vec<FileReport>,
}

impl Report {
    /// A one-line summary such as `2 downloaded, 2 already present`.
    pub fn summary(&self) -> String {
        let count = |pred: fn(&Outcome) -> bool| self.files.iter().filter(|file| pred(&file.outcome)).count();
        let parts = [
            (count(|o| matches!(o, Outcome::Downloaded { .. })), "downloaded"),
            (count(|o| matches!(o, Outcome::Imported { .. })), "imported"),
            (count(|o| matches!(o, Outcome::AlreadyPresent)), "already present"),
        ];
        let parts: Vec<String> = parts
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}"))
            .collect();
        if parts.is_empty() {
            "nothing to do".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

/// Fetches every file of `plan` from `source` into `plan.dest`.
///
/// # Errors
///
/// When a file cannot be obtained: every mirror failed (the error lists each URL and why, then
/// the plan's offline hint), or the `--from` folder lacks it or holds a file that fails
/// verification; also when the destination cannot be written. Files fetched before the failure
/// stay (they are verified); nothing is left under the failing file's final name.
pub fn run(plan: &FetchPlan, source: &Source, ui: &Ui) -> anyhow::Result<Report> {
    std::fs::create_dir_all(&plan.dest).with_context(|| format!("creating {}", plan.dest.display()))?;
    let mut report = Report::default();
    for spec in &plan.files {
        let file_report = match present(&plan.dest, spec, ui)? {
            Some(path) => {
                ui.say(&format!(
                    "{}: already present and verified, not downloaded again",
                    path.display()
                ));
                FileReport {
                    name: spec.name.clone(),
                    path,
                    outcome: Outcome::AlreadyPresent,
                }
            }
            None => match source {
                Source::Mirrors => download(plan, spec, ui)?,
                Source::Dir(dir) => import(dir, &plan.dest, spec, ui)?,
            },
        };
        report.files.push(file_report);
    }
    Ok(report)
}

/// The verified copy of `spec` in `dest`, if any; a copy that fails verification is removed.
fn present(dest: &Path, spec: &FileSpec, ui: &Ui) -> anyhow::Result<Option<PathBuf>> {
    for name in [spec.name.as_str(), spec.raw_name()] {
        let path = dest.join(name);
        if !path.is_file() {
            continue;
        }
        match verify(&path, spec) {
            Ok(_) => return Ok(Some(path)),
            Err(reason) => {
                ui.say(&format!("{}: {reason}; removing it", path.display()));
                std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
            }
        }
    }
    Ok(None)
}

fn download(plan: &FetchPlan, spec: &FileSpec, ui: &Ui) -> anyhow::Result<FileReport> {
    let part = part_path(&plan.dest, spec);
    let mut failures = Vec::new();
    for mirror in &plan.mirrors {
        let url = http::join_url(mirror, &spec.name);
        ui.say(&format!("downloading {url}"));
        let verified = http::download(&url, &part, ui)
            .map_err(|err| format!("{err:#}"))
            .and_then(|_| verify(&part, spec));
        match verified {
            Ok(form) => {
                let path = keep(&part, &plan.dest, spec, form)?;
                ui.say(&format!("{}: verified", path.display()));
                return Ok(FileReport {
                    name: spec.name.clone(),
                    path,
                    outcome: Outcome::Downloaded { url },
                });
            }
            Err(reason) => {
                discard(&part)?;
                ui.say(&format!("{url}: {reason}; trying the next mirror"));
                failures.push((url, reason));
            }
        }
    }
    bail!(all_mirrors_failed(plan, spec, &failures))
}

fn all_mirrors_failed(plan: &FetchPlan, spec: &FileSpec, failures: &[(String, String)]) -> String {
    let mut message = if failures.is_empty() {
        format!("could not fetch {}: no mirror is configured\n", spec.name)
    } else {
        format!("could not fetch {}: every mirror failed\n", spec.name)
    };
    for (url, reason) in failures {
        message.push_str(&format!("  - {url}: {reason}\n"));
    }
    message.push_str(&plan.offline_hint);
    message
}

fn import(dir: &Path, dest: &Path, spec: &FileSpec, ui: &Ui) -> anyhow::Result<FileReport> {
    let candidates = [dir.join(&spec.name), dir.join(spec.raw_name())];
    let Some(from) = candidates.iter().find(|path| path.is_file()) else {
        bail!("{}: neither {} nor {} found", dir.display(), spec.name, spec.raw_name());
    };
    let part = part_path(dest, spec);
    let copied = std::fs::copy(from, &part).map_err(|err| format!("cannot copy it: {err}"));
    match copied.and_then(|_| verify(&part, spec)) {
        Ok(form) => {
            let path = keep(&part, dest, spec, form)?;
            ui.say(&format!(
                "{}: imported from {} and verified",
                path.display(),
                from.display()
            ));
            Ok(FileReport {
                name: spec.name.clone(),
                path,
                outcome: Outcome::Imported { from: from.clone() },
            })
        }
        Err(reason) => {
            discard(&part)?;
            bail!("{}: {reason}; nothing was imported", from.display())
        }
    }
}

fn part_path(dest: &Path, spec: &FileSpec) -> PathBuf {
    dest.join(format!("{}.part", spec.name))
}

/// Renames the verified `.part` file to its final name.
fn keep(part: &Path, dest: &Path, spec: &FileSpec, form: Form) -> anyhow::Result<PathBuf> {
    let path = dest.join(spec.final_name(form));
    std::fs::rename(part, &path).with_context(|| format!("renaming {} to {}", part.display(), path.display()))?;
    Ok(path)
}

fn discard(part: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(part) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            Err(err).with_context(|| format!("removing {}", part.display()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::{FetchPlan, MNIST_MIRRORS};

    #[test]
    fn extra_mirrors_come_first_in_order() {
        let mut plan = FetchPlan::mnist(PathBuf::from("d"));
        plan.prepend_mirrors(&["http://a/".to_owned(), "http://b/".to_owned()]);
        assert_eq!(plan.mirrors[..2], ["http://a/", "http://b/"]);
        assert_eq!(plan.mirrors[2..], MNIST_MIRRORS);
    }

    #[test]
    fn default_plans_use_the_published_checksums() {
        let plan = FetchPlan::mnist(PathBuf::from("d"));
        assert_eq!(plan.files[0].name, "train-images-idx3-ubyte.gz");
        assert_eq!(plan.files[0].md5, "f68b3c2dcbeaaa9fbdd348bbdeb94873");
        let fashion = FetchPlan::fashion_mnist(PathBuf::from("d"));
        assert_eq!(fashion.files[3].md5, "bb300cfdad3c16e7a12a480ee83cd310");
        assert!(
            fashion
                .offline_hint
                .contains("--from /usr/share/datasets/fashion-mnist")
        );
    }
}
