//! The NPY header (magic, version, Python-literal dictionary) and typed decoding of the data.

use std::path::Path;

use crate::error::DataError;

const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// The element types this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dtype {
    F32,
    F64,
    U8,
    I32,
    I64,
}

impl Dtype {
    fn size(self) -> usize {
        match self {
            Dtype::U8 => 1,
            Dtype::F32 | Dtype::I32 => 4,
            Dtype::F64 | Dtype::I64 => 8,
        }
    }
}

/// A parsed header.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Header {
    /// The `descr` string as written, for error messages.
    pub(super) descr: String,
    pub(super) dtype: Dtype,
    big_endian: bool,
    pub(super) fortran_order: bool,
    pub(super) shape: Vec<usize>,
    /// Where the data starts in the file.
    data_offset: usize,
}

/// The data of a file in its own element type (no `f64` detour for 47 MB of `u8`).
pub(super) enum Values {
    F32(Vec<f32>),
    F64(Vec<f64>),
    U8(Vec<u8>),
    I32(Vec<i32>),
    I64(Vec<i64>),
}

impl Values {
    /// As `f32` features (`f64` and large integers round to the nearest `f32`).
    pub(super) fn into_f32(self) -> Vec<f32> {
        match self {
            Values::F32(values) => values,
            Values::F64(values) => values.into_iter().map(|v| v as f32).collect(),
            Values::U8(values) => values
                .into_iter()
                .map(|code| crate::ByteDecoding::Value.decode(code))
                .collect(),
            Values::I32(values) => values.into_iter().map(|v| v as f32).collect(),
            Values::I64(values) => values.into_iter().map(|v| v as f32).collect(),
        }
    }

    /// As integers; only called for integer dtypes (floats truncate, but are rejected before).
    pub(super) fn into_i64(self) -> Vec<i64> {
        match self {
            Values::F32(values) => values.into_iter().map(|v| v as i64).collect(),
            Values::F64(values) => values.into_iter().map(|v| v as i64).collect(),
            Values::U8(values) => values.into_iter().map(i64::from).collect(),
            Values::I32(values) => values.into_iter().map(i64::from).collect(),
            Values::I64(values) => values,
        }
    }
}

impl Header {
    /// Parses the header of `bytes`; returns it and the data bytes after it.
    pub(super) fn parse<'a>(bytes: &'a [u8], path: &Path) -> Result<(Header, &'a [u8]), DataError> {
        let malformed = |reason: &str| DataError::NpyHeader {
            path: path.to_path_buf(),
            reason: reason.to_owned(),
        };
        if !bytes.starts_with(MAGIC) {
            return Err(malformed("missing the \\x93NUMPY magic"));
        }
        let (header_len, text_start) = match bytes.get(6) {
            Some(1) => (
                bytes.get(8..10).map(|b| usize::from(u16::from_le_bytes([b[0], b[1]]))),
                10,
            ),
            Some(2 | 3) => (
                bytes
                    .get(8..12)
                    .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize),
                12,
            ),
            Some(major) => return Err(malformed(&format!("unsupported format version {major}"))),
            None => return Err(malformed("the file ends inside the header")),
        };
        let header_len = header_len.ok_or_else(|| malformed("the file ends inside the header"))?;
        let data_offset = text_start + header_len;
        let text = bytes
            .get(text_start..data_offset)
            .ok_or_else(|| malformed("the file ends inside the header"))?;
        let text = std::str::from_utf8(text).map_err(|_| malformed("the header is not UTF-8"))?;
        let entries = dict_entries(text).map_err(|reason| malformed(&reason))?;
        let value_of = |key: &str| {
            entries
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
                .ok_or_else(|| malformed(&format!("the header has no '{key}'")))
        };
        let descr_raw = value_of("descr")?;
        let unsupported = |dtype: &str| DataError::UnsupportedDtype {
            path: path.to_path_buf(),
            dtype: dtype.to_owned(),
        };
        // Structured dtypes have a list here, not a string: unsupported, named as written.
        let descr = unquote(descr_raw).ok_or_else(|| unsupported(descr_raw))?;
        let (dtype, big_endian) = parse_descr(&descr).ok_or_else(|| unsupported(&descr))?;
        let fortran_order = match value_of("fortran_order")? {
            "True" => true,
            "False" => false,
            other => return Err(malformed(&format!("fortran_order is {other}"))),
        };
        let shape = parse_shape(value_of("shape")?).ok_or_else(|| malformed("shape is not a tuple of integers"))?;
        let header = Header {
            descr,
            dtype,
            big_endian,
            fortran_order,
            shape,
            data_offset,
        };
        Ok((header, &bytes[data_offset..]))
    }

    /// Where the data starts in the file (the header's length).
    pub(super) fn data_offset(&self) -> usize {
        self.data_offset
    }

    /// The bytes of one element.
    pub(super) fn element_bytes(&self) -> usize {
        self.dtype.size()
    }

    /// The data bytes the shape announces, `None` when their product overflows.
    pub(super) fn data_bytes(&self) -> Option<usize> {
        self.shape
            .iter()
            .try_fold(self.dtype.size(), |product, &dim| product.checked_mul(dim))
    }

    /// Decodes `data` after checking its length against the shape.
    pub(super) fn values(&self, data: &[u8], path: &Path) -> Result<Values, DataError> {
        let bad = |reason: &'static str| DataError::BadDimensions {
            path: path.to_path_buf(),
            dims: self.shape.iter().map(|&dim| dim as u64).collect(),
            data_bytes: data.len() as u64,
            reason,
        };
        let n_bytes = self.data_bytes().ok_or_else(|| bad("their product overflows"))?;
        if data.len() < n_bytes {
            return Err(DataError::Truncated {
                path: path.to_path_buf(),
                expected_bytes: (self.data_offset as u64).saturating_add(n_bytes as u64),
                found_bytes: (self.data_offset + data.len()) as u64,
            });
        }
        if data.len() > n_bytes {
            return Err(bad("the file holds more bytes than they account for"));
        }
        Ok(self.decode(data))
    }

    /// Decodes whole elements of `data` (a part of the data, e.g. some rows) in the file's type
    /// and byte order; a partial element at the end is ignored.
    pub(super) fn decode(&self, data: &[u8]) -> Values {
        let big = self.big_endian;
        match self.dtype {
            Dtype::U8 => Values::U8(data.to_vec()),
            Dtype::F32 => Values::F32(decode(data, |b| {
                if big {
                    f32::from_be_bytes(b)
                } else {
                    f32::from_le_bytes(b)
                }
            })),
            Dtype::F64 => Values::F64(decode(data, |b| {
                if big {
                    f64::from_be_bytes(b)
                } else {
                    f64::from_le_bytes(b)
                }
            })),
            Dtype::I32 => Values::I32(decode(data, |b| {
                if big {
                    i32::from_be_bytes(b)
                } else {
                    i32::from_le_bytes(b)
                }
            })),
            Dtype::I64 => Values::I64(decode(data, |b| {
                if big {
                    i64::from_be_bytes(b)
                } else {
                    i64::from_le_bytes(b)
                }
            })),
        }
    }
}

