//! Writing results: embeddings (CSV or NPY by extension), JSON and PNG files, always atomically
//! through `ssne_data::write_atomic`, so a failed run leaves no half-written file; and folders of
//! results ([`StagedFolder`]), which appear whole or not at all.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use ssne_data::ndarray::{Array2, ArrayView2, Axis, concatenate};

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
    Ok(filled == head.len() && head == ssne_model::checkpoint::MAGIC)
}

/// Creates the folder that will hold `path`, so a fresh `--out a/b/c.csv` just works.
pub(crate) fn ensure_parent(path: &Path) -> anyhow::Result<()> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => std::fs::create_dir_all(parent)
            .with_context(|| format!("{}: cannot create the output folder", parent.display())),
        _ => Ok(()),
    }
}

/// A folder of outputs written as a set (`saliency --out`, `demo --out`): every file goes into a
/// hidden sibling folder, which is synced to disk and renamed into place only when the command
/// has written all of it. A run that fails halfway leaves no folder that looks complete, and an
/// existing folder is replaced only with `--force`, whole: the new folder is built, the old one
/// moved aside, the new one renamed in, and only then the old one removed.
///
/// Dropping it without [`StagedFolder::finish`] (an error on the way) removes the hidden folder.
#[derive(Debug)]
pub(crate) struct StagedFolder {
    target: PathBuf,
    staging: PathBuf,
    force: bool,
    finished: bool,
}

impl StagedFolder {
    /// Starts building `target`. Refuses, before any work, when `target` is a file, or a folder
    /// that is not empty and `force` was not given (an empty folder holds nothing to lose).
    pub(crate) fn create(target: &Path, force: bool) -> anyhow::Result<Self> {
        let Some(name) = target.file_name() else {
            bail!("{}: the output folder needs a name of its own", target.display());
        };
        check_folder_target(target, force)?;
        let parent = parent_or_current(target);
        std::fs::create_dir_all(&parent)
            .with_context(|| format!("{}: cannot create the output folder", parent.display()))?;
        // A sibling, so that the final rename stays on one file system and is atomic; the pid
        // keeps two runs into the same parent apart.
        let staging = parent.join(format!(".{}.partial-{}", name.to_string_lossy(), std::process::id()));
        if staging.exists() {
            // Left by a crashed run that had this pid; nothing else writes there.
            std::fs::remove_dir_all(&staging)
                .with_context(|| format!("{}: cannot remove an old partial folder", staging.display()))?;
        }
        std::fs::create_dir(&staging)
            .with_context(|| format!("{}: cannot create the output folder", staging.display()))?;
        Ok(StagedFolder {
            target: target.to_path_buf(),
            staging,
            force,
            finished: false,
        })
    }

    /// Where the files go while the folder is being built.
    pub(crate) fn path(&self) -> &Path {
        &self.staging
    }

    /// Syncs the finished folder, moves it into place (replacing an existing one with `force`)
    /// and returns the final paths of `files`, which were written under [`StagedFolder::path`].
    pub(crate) fn finish(mut self, files: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
        sync_tree(&self.staging)?;
        // Checked again: the target may have appeared while the command ran.
        check_folder_target(&self.target, self.force)?;
        let old = self.staging.with_file_name(format!(
            ".{}.old-{}",
            self.target.file_name().map(|n| n.to_string_lossy()).unwrap_or_default(),
            std::process::id()
        ));
        let replacing = self.target.exists();
        if replacing {
            std::fs::rename(&self.target, &old)
                .with_context(|| format!("{}: cannot move the old folder aside", self.target.display()))?;
        }
        if let Err(err) = std::fs::rename(&self.staging, &self.target) {
            if replacing {
                // Put the old folder back: a failed run must not cost the user their last one.
                let _ = std::fs::rename(&old, &self.target);
            }
            return Err(err)
                .with_context(|| format!("{}: cannot move the new folder into place", self.target.display()));
        }
        self.finished = true;
        sync_dir(&parent_or_current(&self.target));
        if replacing {
            std::fs::remove_dir_all(&old).with_context(|| {
                format!(
                    "{} is in place, but the folder it replaced is left at {}",
                    self.target.display(),
                    old.display()
                )
            })?;
        }
        Ok(files
            .iter()
            .map(|f| match f.strip_prefix(&self.staging) {
                Ok(inside) => self.target.join(inside),
                Err(_) => f.clone(),
            })
            .collect())
    }
}

impl Drop for StagedFolder {
    fn drop(&mut self) {
        if !self.finished {
            // Best effort: the error that stopped the run is the one worth reporting.
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

/// Refuses a file as an output folder, and a folder with something in it unless `force`.
fn check_folder_target(target: &Path, force: bool) -> anyhow::Result<()> {
    let metadata = match std::fs::symlink_metadata(target) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("{}: cannot look at the output folder", target.display())),
    };
    if !metadata.is_dir() {
        bail!(
            "{}: this is a file, and the output is a folder; choose another --out",
            target.display()
        );
    }
    let mut entries =
        std::fs::read_dir(target).with_context(|| format!("{}: cannot list the output folder", target.display()))?;
    if !force && entries.next().is_some() {
        bail!(
            "{}: this folder exists and is not empty; give --force to replace it, or choose another --out",
            target.display()
        );
    }
    Ok(())
}

/// The folder holding `path` (`.` for a bare name).
fn parent_or_current(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Flushes every file and folder under `dir` to disk, so that the folder renamed into place is
/// complete after a crash too, whatever wrote its files.
fn sync_tree(dir: &Path) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("{}: cannot list the folder", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("{}: cannot list the folder", dir.display()))?;
        let path = entry.path();
        let kind = entry
            .file_type()
            .with_context(|| format!("{}: cannot read its type", path.display()))?;
        if kind.is_dir() {
            sync_tree(&path)?;
        } else if kind.is_file() {
            std::fs::File::open(&path)
                .and_then(|f| f.sync_all())
                .with_context(|| format!("{}: cannot flush it to disk", path.display()))?;
        }
    }
    sync_dir(dir);
    Ok(())
}

