//! `demo` end to end on a reduced size: every promised file, and the JSON summary.

use std::path::Path;

use crate::{json, run};

#[test]
fn a_fast_demo_writes_everything_it_lists() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("demo");
    let out_arg = out.to_string_lossy().into_owned();
    let summary = json(&run(["demo", "--fast", "--out", &out_arg, "--json"]));
    for key in [
        "knn1_accuracy",
        "knn10_accuracy",
        "trustworthiness",
        "kl",
        "classifier_accuracy",
        "seconds",
    ] {
        assert!(
            summary[key].as_f64().is_some_and(f64::is_finite),
            "{key} missing: {summary}"
        );
    }
    assert!(summary["n_points"].as_u64().is_some_and(|n| n > 0), "{summary}");
    let files: Vec<&str> = summary["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f.as_str())
        .collect();
    for file in &files {
        assert!(Path::new(file).is_file(), "{file} is listed but missing");
        assert!(Path::new(file).starts_with(&out), "{file} is outside --out");
    }
    for suffix in [
        "model.ssne",
        "model.log.jsonl",
        "test-embedding.csv",
        "metrics.json",
        "map.png",
        "report.html",
    ] {
        assert!(files.iter().any(|f| f.ends_with(suffix)), "no {suffix} in {files:?}");
    }
    assert!(
        files
            .iter()
            .filter(|f| f.contains("directional") && f.ends_with(".png"))
            .count()
            >= 1,
        "{files:?}"
    );
}

#[test]
fn the_human_demo_summary_lists_figures_and_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("demo");
    let out_arg = out.to_string_lossy().into_owned();
    let text = crate::ok(&run([
        "demo",
        "--train-rows",
        "800",
        "--test-rows",
        "200",
        "--pretrain-epochs",
        "1",
        "--finetune-steps",
        "40",
        "--out",
        &out_arg,
    ]));
    assert!(text.contains("k-NN accuracy (k=10)"), "{text}");
    assert!(text.contains("map.png"), "{text}");
}
