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

/// Decodes a whole payload, refusing trailing bytes.
///
/// bincode allocates a string or byte vector of a length field's size before
/// reading its bytes, so without a limit one forged length inside a payload
/// with a valid CRC could ask for any amount of memory. The limit is the
/// smallest power of four at or above `DECODE_BYTES_PER_PAYLOAD_BYTE` times the
/// payload length (bincode counts decoded in-memory bytes against it; a varint
/// `u64` is one byte on disk and eight in memory), so a payload can never make
/// the decoder allocate more than 32 times its own length.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(payload: &[u8]) -> Result<T, String> {
    let wanted = (payload.len() as u64).saturating_mul(DECODE_BYTES_PER_PAYLOAD_BYTE);
    let bits = wanted.max(1).next_power_of_two().trailing_zeros().max(MIN_LIMIT_BITS);
    // Round up to the next even exponent: one instantiation per power of four.
    let bits = bits + (bits - MIN_LIMIT_BITS) % 2;
    let (value, read) = match bits {
        16 => decode_limited::<T, { 1 << 16 }>(payload),
        18 => decode_limited::<T, { 1 << 18 }>(payload),
        20 => decode_limited::<T, { 1 << 20 }>(payload),
        22 => decode_limited::<T, { 1 << 22 }>(payload),
        24 => decode_limited::<T, { 1 << 24 }>(payload),
        26 => decode_limited::<T, { 1 << 26 }>(payload),
        28 => decode_limited::<T, { 1 << 28 }>(payload),
        30 => decode_limited::<T, { 1 << 30 }>(payload),
        32 => decode_limited::<T, { 1 << 32 }>(payload),
        34 => decode_limited::<T, { 1 << 34 }>(payload),
        _ => decode_limited::<T, { 1 << 36 }>(payload),
    }
    .map_err(|e| match e {
        bincode::error::DecodeError::LimitExceeded => {
            "undecodable contents: a length field asks for more memory than the file could hold".to_string()
        }
        e => format!("undecodable contents: {e}"),
    })?;
    if read != payload.len() {
        return Err(format!(
            "undecodable contents: {} bytes follow the end of the payload",
            payload.len() - read
        ));
    }
    Ok(value)
}

/// Encodes a payload in the layout [`decode`] reads.
pub(crate) fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, String> {
    bincode::serde::encode_to_vec(value, bincode::config::standard()).map_err(|e| format!("encoding failed: {e}"))
}

/// Decoded in-memory bytes allowed per payload byte (see [`decode`]).
const DECODE_BYTES_PER_PAYLOAD_BYTE: u64 = 8;
/// The smallest limit, 64 KiB: tiny payloads need no tighter bound.
const MIN_LIMIT_BITS: u32 = 16;

fn decode_limited<T: serde::de::DeserializeOwned, const LIMIT: usize>(
    payload: &[u8],
) -> Result<(T, usize), bincode::error::DecodeError> {
    bincode::serde::decode_from_slice(payload, bincode::config::standard().with_limit::<LIMIT>())
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

    #[test]
    fn a_forged_length_field_is_refused_before_it_allocates() {
        // A varint length of 2^40 - 1 for a string: without a limit bincode
        // would allocate a terabyte before finding the payload is 9 bytes long.
        let mut payload = vec![0xFD];
        payload.extend_from_slice(&((1_u64 << 40) - 1).to_le_bytes());
        let err = decode::<String>(&payload).unwrap_err();
        assert!(err.contains("more memory than the file could hold"), "{err}");
    }

    #[test]
    fn payloads_round_trip_and_trailing_bytes_are_refused() {
        let value = (vec![1.5_f32; 100_000], "name".to_string(), vec![7_u64; 1000]);
        let payload = encode(&value).unwrap();
        assert_eq!(decode::<(Vec<f32>, String, Vec<u64>)>(&payload).unwrap(), value);
        let mut padded = payload.clone();
        padded.push(0);
        let err = decode::<(Vec<f32>, String, Vec<u64>)>(&padded).unwrap_err();
        assert!(err.contains("1 bytes follow"), "{err}");
    }
}
