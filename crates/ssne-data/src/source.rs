//! Opening files and readers as byte streams, gunzipped when they start with the gzip magic.
//!
//! Everything is streamed: a reader decides how much of a (possibly decompressing) source it
//! takes, so a small compressed file cannot make it hold more than the bytes it asked for.

use std::fs::File;
use std::io::{BufReader, Cursor, ErrorKind, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use crate::error::DataError;

/// The first two bytes of every gzip member.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// How much decoded data a [`Decoded`] stream buffers. Large enough that a small corrupt gzip
/// file fails in its first read (as [`DataError::Decompress`]) rather than showing garbage
/// bytes as a header; small enough not to matter next to any data set.
const BUFFER_BYTES: usize = 64 * 1024;

/// Whether `bytes` start like a gzip stream (the extension is never trusted).
pub(crate) fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// Reads all of `path`.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|source| io_error(path, source))
}

fn io_error(path: &Path, source: std::io::Error) -> DataError {
    DataError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The first bytes already taken from the reader to look for the gzip magic, then the rest.
type Peeked<R> = std::io::Chain<Cursor<Vec<u8>>, R>;

/// A reader that remembers whether it failed, so that an error coming out of the gzip decoder
/// can be told apart: the disk's fault ([`DataError::Io`]) or the stream's
/// ([`DataError::Decompress`]).
struct Watched<R> {
    inner: R,
    failed: bool,
}

impl<R: Read> Read for Watched<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let result = self.inner.read(buf);
        if result.as_ref().is_err_and(|err| err.kind() != ErrorKind::Interrupted) {
            self.failed = true;
        }
        result
    }
}

enum Stream<R: Read> {
    Raw(Watched<Peeked<R>>),
    // MultiGzDecoder, not GzDecoder: concatenated members (as `cat a.gz b.gz`) are valid gzip.
    Gzip(MultiGzDecoder<Watched<Peeked<R>>>),
}

impl<R: Read> Stream<R> {
    fn watched(&self) -> &Watched<Peeked<R>> {
        match self {
            Stream::Raw(watched) => watched,
            Stream::Gzip(decoder) => decoder.get_ref(),
        }
    }
}

impl<R: Read> Read for Stream<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Raw(watched) => watched.read(buf),
            Stream::Gzip(decoder) => decoder.read(buf),
        }
    }
}

/// The decoded bytes of a file or reader: gunzipped when it starts with the gzip magic, as they
/// are otherwise. Read it through [`fill`](Self::fill) and [`consume`](Self::consume); errors are
/// [`DataError`]s naming the source.
pub(crate) struct Decoded<R: Read> {
    stream: BufReader<Stream<R>>,
    path: PathBuf,
}

impl Decoded<File> {
    /// Opens `path`.
    pub(crate) fn open(path: &Path) -> Result<Self, DataError> {
        let file = File::open(path).map_err(|source| io_error(path, source))?;
        Decoded::new(file, path)
    }
}

impl<R: Read> Decoded<R> {
    /// Wraps `reader`, naming `path` in errors. Reads the first two bytes to look for the gzip
    /// magic.
    pub(crate) fn new(mut reader: R, path: &Path) -> Result<Self, DataError> {
        let mut head = Vec::with_capacity(GZIP_MAGIC.len());
        (&mut reader)
            .take(GZIP_MAGIC.len() as u64)
            .read_to_end(&mut head)
            .map_err(|source| io_error(path, source))?;
        let gzip = is_gzip(&head);
        let watched = Watched {
            inner: Cursor::new(head).chain(reader),
            failed: false,
        };
        let stream = if gzip {
            Stream::Gzip(MultiGzDecoder::new(watched))
        } else {
            Stream::Raw(watched)
        };
        Ok(Decoded {
            stream: BufReader::with_capacity(BUFFER_BYTES, stream),
            path: path.to_path_buf(),
        })
    }

    /// Whether the stream is gunzipped (so its decoded length is unknown until its end).
    pub(crate) fn is_gzip(&self) -> bool {
        matches!(self.stream.get_ref(), Stream::Gzip(_))
    }

