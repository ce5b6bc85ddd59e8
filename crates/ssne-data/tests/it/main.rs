//! Integration tests of `ssne-data`: real files in temporary folders, every bad input, round trips.

mod atomic;
#[cfg(feature = "bundled-mnist")]
mod bundled;
mod codes;
mod csv;
mod idx;
mod load;
mod mnist_dir;
mod npy;
mod props;
#[cfg(feature = "serde")]
mod serde_scaling;
mod stream;

use std::io::Write;
use std::path::Path;

/// An IDX file: big-endian magic, one big-endian `u32` per dimension, then `data`.
pub(crate) fn idx_bytes(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = magic.to_be_bytes().to_vec();
    for dim in dims {
        bytes.extend(dim.to_be_bytes());
    }
    bytes.extend_from_slice(data);
    bytes
}

/// `n` images of `rows x cols` with distinct, predictable pixels.
pub(crate) fn pixels(n: usize, rows: usize, cols: usize) -> Vec<u8> {
    (0..n * rows * cols).map(|i| (i * 7 % 256) as u8).collect()
}

/// Labels `0, 1, ..` modulo 10.
pub(crate) fn digit_labels(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 10) as u8).collect()
}

pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail")
}

pub(crate) fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).expect("writing a test fixture");
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
