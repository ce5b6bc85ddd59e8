//! `train --reference-pca`: the reference inputs kept for `--refine` as a PCA projection or raw.

use std::path::Path;

use crate::{QUICK_TRAINING, json, ok, run};

fn train(model: &Path, reference_pca: &str) {
    let mut args = vec![
        "train".to_owned(),
        "--rows".into(),
        "0..400".into(),
        "--model".into(),
        model.to_string_lossy().into_owned(),
        "--reference-pca".into(),
        reference_pca.into(),
    ];
    args.extend(QUICK_TRAINING.iter().map(|s| (*s).to_owned()));
    ok(&run(&args));
}

#[test]
fn a_pca_reference_makes_a_smaller_model_that_still_refines() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (raw, pca) = (dir.path().join("raw.ssne"), dir.path().join("pca.ssne"));
    train(&raw, "0");
    train(&pca, "20");
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).expect("a model file");
    // 400 x 784 raw floats against 400 x 20 projected ones plus 21 x 784 for the
    // projection, next to two 784-100-10 networks (the map and the classifier).
    assert!(
        size(&pca) * 2 < size(&raw),
        "PCA-20 model {} bytes, raw {}",
        size(&pca),
        size(&raw)
    );
    for model in [&raw, &pca] {
        let model = model.to_string_lossy().into_owned();
        let refined = json(&run([
            "--json", "eval", "--model", &model, "--rows", "400..600", "--refine", "10",
        ]));
        assert_eq!(refined["refine_steps"], 10, "{refined}");
        let shift = refined["refine_mean_shift"].as_f64().expect("a number");
        assert!(shift > 0.0 && shift.is_finite(), "{refined}");
        // Refinement must improve on the network's own placement of the same rows.
        let plain = json(&run(["--json", "eval", "--model", &model, "--rows", "400..600"]));
        let figure = |summary: &serde_json::Value, key: &str| summary[key].as_f64().expect("a number");
        for key in ["knn10_accuracy", "trustworthiness"] {
            assert!(
                figure(&refined, key) > figure(&plain, key),
                "{key}: refined {refined}, network alone {plain}"
            );
        }
    }
}

#[test]
fn a_bad_component_count_is_refused_before_training() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run([
        "train",
        "--rows",
        "0..400",
        "--model",
        &dir.path().join("m.ssne").to_string_lossy(),
        "--reference-pca",
        "fifty",
    ]);
    assert!(!out.status.success());
    assert!(
        crate::stderr(&out).contains("--reference-pca"),
        "{}",
        crate::stderr(&out)
    );
}
