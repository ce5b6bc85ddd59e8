//! Deciding whether a file is the one we want: published checksum, then the IDX header.

use std::io::Read;
use std::path::Path;

use md5::{Digest, Md5};
use ssne_data::idx::{self, IdxInfo};
use ssne_data::mnist::FileKind;

use crate::fetch::FileSpec;

/// How a verified file is stored, which decides its final name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// gzip-compressed: kept under the published `.gz` name.
    Gz,
    /// Decompressed: kept under the name without `.gz`.
    Raw,
}

/// Lower-case hex MD5 of `bytes`.
pub fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Checks `path` against `spec` and says in which form it is.
///
/// A gzip file passes when its MD5 is the published one, or when its decompressed content has
/// the published raw MD5 (the same data in another gzip wrapper, as Debian ships it). A raw file
/// passes on the raw MD5. Either way the IDX header must then hold the expected kind of data.
///
/// # Errors
///
/// A one-line reason, for the mirror list or the `--from` error.
pub fn verify(path: &Path, spec: &FileSpec) -> Result<Form, String> {
    let bytes = std::fs::read(path).map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    let form = checksum(&bytes, spec)?;
    match (idx::inspect(path), spec.kind) {
        (Ok(IdxInfo::Images { .. }), FileKind::Images) | (Ok(IdxInfo::Labels { .. }), FileKind::Labels) => Ok(form),
        (Ok(info), kind) => Err(format!(
            "checksum matches but the IDX header says {info:?}, expected {kind:?}"
        )),
        (Err(err), _) => Err(format!("checksum matches but the IDX file is invalid: {err}")),
    }
}

fn checksum(bytes: &[u8], spec: &FileSpec) -> Result<Form, String> {
    let md5 = md5_hex(bytes);
    let is_gzip = bytes.starts_with(&[0x1f, 0x8b]);
    if is_gzip && md5 == spec.md5 {
        return Ok(Form::Gz);
    }
    let Some(raw_md5) = &spec.raw_md5 else {
        return Err(format!("checksum mismatch: md5 {md5}, expected {}", spec.md5));
    };
    if !is_gzip {
        return if &md5 == raw_md5 {
            Ok(Form::Raw)
        } else {
            Err(format!(
                "checksum mismatch: md5 {md5} (uncompressed), expected {raw_md5}"
            ))
        };
    }
    let mut content = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut content)
        .map_err(|err| {
            format!(
                "checksum mismatch: md5 {md5}, expected {}, and the gzip stream is corrupt: {err}",
                spec.md5
            )
        })?;
    let content_md5 = md5_hex(&content);
    if &content_md5 == raw_md5 {
        Ok(Form::Gz)
    } else {
        Err(format!(
            "checksum mismatch: md5 {md5}, expected {}; decompressed md5 {content_md5}, expected {raw_md5}",
            spec.md5
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::md5_hex;

    #[test]
    fn md5_of_known_strings() {
        // RFC 1321, appendix A.5.
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
    }
}
