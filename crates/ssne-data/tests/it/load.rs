//! `load` picks the format from the content first and the extension second.

use ndarray::array;
use ssne_data::idx::{IMAGES_MAGIC, LABELS_MAGIC};
use ssne_data::{DataError, Format, load};

use crate::{gzip, idx_bytes, write};

#[test]
fn formats_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    let features = array![[1.0_f32, 2.0], [3.0, 4.0]];

    let npy = dir.path().join("features.bin");
    ssne_data::npy::write_f32(&npy, &features.view()).unwrap();
    assert_eq!(load(&npy, Format::Auto).unwrap().features, features);

    let tsv = dir.path().join("table.tsv");
    write(&tsv, b"a\tb\n1\t2\n3\t4\n");
    assert_eq!(load(&tsv, Format::Auto).unwrap().features, features);

    let txt = dir.path().join("plain.txt");
    write(&txt, b"1,2\n3,4\n");
    assert_eq!(load(&txt, Format::Auto).unwrap().features, features);

    let unknown = dir.path().join("mystery.dat");
    write(&unknown, b"1,2\n");
    assert!(matches!(
        load(&unknown, Format::Auto),
        Err(DataError::UnknownFormat { .. })
    ));
    // An explicit format overrides the extension.
    let csv = ssne_data::csv::CsvOptions::default();
    assert_eq!(
        load(&unknown, Format::Csv(csv)).unwrap().features,
        array![[1.0_f32, 2.0]]
    );
}

#[test]
fn idx_images_find_their_labels_gz_or_raw() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("sub-images-idx3-ubyte.gz");
    write(&images, &gzip(&idx_bytes(IMAGES_MAGIC, &[2, 1, 2], &[0, 51, 102, 255])));
    let alone = load(&images, Format::Auto).unwrap();
    assert_eq!((alone.labels, alone.image_shape), (None, Some([1, 2])));
    // The labels file is raw while the images are gzip-compressed.
    write(
        &dir.path().join("sub-labels-idx1-ubyte"),
        &idx_bytes(LABELS_MAGIC, &[2], &[5, 6]),
    );
    let paired = load(&images, Format::Idx).unwrap();
    assert_eq!(paired.labels, Some(vec![0, 1]));
    assert_eq!(paired.label_names, Some(vec!["5".to_owned(), "6".to_owned()]));
    assert_eq!(paired.name, "sub-images-idx3-ubyte");
}
