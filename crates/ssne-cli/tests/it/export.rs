//! `salient-sne export`: the ONNX file is the library's export of the model, written
//! atomically; bad requests are refused with a message and no file.

use std::path::Path;

use ssne_onnx::{ExportOptions, to_onnx};

use crate::{json, ok, run, shared_model, stderr, stdout};

fn arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// What the library exports for the model file at `path`.
fn library_export(path: &Path, probabilities: bool) -> Vec<u8> {
    let model = ssne_model::checkpoint::load(path).expect("the model loads");
    to_onnx(&model, &ExportOptions { probabilities }).expect("the model exports")
}

#[test]
fn export_writes_the_library_export_with_and_without_probabilities() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = shared_model();
    let plain = dir.path().join("sub/m.onnx");
    let text = ok(&run(["export", "--model", &arg(model), "--onnx", &arg(&plain)]));
    assert!(
        text.contains("ONNX IR 8, opset 17") && text.contains("features [N, 784] -> embedding [N, 2]"),
        "{text}"
    );
    let written = std::fs::read(&plain).expect("the ONNX file exists");
    assert_eq!(written, library_export(model, false));

    let with_p = dir.path().join("p.onnx");
    let summary = json(&run([
        "export",
        "--model",
        &arg(model),
        "--onnx",
        &arg(&with_p),
        "--probabilities",
        "--json",
    ]));
    let written = std::fs::read(&with_p).expect("the ONNX file exists");
    assert_eq!(written, library_export(model, true));
    assert_eq!(summary["bytes"].as_u64(), Some(written.len() as u64), "{summary}");
    assert_eq!(
        (summary["ir_version"].as_i64(), summary["opset"].as_i64()),
        (Some(8), Some(17))
    );
    assert_eq!(
        (summary["n_features"].as_u64(), summary["classes"].as_u64()),
        (Some(784), Some(10)),
        "{summary}"
    );
    // Only the file itself: no temporary left beside it.
    assert_eq!(crate::listing(dir.path()), ["p.onnx", "sub"]);
}

#[test]
fn export_refuses_to_write_over_its_input_model() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = dir.path().join("m.ssne");
    std::fs::copy(shared_model(), &model).expect("copy the model");
    let before = std::fs::read(&model).expect("read");
    let same = dir.path().join(".").join("m.ssne");
    let out = run(["export", "--model", &arg(&model), "--onnx", &arg(&same)]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("this is the input model"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&model).expect("read"), before, "the model is untouched");
}

#[test]
fn export_of_probabilities_without_a_classifier_is_refused_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sample = ssne_data::bundled::mnist_sample()
        .expect("sample")
        .rows(0..200)
        .expect("rows");
    let npy = dir.path().join("digits.npy");
    ssne_data::npy::write_f32(&npy, &sample.features.view()).expect("npy");
    let model = dir.path().join("u.ssne");
    ok(&run([
        "train",
        "--data",
        &arg(&npy),
        "--model",
        &arg(&model),
        "--finetune-steps",
        "40",
        "--edges-per-step",
        "100",
    ]));
    let onnx = dir.path().join("u.onnx");
    let out = run([
        "export",
        "--model",
        &arg(&model),
        "--onnx",
        &arg(&onnx),
        "--probabilities",
    ]);
    assert!(!out.status.success(), "{}", stdout(&out));
    let message = stderr(&out);
    assert!(
        message.contains("u.ssne cannot be exported to ONNX") && message.contains("no pretrained classifier"),
        "{message}"
    );
    assert!(!onnx.exists(), "no file for a refused export");
    // The map alone exports.
    ok(&run(["export", "--model", &arg(&model), "--onnx", &arg(&onnx)]));
    assert_eq!(std::fs::read(&onnx).expect("written"), library_export(&model, false));
}

#[test]
fn export_of_a_missing_model_names_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("absent.ssne");
    let onnx = dir.path().join("m.onnx");
    let out = run(["export", "--model", &arg(&missing), "--onnx", &arg(&onnx)]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("absent.ssne"), "{}", stderr(&out));
    assert!(!onnx.exists());
}
