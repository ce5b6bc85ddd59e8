//! CSV files: bit-exact round trips, labels, and the line and column of every bad cell.

use ndarray::{Array2, array};
use ssne_data::csv::{CsvOptions, HeaderMode, LabelColumn, read, write_f32};
use ssne_data::{DataError, Format, LoadOptions, load_with};

use crate::write;

#[test]
fn write_then_read_is_bit_exact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("y.csv");
    let values = array![
        [0.1_f32, -0.0, f32::MIN_POSITIVE],
        [1e-45, f32::MAX, -3.5],
        [7.0, 1.0 / 3.0, 2e20]
    ];
    write_f32(&path, &["a", "b,c", "d"], values.view()).unwrap();
    let back = read(&path, &CsvOptions::default()).unwrap();
    let bits = |a: &Array2<f32>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&back.features), bits(&values));
    assert_eq!(back.labels, None);
    // Without a header too.
    write_f32(&path, &[], values.view()).unwrap();
    let back = read(
        &path,
        &CsvOptions {
            has_header: HeaderMode::No,
            ..CsvOptions::default()
        },
    )
    .unwrap();
    assert_eq!(bits(&back.features), bits(&values));
}

#[test]
fn header_length_must_match() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("y.csv");
    let err = write_f32(&path, &["only one"], array![[1.0_f32, 2.0]].view()).unwrap_err();
    assert!(matches!(
        err,
        DataError::HeaderMismatch {
            header: 1,
            columns: 2,
            ..
        }
    ));
    assert!(!path.exists());
}

#[test]
fn label_columns_by_default_name_and_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.csv");
    write(&path, b"f1,Label,f2\n1,3,2\n4,0,5\n");
    let data = read(&path, &CsvOptions::default()).unwrap();
    assert_eq!(data.features, array![[1.0_f32, 2.0], [4.0, 5.0]]);
    assert_eq!((data.labels, data.label_names), (Some(vec![3, 0]), None));

    let by_name = CsvOptions {
        label_column: Some(LabelColumn::Name("f2".into())),
        ..CsvOptions::default()
    };
    let data = read(&path, &by_name).unwrap();
    assert_eq!(data.labels, Some(vec![2, 5]));
    assert_eq!(data.features, array![[1.0_f32, 3.0], [4.0, 0.0]]);

    write(&path, b"0.5;7\n1.5;8\n");
    let by_index = CsvOptions {
        label_column: Some(LabelColumn::Index(1)),
        delimiter: b';',
        ..CsvOptions::default()
    };
    let data = read(&path, &by_index).unwrap();
    assert_eq!(
        (data.features, data.labels),
        (array![[0.5_f32], [1.5]], Some(vec![7, 8]))
    );

    let missing = CsvOptions {
        label_column: Some(LabelColumn::Name("class".into())),
        ..CsvOptions::default()
    };
    assert!(matches!(
        read(&path, &missing),
        Err(DataError::ColumnNotFound { n_columns: 1, .. })
    ));
    let past_end = CsvOptions {
        label_column: Some(LabelColumn::Index(5)),
        delimiter: b';',
        ..CsvOptions::default()
    };
    assert!(matches!(
        read(&path, &past_end),
        Err(DataError::ColumnNotFound { n_columns: 2, .. })
    ));
}

#[test]
fn string_labels_are_numbered_in_sorted_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("animals.csv");
    write(&path, b"x,label\n1,zebra\n2,ant\n3,zebra\n4,cat\n");
    let data = read(&path, &CsvOptions::default()).unwrap();
    assert_eq!(data.labels, Some(vec![2, 0, 2, 1]));
    assert_eq!(data.label_names, Some(vec!["ant".into(), "cat".into(), "zebra".into()]));
    assert_eq!(data.class_counts(), Some(vec![1, 1, 2]));
    assert_eq!(data.name, "animals");
}

#[test]
fn ragged_rows_name_line_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ragged.csv");
    write(&path, b"a,b,c\n1,2,3\n4,5\n");
    match read(&path, &CsvOptions::default()) {
        Err(DataError::Ragged {
            path: reported,
            line: 3,
            expected: 3,
            found: 2,
        }) => assert_eq!(reported, path),
        other => panic!("expected Ragged, got {other:?}"),
    }
}

#[test]
fn non_numeric_cells_name_line_column_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    write(&path, b"a,b\n1,2\n3,4\n5,oops\n");
    let err = read(&path, &CsvOptions::default()).unwrap_err();
    assert!(
        matches!(&err, DataError::NotNumeric { line: 4, column: 2, value, .. } if value == "oops"),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("bad.csv") && message.contains("line 4") && message.contains("oops"),
        "{message}"
    );
}

#[test]
fn nan_and_infinity_are_rejected_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gaps.csv");
    write(&path, b"a,b\n1,2\n3,inf\nNaN,4\n");
    let err = read(&path, &CsvOptions::default()).unwrap_err();
    assert!(
        matches!(err, DataError::NonFinite { row: 1, col: 1, value, .. } if value == f32::INFINITY),
        "{err:?}"
    );
    let strict = load_with(&path, Format::Auto, &LoadOptions::default());
    assert!(matches!(strict, Err(DataError::NonFinite { row: 1, col: 1, .. })));
    let data = load_with(&path, Format::Auto, &LoadOptions::default().allowing_non_finite()).unwrap();
    assert!(data.features[[1, 1]].is_infinite() && data.features[[2, 0]].is_nan());
}

#[test]
fn empty_and_invalid_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.csv");
    write(&path, b"");
    assert!(matches!(
        read(&path, &CsvOptions::default()),
        Err(DataError::Empty { .. })
    ));
    write(&path, b"x,y\n");
    let header_only = read(&path, &CsvOptions::default()).unwrap();
    assert_eq!(header_only.features.dim(), (0, 2));
    write(&path, b"1,\xff\xfe\n");
    assert!(matches!(
        read(&path, &CsvOptions::default()),
        Err(DataError::Csv { line: 1, .. })
    ));
}
