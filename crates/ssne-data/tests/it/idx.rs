//! IDX files: gzip and raw decode alike, and every malformed file gets its own error.

use std::path::Path;

use ssne_data::DataError;
use ssne_data::idx::{self, IMAGES_MAGIC, IdxInfo, LABELS_MAGIC};

use crate::{digit_labels, gzip, idx_bytes, pixels, write};

#[test]
fn gzip_and_raw_files_decode_to_the_same_values() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = idx_bytes(IMAGES_MAGIC, &[3, 2, 5], &pixels(3, 2, 5));
    let raw = dir.path().join("a-images-idx3-ubyte");
    // The gzip file is named without .gz: compression is detected from the content.
    let gz = dir.path().join("b-images-idx3-ubyte");
    write(&raw, &bytes);
    write(&gz, &gzip(&bytes));
    let (from_raw, shape) = idx::read_images(&raw).unwrap();
    assert_eq!(shape, [2, 5]);
    assert_eq!(from_raw.dim(), (3, 10));
    assert_eq!(idx::read_images(&gz).unwrap().0, from_raw);
    assert_eq!(from_raw[[0, 1]], 7.0 / 255.0);
    assert_eq!(
        idx::inspect(&gz).unwrap(),
        IdxInfo::Images {
            n_images: 3,
            rows: 2,
            cols: 5
        }
    );
}

#[test]
fn readers_accept_any_reader() {
    let bytes = gzip(&idx_bytes(LABELS_MAGIC, &[4], &[3, 1, 4, 1]));
    assert_eq!(
        idx::read_labels_from(bytes.as_slice(), Path::new("<memory>")).unwrap(),
        [3, 1, 4, 1]
    );
}

#[test]
fn wrong_magic_is_bad_magic() {
    let dir = tempfile::tempdir().unwrap();
    let labels = dir.path().join("labels");
    write(&labels, &idx_bytes(LABELS_MAGIC, &[2], &[0, 1]));
    // A labels file where images are expected.
    match idx::read_images(&labels) {
        Err(DataError::BadMagic { path, found, expected }) => {
            assert_eq!((path, found, expected), (labels.clone(), LABELS_MAGIC, IMAGES_MAGIC));
        }
        other => panic!("expected BadMagic, got {other:?}"),
    }
    let png = dir.path().join("picture.png");
    write(&png, b"\x89PNG\r\n\x1a\n0000");
    assert!(matches!(
        idx::read_labels(&png),
        Err(DataError::BadMagic {
            expected: LABELS_MAGIC,
            ..
        })
    ));
}

#[test]
fn truncated_file_is_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("images.gz");
    let mut bytes = idx_bytes(IMAGES_MAGIC, &[4, 28, 28], &pixels(4, 28, 28));
    bytes.truncate(bytes.len() - 100);
    write(&path, &gzip(&bytes));
    let err = idx::read_images(&path).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::Truncated {
                expected_bytes: 3152,
                found_bytes: 3052,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("images.gz"),
        "the message names the file: {err}"
    );
    // Cut inside the header.
    write(&path, &bytes[..9]);
    assert!(matches!(
        idx::read_images(&path),
        Err(DataError::Truncated { found_bytes: 9, .. })
    ));
}

#[test]
fn dimensions_that_do_not_multiply_out_are_bad_dimensions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("images");
    // 2 x 3 x 3 = 18 bytes announced, 20 present.
    write(&path, &idx_bytes(IMAGES_MAGIC, &[2, 3, 3], &[0; 20]));
    let err = idx::read_images(&path).unwrap_err();
    assert!(
        matches!(err, DataError::TrailingData { expected_bytes: 34, .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("images") && message.contains("more data than the header declares"),
        "{message}"
    );
    // A product that overflows u64 must fail before any allocation.
    write(
        &path,
        &idx_bytes(IMAGES_MAGIC, &[u32::MAX, u32::MAX, u32::MAX], &[0; 8]),
    );
    assert!(matches!(idx::read_images(&path), Err(DataError::BadDimensions { .. })));
}

#[test]
fn image_and_label_counts_must_match() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("x-images-idx3-ubyte");
    let labels = dir.path().join("x-labels-idx1-ubyte");
    write(&images, &idx_bytes(IMAGES_MAGIC, &[3, 2, 2], &pixels(3, 2, 2)));
    write(&labels, &idx_bytes(LABELS_MAGIC, &[2], &digit_labels(2)));
    match idx::load_pair(&images, Some(&labels)) {
        Err(DataError::LabelCount {
            path,
            images: 3,
            labels: 2,
        }) => assert_eq!(path, labels),
        other => panic!("expected LabelCount, got {other:?}"),
    }
}