/// The length of the header that `preamble` (the file's first bytes, at least 12 of them when the
/// file has that many) starts, for versions 1 to 3; `None` when it does not start like one (then
/// [`Header::parse`] of the same bytes says why).
pub(super) fn declared_data_offset(preamble: &[u8]) -> Option<usize> {
    if !preamble.starts_with(MAGIC) {
        return None;
    }
    match preamble.get(6) {
        Some(1) => preamble
            .get(8..10)
            .map(|b| 10 + usize::from(u16::from_le_bytes([b[0], b[1]]))),
        Some(2 | 3) => preamble
            .get(8..12)
            .map(|b| 12 + u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize),
        _ => None,
    }
}

/// The longest row count [`encode_f32_header`] leaves room for: `usize::MAX` has 20 digits.
const ROW_COUNT_DIGITS: usize = 20;

/// The NPY 1.0 header of a C-order little-endian `f32` array of `n_rows x n_cols`, padded so the
/// data starts at a multiple of 64 bytes as NumPy does.
///
/// The padding leaves room for a row count of [`ROW_COUNT_DIGITS`] digits, so the header's length
/// does not depend on `n_rows`: a streamed file is started with a placeholder header and gets the
/// true row count, in the same bytes, at the end. (For 2 columns the header is 128 bytes for any
/// row count, as it always was.)
pub(super) fn encode_f32_header(n_rows: usize, n_cols: usize) -> Vec<u8> {
    let dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({n_rows}, {n_cols}), }}");
    let row_digits = n_rows.to_string().len();
    let unpadded = MAGIC.len() + 2 + 2 + dict.len() + 1;
    let widest = unpadded - row_digits + ROW_COUNT_DIGITS;
    let padding = (64 - widest % 64) % 64 + (ROW_COUNT_DIGITS - row_digits);
    let header_len = dict.len() + padding + 1;
    let mut header = Vec::with_capacity(unpadded + padding);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&[1, 0]);
    // Two usize values printed in decimal are at most 40 bytes: the dictionary is far below
    // u16::MAX, so this conversion cannot fail.
    header.extend_from_slice(&u16::try_from(header_len).unwrap_or(u16::MAX).to_le_bytes());
    header.extend_from_slice(dict.as_bytes());
    header.resize(header.len() + padding, b' ');
    header.push(b'\n');
    header
}

fn decode<const N: usize, T>(data: &[u8], from_bytes: impl Fn([u8; N]) -> T) -> Vec<T> {
    data.chunks_exact(N)
        .map(|chunk| {
            let mut array = [0; N];
            array.copy_from_slice(chunk);
            from_bytes(array)
        })
        .collect()
}