    /// The source named in errors.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The next decoded bytes, empty at the end of the stream. Decodes at most one buffer
    /// ([`BUFFER_BYTES`]) per call.
    pub(crate) fn fill(&mut self) -> Result<&[u8], DataError> {
        loop {
            match std::io::BufRead::fill_buf(&mut self.stream) {
                Ok(_) => break,
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) => return Err(self.error(err)),
            }
        }
        // The buffer was just filled, so this returns it without reading again.
        std::io::BufRead::fill_buf(&mut self.stream).map_err(|err| io_error(&self.path, err))
    }

    /// Marks `n` bytes of the last [`fill`](Self::fill) as used.
    pub(crate) fn consume(&mut self, n: usize) {
        std::io::BufRead::consume(&mut self.stream, n);
    }

    /// Reads until `buf` is full or the stream ends; returns the number of bytes read.
    pub(crate) fn read_up_to(&mut self, buf: &mut [u8]) -> Result<usize, DataError> {
        let mut filled = 0;
        while filled < buf.len() {
            let available = self.fill()?;
            if available.is_empty() {
                break;
            }
            let n = available.len().min(buf.len() - filled);
            buf[filled..filled + n].copy_from_slice(&available[..n]);
            self.consume(n);
            filled += n;
        }
        Ok(filled)
    }

    fn error(&self, err: std::io::Error) -> DataError {
        let stream = self.stream.get_ref();
        match stream {
            Stream::Gzip(_) if !stream.watched().failed => DataError::Decompress {
                path: self.path.clone(),
                source: err,
            },
            _ => io_error(&self.path, err),
        }
    }
}

/// The file name without a trailing `.gz` and without the extension after that, for data set
/// names: `train-images-idx3-ubyte.gz` -> `train-images-idx3-ubyte`, `points.csv` -> `points`.
pub(crate) fn stem(path: &Path) -> String {
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let without_gz = file_name.strip_suffix(".gz").unwrap_or(&file_name);
    match without_gz.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && matches!(ext, "csv" | "tsv" | "txt" | "npy") => stem.to_owned(),
        _ => without_gz.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::io::{ErrorKind, Read, Write};
    use std::path::Path;

    use super::{Decoded, stem};
    use crate::DataError;

    fn decode_all(bytes: &[u8]) -> Result<Vec<u8>, DataError> {
        let mut decoded = Decoded::new(bytes, Path::new("x"))?;
        let mut out = Vec::new();
        loop {
            let chunk = decoded.fill()?;
            if chunk.is_empty() {
                return Ok(out);
            }
            out.extend_from_slice(chunk);
            let n = chunk.len();
            decoded.consume(n);
        }
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn gzip_is_detected_from_content() {
        let gz = gzip(b"hello");
        assert_eq!(decode_all(&gz).unwrap(), b"hello");
        assert_eq!(decode_all(b"hello").unwrap(), b"hello");
        // Shorter than the magic.
        assert_eq!(decode_all(b"h").unwrap(), b"h");
        assert_eq!(decode_all(b"").unwrap(), b"");
        let mut concatenated = gz.clone();
        concatenated.extend(gzip(b" world"));
        assert_eq!(decode_all(&concatenated).unwrap(), b"hello world");
        let mut corrupt = gz;
        let mid = corrupt.len() / 2;
        corrupt[mid] ^= 0xff;
        corrupt.truncate(corrupt.len() - 3);
        assert!(matches!(decode_all(&corrupt), Err(DataError::Decompress { .. })));
    }

    /// Gives `good` bytes, then fails like a disk would.
    struct Failing<'a> {
        good: &'a [u8],
    }

    impl Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.good.is_empty() {
                return Err(std::io::Error::from(ErrorKind::PermissionDenied));
            }
            let n = self.good.read(buf)?;
            Ok(n)
        }
    }

    #[test]
    fn a_failing_reader_is_io_even_under_gzip() {
        let gz = gzip(&[7; 100_000]);
        let mut decoded = Decoded::new(
            Failing {
                good: &gz[..gz.len() / 2],
            },
            Path::new("x"),
        )
        .unwrap();
        let mut buf = vec![0; 200_000];
        assert!(matches!(decoded.read_up_to(&mut buf), Err(DataError::Io { .. })));
    }

    #[test]
    fn read_up_to_stops_at_the_end() {
        let mut decoded = Decoded::new(&b"abcdef"[..], Path::new("x")).unwrap();
        let mut buf = [0; 4];
        assert_eq!(decoded.read_up_to(&mut buf).unwrap(), 4);
        assert_eq!(&buf, b"abcd");
        assert_eq!(decoded.read_up_to(&mut buf).unwrap(), 2);
        assert_eq!(decoded.read_up_to(&mut buf).unwrap(), 0);
        assert_eq!(decoded.path(), Path::new("x"));
    }

    #[test]
    fn stems() {
        assert_eq!(
            stem(Path::new("a/train-images-idx3-ubyte.gz")),
            "train-images-idx3-ubyte"
        );
        assert_eq!(stem(Path::new("points.csv")), "points");
        assert_eq!(stem(Path::new("x.npy")), "x");
        assert_eq!(stem(Path::new("t10k-labels.idx1-ubyte")), "t10k-labels.idx1-ubyte");
    }
}
