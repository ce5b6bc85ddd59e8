//! Atomic file writes: a temporary file in the same folder, fsync, rename.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::DataError;

/// Distinguishes temporary files of concurrent writes from one process.
static NEXT_TEMP_ID: AtomicU64 = AtomicU64::new(0);

/// Writes a file so that `path` either keeps its old content or gets the complete new one.
///
/// `write` fills a temporary file in the same folder (so the final rename stays on one file
/// system); the file is flushed and fsynced, then renamed over `path`, and the folder is fsynced
/// where the platform allows. If `write` or any step fails, the temporary file is removed and
/// nothing appears under `path`.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("out.txt");
/// ssne_data::write_atomic(&path, |out| out.write_all(b"done"))?;
/// assert_eq!(std::fs::read(&path)?, b"done");
///
/// let failed = ssne_data::write_atomic(&dir.path().join("never.txt"), |out| {
///     out.write_all(b"half")?;
///     Err(std::io::Error::other("interrupted"))
/// });
/// assert!(failed.is_err());
/// assert_eq!(std::fs::read_dir(dir.path())?.count(), 1); // only out.txt
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`DataError::Io`] naming `path` when the temporary file cannot be created, written, synced
/// or renamed, or when `write` fails.
pub fn write_atomic<F>(path: &Path, write: F) -> Result<(), DataError>
where
    F: FnOnce(&mut dyn Write) -> std::io::Result<()>,
{
    let io_error = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let (temp_path, file) = create_temp(path).map_err(io_error)?;
    let result = fill(file, write).and_then(|()| std::fs::rename(&temp_path, path));
    if let Err(source) = result {
        // Best effort: the write already failed, and that is the error worth reporting.
        let _ = std::fs::remove_file(&temp_path);
        return Err(io_error(source));
    }
    sync_dir(path);
    Ok(())
}

fn fill<F>(file: File, write: F) -> std::io::Result<()>
where
    F: FnOnce(&mut dyn Write) -> std::io::Result<()>,
{
    let mut out = BufWriter::new(file);
    write(&mut out)?;
    let file = out.into_inner().map_err(std::io::IntoInnerError::into_error)?;
    file.sync_all()
}

/// Creates `.<name>.<pid>.<n>.tmp` next to `path`, failing rather than reusing an existing file.
fn create_temp(path: &Path) -> std::io::Result<(PathBuf, File)> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path has no file name"))?
        .to_string_lossy();
    let pid = std::process::id();
    loop {
        let temp_id = NEXT_TEMP_ID.fetch_add(1, Ordering::Relaxed);
        let temp_path = path.with_file_name(format!(".{name}.{pid}.{temp_id}.tmp"));
        match OpenOptions::new().write(true).create_new(true).open(&temp_path) {
            Ok(file) => return Ok((temp_path, file)),
            // A leftover of a crashed process with a recycled pid: take the next number.
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(err) => return Err(err),
        }
    }
}

/// Makes the rename durable on Unix; elsewhere (and on failure) the data is already synced.
fn sync_dir(path: &Path) {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        if let Ok(dir) = File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::write_atomic;
    use crate::DataError;

    #[test]
    fn replaces_existing_content_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"old").unwrap();
        write_atomic(&path, |out| out.write_all(b"new content")).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new content");
        let failed = write_atomic(&path, |out| {
            out.write_all(b"partial")?;
            Err(std::io::Error::other("boom"))
        });
        assert!(matches!(failed, Err(DataError::Io { .. })));
        assert_eq!(std::fs::read(&path).unwrap(), b"new content");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn missing_folder_is_an_io_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/dir/f");
        match write_atomic(&path, |out| out.write_all(b"x")) {
            Err(DataError::Io { path: reported, .. }) => assert_eq!(reported, path),
            other => panic!("expected an Io error, got {other:?}"),
        }
    }
}