/// `(dtype, big_endian)` of a simple `descr` such as `<f4`, `|u1`, `>i8`.
fn parse_descr(descr: &str) -> Option<(Dtype, bool)> {
    let (order, kind) = descr.split_at_checked(1)?;
    let big_endian = match order {
        "<" | "|" => false,
        ">" => true,
        "=" => cfg!(target_endian = "big"),
        _ => return None,
    };
    let dtype = match kind {
        "f4" => Dtype::F32,
        "f8" => Dtype::F64,
        "u1" => Dtype::U8,
        "i4" => Dtype::I32,
        "i8" => Dtype::I64,
        _ => return None,
    };
    Some((dtype, big_endian))
}

fn parse_shape(raw: &str) -> Option<Vec<usize>> {
    let inner = raw.strip_prefix('(')?.strip_suffix(')')?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|dim| !dim.is_empty())
        .map(|dim| dim.parse().ok())
        .collect()
}

fn unquote(raw: &str) -> Option<String> {
    let inner = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\''));
    let inner = inner.or_else(|| raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')))?;
    Some(inner.to_owned())
}

/// Splits a Python dict literal `{'k': v, ...}` into `(key, raw value)` pairs, respecting quotes
/// and brackets so tuples and lists stay whole.
fn dict_entries(text: &str) -> Result<Vec<(String, String)>, String> {
    let inner = text
        .trim()
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .ok_or_else(|| format!("the header is not a dictionary: {text:?}"))?;
    let mut entries = Vec::new();
    for item in split_top_level(inner, ',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let mut parts = split_top_level(item, ':').into_iter();
        let (Some(key), Some(value), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!("cannot read the header entry {item:?}"));
        };
        let key = unquote(key.trim()).ok_or_else(|| format!("unquoted header key {key:?}"))?;
        entries.push((key, value.trim().to_owned()));
    }
    Ok(entries)
}

fn split_top_level(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut start) = (0_i32, None, 0);
    for (pos, ch) in text.char_indices() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(ch),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') => depth -= 1,
            (None, c) if c == separator && depth == 0 => {
                parts.push(&text[start..pos]);
                start = pos + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{Dtype, Header, dict_entries, encode_f32_header};
    use crate::DataError;

    fn file(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend(u16::try_from(dict.len()).unwrap().to_le_bytes());
        bytes.extend(dict.as_bytes());
        bytes.extend(data);
        bytes
    }

    #[test]
    fn our_header_is_aligned_and_parses() {
        let header = encode_f32_header(60_000, 784);
        assert_eq!(header.len() % 64, 0);
        let (parsed, data) = Header::parse(&header, Path::new("x")).unwrap();
        assert_eq!(
            (parsed.dtype, parsed.fortran_order, parsed.shape),
            (Dtype::F32, false, vec![60_000, 784])
        );
        assert!(data.is_empty());
    }

    #[test]
    fn our_header_length_does_not_depend_on_the_row_count() {
        // A streamed file is started with the header of 0 rows and rewritten in place at the end.
        for n_cols in [1, 2, 784, 100_000] {
            let first = encode_f32_header(0, n_cols);
            for n_rows in [1, 9, 10, 1_000_000, usize::MAX] {
                let header = encode_f32_header(n_rows, n_cols);
                assert_eq!(header.len(), first.len(), "{n_rows} x {n_cols}");
                let (parsed, _) = Header::parse(&header, Path::new("x")).unwrap();
                assert_eq!(parsed.shape, vec![n_rows, n_cols]);
            }
        }
        assert_eq!(encode_f32_header(60_000, 2).len(), 128);
    }

    #[test]
    fn dict_keeps_tuples_and_lists_whole() {
        let entries =
            dict_entries("{'descr': [('a', '<f4'), ('b', '<i8')], 'fortran_order': True, 'shape': (3,), }\n").unwrap();
        assert_eq!(entries[0].1, "[('a', '<f4'), ('b', '<i8')]");
        assert_eq!(entries[2], ("shape".to_owned(), "(3,)".to_owned()));
    }

    #[test]
    fn big_endian_and_structured_dtypes() {
        let bytes = file(
            "{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }",
            &[0, 0, 0, 7, 0, 0, 1, 0],
        );
        let (header, data) = Header::parse(&bytes, Path::new("x")).unwrap();
        assert_eq!(header.values(data, Path::new("x")).unwrap().into_i64(), [7, 256]);
        let bytes = file(
            "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }",
            &[0; 4],
        );
        assert!(matches!(
            Header::parse(&bytes, Path::new("x")),
            Err(DataError::UnsupportedDtype { dtype, .. }) if dtype == "[('a', '<f4')]"
        ));
    }

    #[test]
    fn malformed_headers_are_reported() {
        assert!(matches!(
            Header::parse(b"PK\x03\x04", Path::new("x")),
            Err(DataError::NpyHeader { .. })
        ));
        let no_shape = file("{'descr': '<f4', 'fortran_order': False}", &[]);
        assert!(matches!(
            Header::parse(&no_shape, Path::new("x")),
            Err(DataError::NpyHeader { .. })
        ));
        let mut cut = file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", &[]);
        cut.truncate(20);
        assert!(matches!(
            Header::parse(&cut, Path::new("x")),
            Err(DataError::NpyHeader { .. })
        ));
    }
}
