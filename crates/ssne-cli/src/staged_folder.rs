//! Output folders written as a set: every file goes into a hidden sibling folder, which is
//! renamed into place only when the command has written all of it. A run that fails halfway
//! leaves no folder that looks complete, and an existing folder is replaced only with `--force`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

/// A folder under construction beside its final place; removed unless [`StagedFolder::finish`]
/// is reached.
#[derive(Debug)]
pub(crate) struct StagedFolder {
    target: PathBuf,
    staging: PathBuf,
    finished: bool,
}

impl StagedFolder {
    /// Starts building `target`. Refuses, before any work, when `target` is a file, or a folder
    /// that is not empty and `force` was not given (an empty folder holds nothing to lose).
    pub(crate) fn create(target: &Path, force: bool) -> anyhow::Result<Self> {
        let Some(name) = target.file_name() else {
            bail!("{}: the output folder needs a name", target.display());
        };
        if target.is_file() {
            bail!("{}: this is a file, and the output is a folder", target.display());
        }
        if !force && target.is_dir() && !is_empty(target)? {
            bail!(
                "{}: this folder exists and is not empty; give --force to replace it, or choose another --out",
                target.display()
            );
        }
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).with_context(|| format!("{}: cannot create the folder", parent.display()))?;
        // Same parent, so the final rename cannot cross file systems.
        let staging = parent.join(format!(".{}.partial-{}", name.to_string_lossy(), std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging)
                .with_context(|| format!("{}: cannot remove an old partial folder", staging.display()))?;
        }
        std::fs::create_dir(&staging).with_context(|| format!("{}: cannot create the folder", staging.display()))?;
        Ok(StagedFolder {
            target: target.to_path_buf(),
            staging,
            finished: false,
        })
    }

    /// Where the files go while the folder is being built.
    pub(crate) fn path(&self) -> &Path {
        &self.staging
    }

    /// Moves the finished folder into place (replacing an existing one) and returns the final
    /// paths of `files`, which were written under [`StagedFolder::path`].
    pub(crate) fn finish(mut self, files: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
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
                // Put the old folder back: the failed run must not cost the user their last one.
                let _ = std::fs::rename(&old, &self.target);
            }
            return Err(err)
                .with_context(|| format!("{}: cannot move the new folder into place", self.target.display()));
        }
        self.finished = true;
        if replacing {
            std::fs::remove_dir_all(&old)
                .with_context(|| format!("{}: cannot remove the old folder", old.display()))?;
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

fn is_empty(dir: &Path) -> anyhow::Result<bool> {
    let mut entries = std::fs::read_dir(dir).with_context(|| format!("{}: cannot list the folder", dir.display()))?;
    Ok(entries.next().is_none())
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
        let file = staged.path().join("a.npy");
        std::fs::write(&file, b"a").expect("written");
        assert!(!target.exists(), "the target appears before it is complete");
        let files = staged.finish(&[file]).expect("finishes");
        assert_eq!(files, vec![target.join("a.npy")]);
        assert_eq!(names(dir.path()), vec!["maps"]);
        assert_eq!(names(&target), vec!["a.npy"]);
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
        assert!(err.to_string().contains("give --force to replace it"), "{err}");
        assert_eq!(names(&target), vec!["old.png"]);
        let staged = StagedFolder::create(&target, true).expect("starts");
        std::fs::write(staged.path().join("new.png"), b"new").expect("written");
        staged.finish(&[]).expect("finishes");
        assert_eq!(names(&target), vec!["new.png"]);
        assert_eq!(names(dir.path()), vec!["maps"]);
    }

    #[test]
    fn an_empty_folder_or_a_file_as_target() {
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
        assert!(err.to_string().contains("this is a file"), "{err}");
    }
}
