//! Integration tests of xtask: fetching against a real HTTP server on 127.0.0.1, importing from
//! folders, the command line, and the tidy rules (including on this very tree).

mod cli;
mod fetch;
mod import;
mod large;
mod server;
mod tidy;

use std::io::{Read, Write};
use std::path::Path;

use ssne_data::mnist::FileKind;
use xtask::fetch::FileSpec;
use xtask::verify::md5_hex;

/// The bundled sample's files stand in for the real ones (same format, 1.6 MB instead of 10 MB).
pub(crate) const SAMPLE_IMAGES_GZ: &[u8] = include_bytes!("../../../data/mnist-sample/images-idx3-ubyte.gz");
pub(crate) const SAMPLE_LABELS_GZ: &[u8] = include_bytes!("../../../data/mnist-sample/labels-idx1-ubyte.gz");

pub(crate) const IMAGES_NAME: &str = "train-images-idx3-ubyte.gz";
pub(crate) const LABELS_NAME: &str = "train-labels-idx1-ubyte.gz";

pub(crate) fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("the sample is valid gzip");
    out
}

/// The same content in another gzip wrapper (other level, other header), like Debian's files.
pub(crate) fn regzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::GzBuilder::new()
        .mtime(1_591_347_949)
        .write(Vec::new(), flate2::Compression::new(9));
    encoder.write_all(&gunzip(bytes)).expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail")
}

/// A copy of `bytes` with one byte changed past the gzip header.
pub(crate) fn corrupted(bytes: &[u8]) -> Vec<u8> {
    let mut bytes = bytes.to_vec();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    bytes
}

/// The checksum table of the stand-in files.
pub(crate) fn sample_specs() -> Vec<FileSpec> {
    vec![
        FileSpec {
            name: IMAGES_NAME.to_owned(),
            md5: md5_hex(SAMPLE_IMAGES_GZ),
            raw_md5: Some(md5_hex(&gunzip(SAMPLE_IMAGES_GZ))),
            kind: FileKind::Images,
        },
        FileSpec {
            name: LABELS_NAME.to_owned(),
            md5: md5_hex(SAMPLE_LABELS_GZ),
            raw_md5: Some(md5_hex(&gunzip(SAMPLE_LABELS_GZ))),
            kind: FileKind::Labels,
        },
    ]
}

/// Names of the files in `dir`, sorted.
pub(crate) fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("listing a test folder")
        .map(|entry| {
            entry
                .expect("listing a test folder")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}
