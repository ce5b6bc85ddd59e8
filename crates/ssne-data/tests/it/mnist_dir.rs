//! Folders holding the four standard MNIST files, gzip or raw.

use std::path::Path;

use ssne_data::idx::{IMAGES_MAGIC, LABELS_MAGIC};
use ssne_data::mnist::{self, SplitName, fashion_label_names};
use ssne_data::{DataError, Format};

use crate::{digit_labels, gzip, idx_bytes, pixels, write};

#[derive(Clone, Copy)]
enum Compression {
    Gz,
    Raw,
    /// Training files gzip-compressed, test files raw.
    Mixed,
}

/// Writes a small MNIST-style folder: 6 training and 4 test images of 3 x 2 pixels.
fn write_folder(dir: &Path, compression: Compression) {
    for (prefix, n) in [("train", 6), ("t10k", 4)] {
        let images = idx_bytes(IMAGES_MAGIC, &[n as u32, 3, 2], &pixels(n, 3, 2));
        let labels = idx_bytes(LABELS_MAGIC, &[n as u32], &digit_labels(n));
        let gz = match compression {
            Compression::Gz => true,
            Compression::Raw => false,
            Compression::Mixed => prefix == "train",
        };
        for (name, bytes) in [
            (format!("{prefix}-images-idx3-ubyte"), images),
            (format!("{prefix}-labels-idx1-ubyte"), labels),
        ] {
            if gz {
                write(&dir.join(format!("{name}.gz")), &gzip(&bytes));
            } else {
                write(&dir.join(name), &bytes);
            }
        }
    }
}

#[test]
fn both_splits_load_from_gz_raw_and_mixed_folders() {
    for compression in [Compression::Gz, Compression::Raw, Compression::Mixed] {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("mnist");
        std::fs::create_dir(&dir).unwrap();
        write_folder(&dir, compression);
        let train = mnist::load_dir(&dir, SplitName::Train).unwrap();
        let test = mnist::load_dir(&dir, SplitName::Test).unwrap();
        assert_eq!(train.features.dim(), (6, 6));
        assert_eq!(test.features.dim(), (4, 6));
        assert_eq!(train.image_shape, Some([3, 2]));
        assert_eq!(train.labels, Some(vec![0, 1, 2, 3, 4, 5]));
        assert_eq!(test.labels.as_ref().map(Vec::len), Some(4));
        assert_eq!((train.name.as_str(), test.name.as_str()), ("mnist-train", "mnist-t10k"));
        assert_eq!(train.label_names, None);
        // A folder given to `load` is its training split.
        assert_eq!(ssne_data::load(&dir, Format::Auto).unwrap(), train);
    }
}

#[test]
fn fashion_folders_get_class_names() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("fashion-mnist");
    std::fs::create_dir(&dir).unwrap();
    write_folder(&dir, Compression::Gz);
    let test = mnist::load_dir(&dir, SplitName::Test).unwrap();
    assert_eq!(test.label_names, Some(fashion_label_names()));
    assert_eq!(test.n_classes(), Some(10));
    assert_eq!(fashion_label_names()[9], "Ankle boot");
}

#[test]
fn a_missing_file_is_named() {
    let root = tempfile::tempdir().unwrap();
    write_folder(root.path(), Compression::Raw);
    std::fs::remove_file(root.path().join("t10k-labels-idx1-ubyte")).unwrap();
    assert!(mnist::load_dir(root.path(), SplitName::Train).is_ok());
    match mnist::load_dir(root.path(), SplitName::Test) {
        Err(DataError::MissingFile { path, tried }) => {
            assert_eq!(path, root.path());
            assert!(tried.contains(&"t10k-labels-idx1-ubyte.gz".to_owned()), "{tried:?}");
        }
        other => panic!("expected MissingFile, got {other:?}"),
    }
}

#[test]
fn dotted_names_are_accepted() {
    let root = tempfile::tempdir().unwrap();
    write(
        &root.path().join("t10k-images.idx3-ubyte"),
        &idx_bytes(IMAGES_MAGIC, &[2, 1, 1], &[0, 255]),
    );
    write(
        &root.path().join("t10k-labels.idx1-ubyte"),
        &idx_bytes(LABELS_MAGIC, &[2], &[4, 2]),
    );
    let test = mnist::load_dir(root.path(), SplitName::Test).unwrap();
    assert_eq!(test.labels, Some(vec![1, 0]));
    assert_eq!(test.label_names, Some(vec!["2".to_owned(), "4".to_owned()]));
}
