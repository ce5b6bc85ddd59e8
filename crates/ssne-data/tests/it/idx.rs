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
    assert!(matches!(
        idx::read_images(&path),
        Err(DataError::BadDimensions { dims, data_bytes: 20, .. }) if dims == [2, 3, 3]
    ));
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
