//! `ssne_data::stream`: chunks of rows equal the whole loaded file, whatever the chunk size; the
//! streamed writers equal the whole-array writers byte for byte; headers are checked against the
//! file's length before any row is read; the memory limit refuses a file from its header.

use std::path::Path;

use ndarray::{Array2, Array3, Axis, ShapeBuilder, array, concatenate};
use ssne_data::idx::{IMAGES_MAGIC, LABELS_MAGIC};
use ssne_data::stream::RowStream;
use ssne_data::{ByteDecoding, DataError, Dataset, Format, LoadOptions};

use crate::{digit_labels, gzip, idx_bytes, pixels, write};

/// Every chunk of `stream`, `chunk` rows at a time, joined: the features and shown labels.
fn drain(mut stream: RowStream, chunk: usize) -> (Array2<f32>, Option<Vec<String>>) {
    let n_features = stream.n_features();
    let mut features = Array2::zeros((0, n_features));
    let mut labels: Option<Vec<String>> = stream.has_labels().then(Vec::new);
    let mut expected_first = stream.next_row();
    while let Some(part) = stream.next_chunk(chunk).unwrap() {
        assert_eq!(part.first_row, expected_first);
        assert!(part.features.nrows() <= chunk);
        expected_first += part.features.nrows();
        features = concatenate(Axis(0), &[features.view(), part.features.view()]).unwrap();
        if let (Some(all), Some(part)) = (labels.as_mut(), part.labels) {
            all.extend(part);
        }
    }
    let n_points = features.nrows();
    assert_eq!(stream.finish().unwrap(), n_points);
    (features, labels)
}

/// Every chunk of `stream` read as `u8` codes, decoded and joined; `None` when it refuses with
/// [`DataError::NotCodes`] before reading anything.
fn drain_codes(mut stream: RowStream, chunk: usize) -> Option<(Array2<f32>, Option<Vec<String>>)> {
    let mut features = Array2::zeros((0, stream.n_features()));
    let mut labels: Option<Vec<String>> = stream.has_labels().then(Vec::new);
    let mut expected_first = 0;
    loop {
        let part = match stream.next_codes(chunk) {
            Err(DataError::NotCodes { .. }) if stream.byte_decoding().is_none() => return None,
            other => other.unwrap(),
        };
        let Some(part) = part else { break };
        assert_eq!(part.first_row, expected_first);
        expected_first += part.features.nrows();
        features = concatenate(Axis(0), &[features.view(), part.features.to_f32().view()]).unwrap();
        if let (Some(all), Some(part)) = (labels.as_mut(), part.labels) {
            all.extend(part);
        }
    }
    assert_eq!(stream.finish().unwrap(), features.nrows());
    Some((features, labels))
}

fn assert_streams_like_load(path: &Path, data: &Dataset) {
    // Bit for bit: compare the bits, so that -0.0 and NaN payloads count too.
    let bits = |a: &Array2<f32>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    let like_load = |read_as: &str, chunk: usize, (features, labels): (Array2<f32>, Option<Vec<String>>)| {
        let case = format!("{} as {read_as}, chunk {chunk}", path.display());
        assert_eq!(features.dim(), data.features.dim(), "{case}");
        assert_eq!(bits(&features), bits(&data.features), "{case}");
        assert_eq!(labels, data.shown_labels(), "{case}");
    };
    let holds_codes = RowStream::open(path, Format::Auto).unwrap().byte_decoding().is_some();
    for chunk in [1, 3, 7, 1000] {
        let stream = RowStream::open(path, Format::Auto).unwrap();
        assert_eq!(stream.image_shape(), data.image_shape, "{}", path.display());
        like_load("f32", chunk, drain(stream, chunk));
        let codes = drain_codes(RowStream::open(path, Format::Auto).unwrap(), chunk);
        assert_eq!(codes.is_some(), holds_codes, "{}", path.display());
        if let Some(decoded) = codes {
            like_load("codes", chunk, decoded);
        }
    }
}

/// Writes a test file at the path.
type WriteFile<'a> = Box<dyn Fn(&Path) + 'a>;

