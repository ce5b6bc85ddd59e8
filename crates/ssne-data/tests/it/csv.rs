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
    // Labels 0 and 3 are renumbered 0 and 1, and keep their values as names.
    assert_eq!(
        (data.labels, data.label_names),
        (Some(vec![1, 0]), Some(vec!["0".to_owned(), "3".to_owned()]))
    );

    let by_name = CsvOptions {
        label_column: Some(LabelColumn::Name("f2".into())),
        ..CsvOptions::default()
    };
    let data = read(&path, &by_name).unwrap();
    assert_eq!(data.labels, Some(vec![0, 1]));
    assert_eq!(data.label_names, Some(vec!["2".to_owned(), "5".to_owned()]));
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
        (array![[0.5_f32], [1.5]], Some(vec![0, 1]))
    );
    assert_eq!(data.label_names, Some(vec!["7".to_owned(), "8".to_owned()]));

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

#[test]
fn usual_label_column_names_are_recognised() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    for name in ["target", "Target", "labels", "CLASS", "y", "label"] {
        write(&path, format!("a,{name},b\n1,cat,2\n3,dog,4\n5,cat,6\n").as_bytes());
        let data = read(&path, &CsvOptions::default()).unwrap();
        assert_eq!(data.labels, Some(vec![0, 1, 0]), "{name}");
        assert_eq!(data.features, array![[1.0_f32, 2.0], [3.0, 4.0], [5.0, 6.0]], "{name}");
        assert_eq!(data.feature_names, Some(vec!["a".to_owned(), "b".to_owned()]), "{name}");
    }
    // `label` wins over `target`, which then is a feature.
    write(&path, b"target,label\n7,1\n8,0\n");
    let data = read(&path, &CsvOptions::default()).unwrap();
    assert_eq!(
        (data.labels, data.features),
        (Some(vec![1, 0]), array![[7.0_f32], [8.0]])
    );
    // Coordinates: `y` beside `x` is a feature.
    write(&path, b"x,y\n0.5,1.5\n2,3\n");
    let data = read(&path, &CsvOptions::default()).unwrap();
    assert_eq!((data.n_features(), data.labels), (2, None));
}

#[test]
fn without_a_label_column_the_columns_read_are_known() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("unlabelled.csv");
    write(&path, b"width,height,kind_id\n1,2,0\n3,4,1\n");
    let data = read(&path, &CsvOptions::default()).unwrap();
    assert_eq!(data.labels, None);
    assert_eq!(
        data.feature_names,
        Some(vec!["width".to_owned(), "height".to_owned(), "kind_id".to_owned()])
    );
    // Kept by row selection, absent without a header.
    assert_eq!(data.rows(0..1).unwrap().feature_names, data.feature_names);
    write(&path, b"1,2\n3,4\n");
    assert_eq!(read(&path, &CsvOptions::default()).unwrap().feature_names, None);
    assert!(ssne_data::csv::LABEL_COLUMN_NAMES.contains(&"target"));
}

/// An MNIST-like CSV: `label,p0,..,p{d-1}`, with values that need every part of the float parser.
fn mnist_like_csv(n: usize, d: usize) -> (String, Vec<f32>, Vec<u32>) {
    let mut text = String::from("label");
    for col in 0..d {
        text.push_str(&format!(",p{col}"));
    }
    text.push('\n');
    let mut values = Vec::with_capacity(n * d);
    let mut labels = Vec::with_capacity(n);
    for row in 0..n {
        let label = (row % 10) as u32;
        labels.push(label);
        text.push_str(&label.to_string());
        for col in 0..d {
            let value = match (row * 31 + col * 7) % 5 {
                0 => 0.0,
                1 => ((row + col) % 256) as f32,
                2 => ((row * col) % 1000) as f32 / 7.0,
                3 => -1.5e-3 * col as f32,
                _ => 2.5e6,
            };
            values.push(value);
            text.push_str(&format!(",{value}"));
        }
        text.push('\n');
    }
    (text, values, labels)
}

#[test]
fn a_large_csv_parses_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mnist-like.csv");
    let (n, d) = (3_000, 785 - 1);
    let (text, values, labels) = mnist_like_csv(n, d);
    write(&path, text.as_bytes());
    let data = read(&path, &CsvOptions::default()).unwrap();
    assert_eq!(data.features.dim(), (n, d));
    let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert!(bits(data.features.as_slice().unwrap()) == bits(&values));
    assert_eq!(data.labels, Some(labels));
    assert_eq!((data.label_names, data.name.as_str()), (None, "mnist-like"));
    assert_eq!(data.feature_names.map(|names| names.len()), Some(d));
}

/// Set in the child process of [`a_csv_is_read_in_memory_close_to_its_values`]: the CSV to read.
const MEMORY_CHILD: &str = "SSNE_DATA_CSV_MEMORY_CHILD";

/// A field of `/proc/self/status` in kB (`VmRSS`, `VmHWM`).
#[cfg(target_os = "linux")]
fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Reading a CSV takes memory for its values, not a String per cell. Measured in a child process
/// that runs only this test, so no other test's allocations count: the peak resident size while
/// reading, minus the size before, must stay within a few times the `f32` values (before the
/// values were parsed straight from each record it was over ten times).
#[cfg(target_os = "linux")]
#[test]
// The child hands its measurement to the parent on stdout.
#[allow(clippy::print_stdout)]
fn a_csv_is_read_in_memory_close_to_its_values() {
    const N: usize = 20_000;
    const D: usize = 200;
    if let Some(path) = std::env::var_os(MEMORY_CHILD) {
        let before = status_kb("VmRSS:").unwrap_or_default();
        let data = read(std::path::Path::new(&path), &CsvOptions::default()).unwrap();
        let peak = status_kb("VmHWM:").unwrap_or_default();
        assert_eq!(data.features.dim(), (N, D));
        println!("peak-growth-kb={}", peak.saturating_sub(before));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("memory.csv");
    let (text, _, _) = mnist_like_csv(N, D);
    write(&path, text.as_bytes());
    drop(text);
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "csv::a_csv_is_read_in_memory_close_to_its_values",
            "--exact",
            "--nocapture",
        ])
        .env(MEMORY_CHILD, &path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let growth_kb: u64 = stdout
        .lines()
        .find_map(|line| line.strip_prefix("peak-growth-kb="))
        .and_then(|kb| kb.trim().parse().ok())
        .unwrap_or_else(|| panic!("no measurement in: {stdout}"));
    let values_kb = (N * D * 4 / 1024) as u64;
    assert!(
        growth_kb < 3 * values_kb,
        "reading {values_kb} kB of values took {growth_kb} kB at the peak"
    );
}
