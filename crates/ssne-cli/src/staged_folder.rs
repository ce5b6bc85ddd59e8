//! A folder of outputs written as a set ([`StagedFolder`]): it appears whole or not at all.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

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
}