#[test]
fn npy_files_stream_as_they_load_in_every_layout_and_dtype() {
    let dir = tempfile::tempdir().unwrap();
    let values: Vec<f64> = (0..10 * 6).map(|i| f64::from(i) * 0.37 - 5.0).collect();
    let c_order = Array2::from_shape_vec((10, 6), values.clone()).unwrap();
    let fortran = Array2::from_shape_vec((10, 6).f(), values.clone()).unwrap();
    let images = Array3::from_shape_vec((10, 2, 3), pixels(10, 2, 3)).unwrap();
    let images_fortran = Array3::from_shape_vec((10, 2, 3).f(), pixels(10, 2, 3)).unwrap();
    let cases: Vec<(&str, WriteFile)> = vec![
        ("c_f64", Box::new(|p| ndarray_npy::write_npy(p, &c_order).unwrap())),
        (
            "c_f32",
            Box::new(|p| ndarray_npy::write_npy(p, &c_order.mapv(|v| v as f32)).unwrap()),
        ),
        (
            "fortran_f64",
            Box::new(|p| ndarray_npy::write_npy(p, &fortran).unwrap()),
        ),
        ("c_u8_images", Box::new(|p| ndarray_npy::write_npy(p, &images).unwrap())),
        (
            "fortran_u8_images",
            Box::new(|p| ndarray_npy::write_npy(p, &images_fortran).unwrap()),
        ),
        (
            "i64",
            Box::new(|p| ndarray_npy::write_npy(p, &c_order.mapv(|v| v as i64)).unwrap()),
        ),
    ];
    for (name, write_file) in cases {
        let path = dir.path().join(format!("{name}.npy"));
        write_file(&path);
        let data = ssne_data::load(&path, Format::Auto).unwrap();
        let decoding = RowStream::open(&path, Format::Auto).unwrap().byte_decoding();
        let expected = name.contains("u8").then_some(ByteDecoding::Value);
        assert_eq!(decoding, expected, "{name}: only u8 arrays stream as codes");
        assert_streams_like_load(&path, &data);
    }
}

#[test]
fn idx_pairs_stream_as_they_load_raw_and_gzip_with_their_labels() {
    let dir = tempfile::tempdir().unwrap();
    let images = idx_bytes(IMAGES_MAGIC, &[25, 3, 2], &pixels(25, 3, 2));
    // Labels that are not 0..k, so that the loaded data set renumbers them and keeps the values.
    let labels: Vec<u8> = digit_labels(25).iter().map(|l| l * 3 + 1).collect();
    let labels = idx_bytes(LABELS_MAGIC, &[25], &labels);
    for gz in [false, true] {
        let sub = dir.path().join(if gz { "gz" } else { "raw" });
        std::fs::create_dir(&sub).unwrap();
        let suffix = if gz { ".gz" } else { "" };
        let wrap = |bytes: &[u8]| if gz { gzip(bytes) } else { bytes.to_vec() };
        let path = sub.join(format!("train-images-idx3-ubyte{suffix}"));
        write(&path, &wrap(&images));
        write(&sub.join(format!("train-labels-idx1-ubyte{suffix}")), &wrap(&labels));
        let data = ssne_data::load(&path, Format::Auto).unwrap();
        assert!(data.label_names.is_some());
        let decoding = RowStream::open(&path, Format::Auto).unwrap().byte_decoding();
        assert_eq!(decoding, Some(ByteDecoding::UnitInterval));
        assert_streams_like_load(&path, &data);
    }
}

#[test]
fn a_fashion_folder_streams_its_class_names() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("fashion-mnist");
    std::fs::create_dir(&folder).unwrap();
    write(
        &folder.join("t10k-images-idx3-ubyte"),
        &idx_bytes(IMAGES_MAGIC, &[12, 2, 2], &pixels(12, 2, 2)),
    );
    write(
        &folder.join("t10k-labels-idx1-ubyte"),
        &idx_bytes(LABELS_MAGIC, &[12], &digit_labels(12)),
    );
    let data = ssne_data::mnist::load_dir(&folder, ssne_data::mnist::SplitName::Test).unwrap();
    let stream = RowStream::open_mnist_dir(&folder, ssne_data::mnist::SplitName::Test).unwrap();
    let (features, labels) = drain(stream, 5);
    assert_eq!(features, data.features);
    assert_eq!(labels, data.shown_labels());
    assert_eq!(labels.as_ref().map(|l| l[1].as_str()), Some("Trouser"));
}

