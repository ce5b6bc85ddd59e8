//! NPY files: our writer against `ndarray-npy`, every supported dtype, and the rejections.

use std::path::Path;

use ndarray::{Array1, Array2, Array3, ShapeBuilder, array};
use ssne_data::{DataError, npy};

#[test]
fn write_then_read_is_bit_exact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.npy");
    let values = array![
        [0.1_f32, -0.0, f32::MIN_POSITIVE],
        [1e-45, f32::MAX, -3.5],
        [7.0, 1.0 / 3.0, 2e20]
    ];
    npy::write_f32(&path, &values.view()).unwrap();
    let back = npy::read_features(&path).unwrap();
    let bits = |a: &Array2<f32>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&back), bits(&values));
    // An independent reader agrees with our writer.
    let theirs: Array2<f32> = ndarray_npy::read_npy(&path).unwrap();
    assert_eq!(bits(&theirs), bits(&values));
}

#[test]
fn transposed_views_are_written_in_logical_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.npy");
    let values = array![[1.0_f32, 2.0, 3.0], [4.0, 5.0, 6.0]];
    npy::write_f32(&path, &values.t()).unwrap();
    assert_eq!(npy::read_features(&path).unwrap(), values.t());
}

/// Writes one fixture file at the given path.
type WriteFixture<'a> = Box<dyn Fn(&Path) + 'a>;

#[test]
fn every_feature_dtype_reads_as_f32() {
    let dir = tempfile::tempdir().unwrap();
    let expected = array![[1.0_f32, 2.0], [3.0, 250.0]];
    let cases: Vec<(&str, WriteFixture)> = vec![
        (
            "f64",
            Box::new(|p| ndarray_npy::write_npy(p, &expected.mapv(f64::from)).unwrap()),
        ),
        (
            "u8",
            Box::new(|p| ndarray_npy::write_npy(p, &expected.mapv(|v| v as u8)).unwrap()),
        ),
        (
            "i64",
            Box::new(|p| ndarray_npy::write_npy(p, &expected.mapv(|v| v as i64)).unwrap()),
        ),
        (
            "i32",
            Box::new(|p| ndarray_npy::write_npy(p, &expected.mapv(|v| v as i32)).unwrap()),
        ),
    ];
    for (name, write) in cases {
        let path = dir.path().join(format!("{name}.npy"));
        write(&path);
        assert_eq!(npy::read_features(&path).unwrap(), expected, "{name}");
    }
}

#[test]
fn fortran_order_is_read_in_logical_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.npy");
    let fortran = Array2::from_shape_vec((2, 3).f(), vec![1.0_f64, 4.0, 2.0, 5.0, 3.0, 6.0]).unwrap();
    ndarray_npy::write_npy(&path, &fortran).unwrap();
    let header = std::fs::read(&path).unwrap();
    assert!(String::from_utf8_lossy(&header[..128]).contains("'fortran_order': True"));
    assert_eq!(
        npy::read_features(&path).unwrap(),
        array![[1.0_f32, 2.0, 3.0], [4.0, 5.0, 6.0]]
    );
}

#[test]
fn images_keep_their_shape() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("digits.npy");
    let images = Array3::from_shape_fn((4, 2, 3), |(n, r, c)| (n * 6 + r * 3 + c) as u8);
    ndarray_npy::write_npy(&path, &images).unwrap();
    let labels_path = dir.path().join("digits-labels.npy");
    ndarray_npy::write_npy(&labels_path, &Array1::from(vec![3_i64, 0, 9, 9])).unwrap();
    let data = npy::load(&path, Some(&labels_path)).unwrap();
    assert_eq!(data.image_shape, Some([2, 3]));
    assert_eq!(data.features.dim(), (4, 6));
    assert_eq!(data.features[[1, 0]], 6.0);
    assert_eq!(data.labels, Some(vec![1, 0, 2, 2]));
    assert_eq!(
        data.label_names,
        Some(vec!["0".to_owned(), "3".to_owned(), "9".to_owned()])
    );
    assert_eq!(data.name, "digits");
}

#[test]
fn labels_of_each_integer_dtype() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("y.npy");
    ndarray_npy::write_npy(&path, &Array1::from(vec![0_u8, 7, 255])).unwrap();
    assert_eq!(npy::read_labels(&path).unwrap(), [0, 7, 255]);
    ndarray_npy::write_npy(&path, &Array1::from(vec![4_i32, 2])).unwrap();
    assert_eq!(npy::read_labels(&path).unwrap(), [4, 2]);
    ndarray_npy::write_npy(&path, &Array1::from(vec![1_i64, -2])).unwrap();
    assert!(matches!(
        npy::read_labels(&path),
        Err(DataError::BadLabel {
            index: 1,
            value: -2,
            ..
        })
    ));
    ndarray_npy::write_npy(&path, &Array1::from(vec![1.0_f32])).unwrap();
    assert!(matches!(npy::read_labels(&path), Err(DataError::UnsupportedDtype { dtype, .. }) if dtype == "<f4"));
}

#[test]
fn unsupported_dtype_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bool.npy");
    ndarray_npy::write_npy(&path, &array![[true, false]]).unwrap();
    let err = npy::read_features(&path).unwrap_err();
    assert!(
        matches!(&err, DataError::UnsupportedDtype { dtype, .. } if dtype == "|b1"),
        "{err:?}"
    );
    assert!(err.to_string().contains("|b1"), "{err}");
    ndarray_npy::write_npy(&path, &array![[1_u16, 2]]).unwrap();
    assert!(matches!(npy::read_features(&path), Err(DataError::UnsupportedDtype { dtype, .. }) if dtype == "<u2"));
}

#[test]
fn wrong_axes_truncation_and_non_finite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.npy");
    ndarray_npy::write_npy(&path, &Array1::from(vec![1.0_f32, 2.0])).unwrap();
    assert!(matches!(
        npy::read_features(&path),
        Err(DataError::BadDimensions { .. })
    ));
    npy::write_f32(&path, &array![[1.0_f32, 2.0], [3.0, 4.0]].view()).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.truncate(bytes.len() - 4);
    std::fs::write(&path, &bytes).unwrap();
    assert!(matches!(npy::read_features(&path), Err(DataError::Truncated { .. })));
    npy::write_f32(&path, &array![[1.0_f32, f32::INFINITY]].view()).unwrap();
    assert!(matches!(
        npy::read_features(&path),
        Err(DataError::NonFinite { row: 0, col: 1, .. })
    ));
    std::fs::write(&path, b"not an npy file at all").unwrap();
    assert!(matches!(npy::read_features(&path), Err(DataError::NpyHeader { .. })));
}

#[test]
fn a_huge_label_value_does_not_size_anything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("points.npy");
    ndarray_npy::write_npy(&path, &ndarray::Array2::<f32>::zeros((3, 2))).unwrap();
    let labels_path = dir.path().join("points-labels.npy");
    ndarray_npy::write_npy(&labels_path, &Array1::from(vec![4_000_000_000_i64, 0, 4_000_000_000])).unwrap();
    let data = npy::load(&path, Some(&labels_path)).unwrap();
    assert_eq!(data.labels, Some(vec![1, 0, 1]));
    assert_eq!(data.n_classes(), Some(2));
    assert_eq!(data.class_counts(), Some(vec![1, 2]));
    assert_eq!(data.label_names, Some(vec!["0".to_owned(), "4000000000".to_owned()]));
}