/// Flushes a folder's entries (the names of its files) to disk; best effort, as not every
/// platform and file system can sync a folder.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(dir) = std::fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Writes 2-D coordinates: CSV `x,y[,label][,shift]` or NPY `n x 2` (labels and shifts are
/// not part of the NPY).
pub(crate) fn write_embedding(
    path: &Path,
    embedding: ArrayView2<'_, f32>,
    labels: Option<&[u32]>,
    shifts: Option<&[f32]>,
) -> anyhow::Result<()> {
    ensure_parent(path)?;
    match TableFormat::from_path(path)? {
        TableFormat::Npy => ssne_data::npy::write_f32(path, &embedding)?,
        TableFormat::Csv => {
            let mut header = vec!["x", "y"];
            let mut columns = vec![embedding.to_owned()];
            if let Some(labels) = labels {
                // Labels below 2^24 are exact in f32, and the writer prints integral values
                // without a fraction, so the column reads back as integers.
                header.push("label");
                columns.push(Array2::from_shape_fn((labels.len(), 1), |(i, _)| labels[i] as f32));
            }
            if let Some(shifts) = shifts {
                header.push("shift");
                columns.push(Array2::from_shape_fn((shifts.len(), 1), |(i, _)| shifts[i]));
            }
            let views: Vec<_> = columns.iter().map(|c| c.view()).collect();
            let table =
                concatenate(Axis(1), &views).context("the labels or shifts do not match the embedded points")?;
            ssne_data::csv::write_f32(path, &header, table.view())?;
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("listing")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_folder_appears_only_when_finished() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("maps");
        let staged = StagedFolder::create(&target, false).expect("starts");
        std::fs::create_dir(staged.path().join("sub")).expect("created");
        let file = staged.path().join("sub").join("a.npy");
        std::fs::write(&file, b"a").expect("written");
        assert!(!target.exists(), "the target appears before it is complete");
        let files = staged.finish(&[file]).expect("finishes");
        assert_eq!(files, vec![target.join("sub").join("a.npy")]);
        assert_eq!(names(dir.path()), vec!["maps"]);
        assert_eq!(names(&target.join("sub")), vec!["a.npy"]);
    }

    #[test]
    fn a_run_that_stops_halfway_leaves_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("maps");
        {
            let staged = StagedFolder::create(&target, false).expect("starts");
            std::fs::write(staged.path().join("a.npy"), b"a").expect("written");
            // Dropped without finish: the command failed.
        }
        assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
    }

    #[test]
    fn an_existing_folder_is_replaced_whole_only_with_force() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("maps");
        std::fs::create_dir(&target).expect("created");
        std::fs::write(target.join("old.png"), b"old").expect("written");
        let err = StagedFolder::create(&target, false).expect_err("refused");
        assert_eq!(
            err.to_string(),
            format!(
                "{}: this folder exists and is not empty; give --force to replace it, or choose another --out",
                target.display()
            )
        );
        assert_eq!(names(&target), vec!["old.png"]);
        let staged = StagedFolder::create(&target, true).expect("starts");
        std::fs::write(staged.path().join("new.png"), b"new").expect("written");
        staged.finish(&[]).expect("finishes");
        assert_eq!(names(&target), vec!["new.png"]);
        assert_eq!(names(dir.path()), vec!["maps"]);
    }

    #[test]
    fn a_folder_that_appears_during_the_run_is_not_replaced_without_force() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("maps");
        let staged = StagedFolder::create(&target, false).expect("starts");
        std::fs::create_dir(&target).expect("created");
        std::fs::write(target.join("theirs.txt"), b"theirs").expect("written");
        let err = staged.finish(&[]).expect_err("refused");
        assert!(
            err.to_string()
                .ends_with("give --force to replace it, or choose another --out"),
            "{err}"
        );
        assert_eq!(names(&target), vec!["theirs.txt"]);
        assert_eq!(names(dir.path()), vec!["maps"]);
    }

    #[test]
    fn an_empty_folder_is_taken_and_a_file_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).expect("created");
        StagedFolder::create(&empty, false)
            .expect("an empty folder is taken")
            .finish(&[])
            .expect("finishes");
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").expect("written");
        let err = StagedFolder::create(&file, true).expect_err("refused");
        assert_eq!(
            err.to_string(),
            format!(
                "{}: this is a file, and the output is a folder; choose another --out",
                file.display()
            )
        );
        assert_eq!(names(dir.path()), vec!["empty", "file"]);
    }

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