#[test]
fn csv_files_stream_as_they_load_with_labels_shown_as_load_shows_them() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("text", "a,b,label\n1,2,cat\n3,4,dog\n5,6.5,cat\n7,8,bird\n"),
        ("integers", "a,b,label\n1,2,5\n3,4,007\n5,6.5,5\n7,8,+2\n"),
        ("no_header", "1,2\n3,4\n5,6\n"),
        ("tsv_like_index", "x,y,class\n0.1,0.2,3\n0.3,0.4,1\n"),
    ];
    for (name, text) in cases {
        let path = dir.path().join(format!("{name}.csv"));
        write(&path, text.as_bytes());
        let data = ssne_data::load(&path, Format::Auto).unwrap();
        assert_streams_like_load(&path, &data);
    }
}

#[test]
fn reformatted_integer_labels_then_text_ask_for_a_second_reading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.csv");
    // `007` shows as 7 while the labels look like integers; `x` makes every label text, as written.
    write(&path, b"a,label\n1,007\n2,3\n3,x\n4,007\n");
    let data = ssne_data::load(&path, Format::Auto).unwrap();
    let mut stream = RowStream::open(&path, Format::Auto).unwrap();
    assert!(matches!(
        stream.next_chunk(10),
        Err(DataError::LabelsReread { line: 4, .. })
    ));
    let (features, labels) = drain(
        RowStream::open(&path, Format::Auto)
            .unwrap()
            .with_text_labels()
            .unwrap(),
        2,
    );
    assert_eq!(features, data.features);
    assert_eq!(labels, data.shown_labels());
    assert_eq!(labels.as_ref().map(|l| l[0].as_str()), Some("007"));
    // A later text label is found by `finish` even when the rows read end before it.
    let mut stream = RowStream::open(&path, Format::Auto).unwrap();
    assert_eq!(
        stream.next_chunk(2).unwrap().map(|c| c.labels),
        Some(Some(vec!["7".to_owned(), "3".to_owned()]))
    );
    assert!(matches!(stream.finish(), Err(DataError::LabelsReread { .. })));
}

#[test]
fn skipping_rows_and_a_separate_labels_file() {
    let dir = tempfile::tempdir().unwrap();
    let features = Array2::from_shape_fn((9, 2), |(i, j)| (i * 2 + j) as f32);
    let path = dir.path().join("x.npy");
    ndarray_npy::write_npy(&path, &features).unwrap();
    let labels = dir.path().join("y.npy");
    ndarray_npy::write_npy(&labels, &ndarray::Array1::from_iter((0..9_i64).map(|i| 100 + i))).unwrap();
    let mut stream = RowStream::open(&path, Format::Auto)
        .unwrap()
        .with_labels_file(&labels)
        .unwrap();
    assert_eq!(stream.skip(4).unwrap(), 4);
    let chunk = stream.next_chunk(3).unwrap().unwrap();
    assert_eq!(chunk.first_row, 4);
    assert_eq!(chunk.features, features.slice(ndarray::s![4..7, ..]));
    assert_eq!(
        chunk.labels,
        Some(vec!["104".to_owned(), "105".to_owned(), "106".to_owned()])
    );
    assert_eq!(stream.skip(10).unwrap(), 2);
    assert!(stream.next_chunk(3).unwrap().is_none());

    let short = dir.path().join("short.npy");
    ndarray_npy::write_npy(&short, &ndarray::Array1::from_iter(0..5_i64)).unwrap();
    assert!(matches!(
        RowStream::open(&path, Format::Auto).unwrap().with_labels_file(&short),
        Err(DataError::LabelCount {
            images: 9,
            labels: 5,
            ..
        })
    ));
    // A CSV file's length is only known at its end: the mismatch shows there, with both counts.
    let csv = dir.path().join("x.csv");
    write(&csv, b"1,2\n3,4\n5,6\n7,8\n9,10\n11,12\n13,14\n");
    let mut stream = RowStream::open(&csv, Format::Auto)
        .unwrap()
        .with_labels_file(&short)
        .unwrap();
    let result = (|| {
        while stream.next_chunk(2)?.is_some() {}
        Ok::<(), DataError>(())
    })();
    assert!(matches!(
        result,
        Err(DataError::LabelCount {
            images: 7,
            labels: 5,
            ..
        })
    ));
}

