//! The framing every file this crate writes shares: magic bytes, a format
//! version, the payload length and a CRC-32 of the payload, then the payload.
//! One framing means one set of checks for truncation, corruption and files
//! from another version, whatever the payload is.

/// Magic (8) + version (4) + payload length (8) + CRC-32 (4).
pub(crate) const HEADER_LEN: usize = 8 + 4 + 8 + 4;
/// Refuse payloads above this size before trusting the length field.
const MAX_PAYLOAD: u64 = 4 << 30;

/// What kind of file a framing holds, for the checks and their messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FileKind {
    /// The first 8 bytes.
    pub(crate) magic: [u8; 8],
    /// The payload layout this build reads and writes.
    pub(crate) version: u32,
    /// How errors name the file's kind, e.g. `"model file"`.
    pub(crate) name: &'static str,
    /// What to do with a file of another format version.
    pub(crate) on_other_version: &'static str,
}

/// Frames `payload` as a file of `kind`.
pub(crate) fn seal(kind: FileKind, payload: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER_LEN + payload.len());
    bytes.extend_from_slice(&kind.magic);
    bytes.extend_from_slice(&kind.version.to_le_bytes());
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

/// The payload of `bytes` after checking the framing; the error says what is wrong.
pub(crate) fn open(kind: FileKind, bytes: &[u8]) -> Result<&[u8], String> {
    if bytes.len() < HEADER_LEN || bytes[..8] != kind.magic {
        return Err(format!("not a salient-sne {} (wrong magic bytes)", kind.name));
    }
    let word = |range: std::ops::Range<usize>| {
        bytes[range]
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
    };
    let version = word(8..12) as u32;
    if version != kind.version {
        return Err(format!(
            "{} format version {version}, but this salient-sne reads version {}: {}",
            kind.name, kind.version, kind.on_other_version
        ));
    }
    let len = word(12..20);
    let crc = word(20..24) as u32;
    let payload = &bytes[HEADER_LEN..];
    if len > MAX_PAYLOAD || payload.len() as u64 != len {
        return Err(format!(
            "truncated or padded: the header announces {len} payload bytes, the file has {}",
            payload.len()
        ));
    }
    if crc32fast::hash(payload) != crc {
        return Err("checksum mismatch: the file is corrupt".into());
    }
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIND: FileKind = FileKind {
        magic: *b"SSNETEST",
        version: 3,
        name: "test file",
        on_other_version: "use the matching release",
    };

    #[test]
    fn round_trip_and_every_defect_is_named() {
        let sealed = seal(KIND, b"payload");
        assert_eq!(open(KIND, &sealed).unwrap(), b"payload");
        let other = FileKind { version: 4, ..KIND };
        let err = open(other, &sealed).unwrap_err();
        assert!(
            err.contains("version 3") && err.contains("use the matching release"),
            "{err}"
        );
        assert!(
            open(KIND, &sealed[..sealed.len() - 1])
                .unwrap_err()
                .contains("truncated")
        );
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(open(KIND, &flipped).unwrap_err().contains("checksum"));
        assert!(open(KIND, b"short").unwrap_err().contains("magic"));
    }
}
