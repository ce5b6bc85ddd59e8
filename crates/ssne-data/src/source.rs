//! Reading whole files into memory, gunzipping them when they start with the gzip magic.

use std::io::Read;
use std::path::Path;

use flate2::read::MultiGzDecoder;

use crate::error::DataError;

/// The first two bytes of every gzip member.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Whether `bytes` start like a gzip stream (the extension is never trusted).
pub(crate) fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// Reads all of `path`.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads all of `reader`, naming `source` in errors.
pub(crate) fn read_all(mut reader: impl Read, source: &Path) -> Result<Vec<u8>, DataError> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).map_err(|err| DataError::Io {
        path: source.to_path_buf(),
        source: err,
    })?;
    Ok(bytes)
}

/// Returns `bytes` gunzipped when they are gzip, unchanged otherwise.
///
/// The compressed bytes are already in memory, so any error here is the stream's fault and
/// becomes [`DataError::Decompress`], never [`DataError::Io`].
pub(crate) fn decode(bytes: Vec<u8>, source: &Path) -> Result<Vec<u8>, DataError> {
    if !is_gzip(&bytes) {
        return Ok(bytes);
    }
    let mut decoded = Vec::with_capacity(bytes.len().saturating_mul(2));
    // MultiGzDecoder, not GzDecoder: concatenated members (as `cat a.gz b.gz`) are valid gzip.
    MultiGzDecoder::new(bytes.as_slice())
        .read_to_end(&mut decoded)
        .map_err(|err| DataError::Decompress {
            path: source.to_path_buf(),
            source: err,
        })?;
    Ok(decoded)
}

/// [`read_file`] then [`decode`].
pub(crate) fn read_decoded(path: &Path) -> Result<Vec<u8>, DataError> {
    decode(read_file(path)?, path)
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
    use std::io::Write;
    use std::path::Path;

    use super::{decode, stem};
    use crate::DataError;

    #[test]
    fn gzip_is_detected_from_content() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(b"hello").unwrap();
        let gz = encoder.finish().unwrap();
        assert_eq!(decode(gz.clone(), Path::new("x")).unwrap(), b"hello");
        assert_eq!(decode(b"hello".to_vec(), Path::new("x.gz")).unwrap(), b"hello");
        let mut corrupt = gz;
        let mid = corrupt.len() / 2;
        corrupt[mid] ^= 0xff;
        corrupt.truncate(corrupt.len() - 3);
        assert!(matches!(
            decode(corrupt, Path::new("x")),
            Err(DataError::Decompress { .. })
        ));
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
