//! IDX data as people have it: single files with their labels beside them, separate `--labels`,
//! and MNIST-style folders with `--split`.

use std::path::Path;

use crate::{json, ok, run, shared_model};

/// Writes rows `range` of the bundled sample as an IDX images file and an IDX labels file.
fn write_idx_pair(images: &Path, labels: &Path, range: std::ops::Range<usize>) {
    let sample = ssne_data::bundled::mnist_sample()
        .expect("sample")
        .rows(range)
        .expect("rows");
    let n = sample.n_points() as u32;
    let mut image_bytes = vec![0, 0, 8, 3];
    for dim in [n, 28, 28] {
        image_bytes.extend_from_slice(&dim.to_be_bytes());
    }
    // The sample holds v / 255 for bytes v, so this gives the bytes back.
    image_bytes.extend(sample.features.iter().map(|&v| (v * 255.0).round() as u8));
    std::fs::write(images, image_bytes).expect("images");
    let mut label_bytes = vec![0, 0, 8, 1];
    label_bytes.extend_from_slice(&n.to_be_bytes());
    label_bytes.extend(sample.labels.as_deref().unwrap_or_default().iter().map(|&l| l as u8));
    std::fs::write(labels, label_bytes).expect("labels");
}

fn arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

#[test]
fn idx_files_folders_and_separate_labels_all_load() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = arg(shared_model());
    let folder = dir.path().join("mnist");
    std::fs::create_dir(&folder).expect("folder");
    write_idx_pair(
        &folder.join("train-images-idx3-ubyte"),
        &folder.join("train-labels-idx1-ubyte"),
        0..300,
    );
    write_idx_pair(
        &folder.join("t10k-images-idx3-ubyte"),
        &folder.join("t10k-labels-idx1-ubyte"),
        600..800,
    );

    // The folder's test split is the bundled rows 600..800, so every figure agrees.
    let from_folder = json(&run([
        "eval",
        "--model",
        &model,
        "--data",
        &arg(&folder),
        "--split",
        "test",
        "--json",
    ]));
    let from_sample = json(&run(["eval", "--model", &model, "--rows", "600..800", "--json"]));
    assert_eq!(from_folder, from_sample);
    let train_split = json(&run(["eval", "--model", &model, "--data", &arg(&folder), "--json"]));
    assert_eq!(train_split["n_points"], 300);

    // One images file: its labels are found beside it.
    let images = folder.join("t10k-images-idx3-ubyte");
    let beside = json(&run(["eval", "--model", &model, "--data", &arg(&images), "--json"]));
    assert_eq!(beside, from_sample);

    // Labels given explicitly, from a name the rule cannot find.
    let loose = dir.path().join("digits.idx");
    std::fs::copy(&images, &loose).expect("copy");
    let labels = folder.join("t10k-labels-idx1-ubyte");
    let given = json(&run([
        "eval",
        "--model",
        &model,
        "--data",
        &arg(&loose),
        "--labels",
        &arg(&labels),
        "--json",
    ]));
    assert_eq!(given, from_sample);
    let unlabelled = json(&run(["eval", "--model", &model, "--data", &arg(&loose), "--json"]));
    assert!(unlabelled["knn1_accuracy"].is_null(), "{unlabelled}");

    // --split on a file is a mistake worth saying.
    let result = run(["eval", "--model", &model, "--data", &arg(&images), "--split", "test"]);
    assert_eq!(result.status.code(), Some(1));
    ok(&run([
        "eval",
        "--model",
        &model,
        "--data",
        &arg(&folder),
        "--split",
        "train",
        "--rows",
        "0..100",
    ]));
}