#[test]
fn non_finite_values_name_their_row_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gaps.npy");
    let mut features = Array2::from_elem((7, 2), 1.0_f32);
    features[[5, 1]] = f32::NAN;
    ndarray_npy::write_npy(&path, &features).unwrap();
    let loaded = ssne_data::load(&path, Format::Auto);
    assert!(matches!(loaded, Err(DataError::NonFinite { row: 5, col: 1, .. })));
    let mut stream = RowStream::open(&path, Format::Auto).unwrap();
    assert!(stream.next_chunk(4).unwrap().is_some());
    assert!(matches!(
        stream.next_chunk(4),
        Err(DataError::NonFinite { row: 5, col: 1, .. })
    ));
    let (streamed, _) = drain(RowStream::open(&path, Format::Auto).unwrap().allowing_non_finite(), 3);
    assert!(streamed[[5, 1]].is_nan());
}

/// An NPY file that holds `header` (a dictionary) and `data_len` zero bytes.
fn npy_with_header(path: &Path, dict: &str, data_len: u64) {
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    let padded = format!("{dict:<117}\n");
    bytes.extend(u16::try_from(padded.len()).unwrap().to_le_bytes());
    bytes.extend(padded.as_bytes());
    write(path, &bytes);
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    // Sparse: the length is set without writing (or storing) the zeros.
    file.set_len(bytes.len() as u64 + data_len).unwrap();
}

#[test]
fn headers_are_checked_against_the_file_length_before_any_row() {
    let dir = tempfile::tempdir().unwrap();
    // A few bytes claiming a trillion values: refused at once, nothing allocated.
    let npy = dir.path().join("claims.npy");
    npy_with_header(
        &npy,
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 1000), }",
        8,
    );
    assert!(matches!(
        RowStream::open(&npy, Format::Auto),
        Err(DataError::Truncated {
            expected_bytes: 4_000_000_000_128,
            found_bytes: 136,
            ..
        })
    ));
    let idx = dir.path().join("claims-images-idx3-ubyte");
    write(&idx, &idx_bytes(IMAGES_MAGIC, &[4_000_000, 28, 28], &[0; 100]));
    assert!(matches!(
        RowStream::open(&idx, Format::Auto),
        Err(DataError::Truncated {
            expected_bytes: 3_136_000_016,
            found_bytes: 116,
            ..
        })
    ));
    let long = dir.path().join("long-images-idx3-ubyte");
    write(&long, &idx_bytes(IMAGES_MAGIC, &[1, 2, 2], &[0; 5]));
    assert!(matches!(
        RowStream::open(&long, Format::Auto),
        Err(DataError::TrailingData { expected_bytes: 20, .. })
    ));
    // A gzip file's length is only known at its end: a short stream fails there.
    let gz = dir.path().join("short-images-idx3-ubyte.gz");
    write(&gz, &gzip(&idx_bytes(IMAGES_MAGIC, &[3, 2, 2], &[0; 10])));
    let mut stream = RowStream::open(&gz, Format::Auto).unwrap();
    assert!(stream.next_chunk(2).unwrap().is_some());
    match stream.next_chunk(2) {
        Err(DataError::Truncated {
            expected_bytes: 28,
            found_bytes: 26,
            ..
        }) => {}
        other => panic!("expected Truncated, got {other:?}"),
    }
    let header_too_long = dir.path().join("long-header.npy");
    let mut bytes = b"\x93NUMPY\x02\x00".to_vec();
    bytes.extend((u32::MAX - 20).to_le_bytes());
    write(&header_too_long, &bytes);
    assert!(matches!(
        RowStream::open(&header_too_long, Format::Auto),
        Err(DataError::NpyHeader { .. })
    ));
}

