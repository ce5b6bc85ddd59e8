//! Atomic file writes: a temporary file in the same folder, fsync, rename.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::DataError;

/// The write buffer of an [`AtomicFile`]: large writes of a streamed output go out in few
/// system calls.
const WRITE_BUFFER_BYTES: usize = 1 << 20;

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
    let mut file = AtomicFile::create(path)?;
    if let Err(source) = write(&mut file) {
        // Dropping `file` removes the temporary file; the write's error is the one worth reporting.
        return Err(DataError::Io {
            path: path.to_path_buf(),
            source,
        });
    }
    file.commit()
}

/// A file being written atomically, for writers that produce their output piece by piece (a
/// streamed embedding) and may need to come back to its start (an NPY header whose row count is
/// only known at the end).
///
/// It writes (buffered) into a temporary file next to `path`; [`commit`](Self::commit) flushes,
/// fsyncs and renames it over `path`. Dropped without a commit (an error, an interruption), it
/// removes the temporary file and `path` keeps its old content. [`write_atomic`] is this for a
/// single closure.
///
/// ```
/// use std::io::Write;
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("rows.txt");
/// let mut file = ssne_data::AtomicFile::create(&path)?;
/// for row in 0..3 {
///     writeln!(file, "row {row}")?;
/// }
/// assert!(!path.exists()); // nothing appears before the commit
/// file.commit()?;
/// assert_eq!(std::fs::read_to_string(&path)?, "row 0\nrow 1\nrow 2\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct AtomicFile {
    path: PathBuf,
    temp_path: PathBuf,
    /// `None` once committed.
    out: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Creates the temporary file for `path` (in the same folder, so the final rename stays on
    /// one file system).
    ///
    /// # Errors
    ///
    /// [`DataError::Io`] naming `path` when the temporary file cannot be created.
    pub fn create(path: &Path) -> Result<Self, DataError> {
        let (temp_path, file) = create_temp(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            temp_path,
            out: Some(BufWriter::with_capacity(WRITE_BUFFER_BYTES, file)),
        })
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Overwrites the first `bytes.len()` bytes already written (such as a header written with
    /// a placeholder), then goes back to the end.
    ///
    /// # Errors
    ///
    /// [`DataError::Io`] when the file cannot be written, or when fewer bytes than
    /// `bytes.len()` were written so far.
    pub fn rewrite_start(&mut self, bytes: &[u8]) -> Result<(), DataError> {
        let result = self.writer().and_then(|out| {
            out.flush()?;
            let file = out.get_mut();
            let end = file.stream_position()?;
            if end < bytes.len() as u64 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "rewriting more bytes than were written",
                ));
            }
            file.seek(SeekFrom::Start(0))?;
            file.write_all(bytes)?;
            file.seek(SeekFrom::Start(end))?;
            Ok(())
        });
        result.map_err(|source| self.io_error(source))
    }

    /// Flushes and fsyncs the temporary file, then renames it over the final path.
    ///
    /// # Errors
    ///
    /// [`DataError::Io`] naming the final path when a step fails; the temporary file is removed
    /// then.
    pub fn commit(mut self) -> Result<(), DataError> {
        let result = self
            .out
            .take()
            .ok_or_else(|| std::io::Error::other("already committed"))
            .and_then(|out| {
                let file = out.into_inner().map_err(std::io::IntoInnerError::into_error)?;
                file.sync_all()?;
                std::fs::rename(&self.temp_path, &self.path)
            });
        match result {
            Ok(()) => {
                sync_dir(&self.path);
                Ok(())
            }
            Err(source) => {
                // Best effort: the commit already failed, and that is the error worth reporting.
                let _ = std::fs::remove_file(&self.temp_path);
                Err(self.io_error(source))
            }
        }
    }

    fn writer(&mut self) -> std::io::Result<&mut BufWriter<File>> {
        self.out
            .as_mut()
            .ok_or_else(|| std::io::Error::other("already committed"))
    }

    fn io_error(&self, source: std::io::Error) -> DataError {
        DataError::Io {
            path: self.path.clone(),
            source,
        }
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer()?.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.writer()?.write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer()?.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            // Not committed: the half-written temporary file must not stay behind.
            let _ = std::fs::remove_file(&self.temp_path);
        }
    }
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