#[test]
fn corrupt_gzip_stream_is_decompress_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("images.gz");
    let mut gz = gzip(&idx_bytes(IMAGES_MAGIC, &[2, 4, 4], &pixels(2, 4, 4)));
    let mid = gz.len() / 2;
    for byte in &mut gz[12..mid] {
        *byte ^= 0x5a;
    }
    write(&path, &gz);
    assert!(matches!(idx::read_images(&path), Err(DataError::Decompress { .. })));
    // A stream cut short is corrupt too.
    let whole = gzip(&idx_bytes(IMAGES_MAGIC, &[2, 4, 4], &pixels(2, 4, 4)));
    write(&path, &whole[..whole.len() - 10]);
    assert!(matches!(idx::read_images(&path), Err(DataError::Decompress { .. })));
}

#[test]
fn missing_file_is_io_error_with_path() {
    let path = Path::new("/nonexistent/ssne-data/images.gz");
    match idx::read_images(path) {
        Err(DataError::Io { path: reported, .. }) => assert_eq!(reported, path),
        other => panic!("expected Io, got {other:?}"),
    }
}

/// Counts the bytes taken from the inner reader, to show how much of a file was looked at.
struct Counting<R> {
    inner: R,
    read: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: std::io::Read> std::io::Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

/// A gzip file of `header` followed by `gib` GiB of zeros, built from one compressed MiB of zeros
/// repeated as concatenated members (valid gzip, and cheap to build: deflate cannot shrink zeros
/// more than about 1000 times, so the file is about `gib` MB).
fn gzip_bomb(header: &[u8], gib: usize) -> Vec<u8> {
    let mut bytes = gzip(header);
    let member = {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut encoder, &vec![0; 1 << 20]).expect("writing to a Vec cannot fail");
        encoder.finish().expect("writing to a Vec cannot fail")
    };
    for _ in 0..gib * 1024 {
        bytes.extend_from_slice(&member);
    }
    bytes
}

#[test]
fn a_gzip_bomb_is_refused_after_the_announced_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb-images-idx3-ubyte.gz");
    // A valid header for ten 28 x 28 images, then 10 GiB of zeros.
    let bomb = gzip_bomb(&idx_bytes(IMAGES_MAGIC, &[10, 28, 28], &[]), 10);
    assert!(bomb.len() < 16 << 20, "{} bytes", bomb.len());
    write(&path, &bomb);

    let started = std::time::Instant::now();
    let err = idx::read_images(&path).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::TrailingData {
                expected_bytes: 7856,
                ..
            }
        ),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("bomb-images-idx3-ubyte.gz") && message.contains("more data than the header declares"),
        "{message}"
    );
    assert!(matches!(
        ssne_data::load(&path, ssne_data::Format::Auto),
        Err(DataError::TrailingData { .. })
    ));
    assert!(matches!(idx::inspect(&path), Err(DataError::TrailingData { .. })));
    // Inflating 10 GiB takes many seconds; the refusal takes milliseconds.
    assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());

    // Only the start of the compressed file is read: about the announced bytes and one buffer.
    let read = std::rc::Rc::new(std::cell::Cell::new(0));
    let counting = Counting {
        inner: std::fs::File::open(&path).unwrap(),
        read: read.clone(),
    };
    assert!(matches!(
        idx::read_images_from(counting, &path),
        Err(DataError::TrailingData { .. })
    ));
    assert!(read.get() < 256 << 10, "{} compressed bytes read", read.get());
}

#[test]
fn a_header_announcing_an_enormous_size_is_refused_without_allocating_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge-images-idx3-ubyte.gz");
    // 10^12 data bytes announced (4 TB of f32), a few present.
    let header = idx_bytes(IMAGES_MAGIC, &[1_000_000, 1000, 1000], &[]);
    write(
        &path,
        &gzip(&idx_bytes(IMAGES_MAGIC, &[1_000_000, 1000, 1000], &[1; 50])),
    );
    let err = idx::read_images(&path).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::Truncated {
                expected_bytes: 1_000_000_000_016,
                found_bytes: 66,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("huge-images-idx3-ubyte.gz"), "{err}");
    // Under the limit (4 GiB announced) the values are still allocated only as they arrive.
    write(&path, &gzip(&idx_bytes(IMAGES_MAGIC, &[65_535, 256, 256], &[1; 50])));
    assert!(matches!(
        idx::read_images(&path),
        Err(DataError::Truncated { found_bytes: 66, .. })
    ));
    // The same enormous header with a bomb behind it: refused after a short look.
    write(&path, &gzip_bomb(&header, 1));
    let started = std::time::Instant::now();
    let err = idx::read_images(&path).unwrap_err();
    match &err {
        DataError::TooLarge { dims, limit_bytes, .. } => {
            assert_eq!(
                (dims.as_slice(), *limit_bytes),
                (&[1_000_000, 1000, 1000][..], idx::MAX_DATA_BYTES)
            );
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert!(err.to_string().contains("huge-images-idx3-ubyte.gz"), "{err}");
    assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
}