#[test]
fn a_file_too_large_for_memory_is_refused_from_its_header() {
    let dir = tempfile::tempdir().unwrap();
    // 10^8 images of 784 bytes: 78.4 GB on disk (sparse, so none of it stored), 313.6 GB as f32.
    let huge = dir.path().join("huge.npy");
    npy_with_header(
        &huge,
        "{'descr': '|u1', 'fortran_order': False, 'shape': (100000000, 784), }",
        78_400_000_000,
    );
    let options = LoadOptions::default().with_memory_limit(16 << 30);
    match ssne_data::load_with(&huge, Format::Auto, &options) {
        Err(DataError::TooLargeForMemory {
            n_points: 100_000_000,
            n_features: 784,
            needed_bytes: 313_600_000_000,
            limit_bytes,
            ..
        }) => assert_eq!(limit_bytes, 16 << 30),
        other => panic!("expected TooLargeForMemory, got {other:?}"),
    }
    // The same limit lets a small file through, and a limit below it refuses it.
    let small = dir.path().join("small.npy");
    ndarray_npy::write_npy(&small, &array![[1.0_f32, 2.0], [3.0, 4.0]]).unwrap();
    assert!(ssne_data::load_with(&small, Format::Auto, &options).is_ok());
    let tight = LoadOptions::default().with_memory_limit(15);
    assert!(matches!(
        ssne_data::load_with(&small, Format::Auto, &tight),
        Err(DataError::TooLargeForMemory { needed_bytes: 16, .. })
    ));
    // Images of an IDX file are counted as f32 too (4 bytes per pixel byte).
    let idx = dir.path().join("train-images-idx3-ubyte");
    write(&idx, &idx_bytes(IMAGES_MAGIC, &[3, 2, 2], &pixels(3, 2, 2)));
    assert!(matches!(
        ssne_data::load_with(&idx, Format::Auto, &LoadOptions::default().with_memory_limit(47)),
        Err(DataError::TooLargeForMemory { needed_bytes: 48, .. })
    ));
}

#[test]
fn streamed_writers_equal_the_whole_array_writers_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let data = Array2::from_shape_fn((11, 2), |(i, j)| (i as f32 - 3.3) * if j == 0 { 1.7 } else { -0.01 });
    let whole = dir.path().join("whole.npy");
    ssne_data::npy::write_f32(&whole, &data.view()).unwrap();
    let parts = dir.path().join("parts.npy");
    let mut writer = ssne_data::npy::F32Writer::create(&parts, 2).unwrap();
    for chunk in data.axis_chunks_iter(Axis(0), 4) {
        writer.write_rows(&chunk).unwrap();
    }
    writer.finish().unwrap();
    assert_eq!(std::fs::read(&whole).unwrap(), std::fs::read(&parts).unwrap());
    let csv_whole = dir.path().join("whole.csv");
    ssne_data::csv::write_f32(&csv_whole, &["x", "y"], data.view()).unwrap();
    let csv_parts = dir.path().join("parts.csv");
    let mut writer = ssne_data::csv::TableWriter::create(&csv_parts, &["x", "y"]).unwrap();
    for row in data.rows() {
        writer
            .write_row(&[
                ssne_data::csv::Cell::Number(row[0]),
                ssne_data::csv::Cell::Number(row[1]),
            ])
            .unwrap();
    }
    writer.finish().unwrap();
    assert_eq!(std::fs::read(&csv_whole).unwrap(), std::fs::read(&csv_parts).unwrap());
    // An unfinished writer leaves nothing behind.
    let dropped = dir.path().join("dropped.npy");
    let mut writer = ssne_data::npy::F32Writer::create(&dropped, 2).unwrap();
    writer.write_rows(&data.view()).unwrap();
    drop(writer);
    assert!(!dropped.exists());
    assert_eq!(
        crate::file_names(dir.path()),
        ["parts.csv", "parts.npy", "whole.csv", "whole.npy"]
    );
}
