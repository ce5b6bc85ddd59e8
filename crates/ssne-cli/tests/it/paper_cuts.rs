//! Small things a user runs into: `eval --out`, and the time a training command reports.

use std::time::Instant;

use crate::{QUICK_TRAINING, json, listing, ok, path_arg, run, shared_model, stderr};

#[test]
fn eval_out_writes_the_json_summary_to_a_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let metrics = dir.path().join("metrics.json");
    let model = path_arg(shared_model());
    let printed = json(&run([
        "eval",
        "--model",
        &model,
        "--rows",
        "600..800",
        "--json",
        "--out",
        &path_arg(&metrics),
    ]));
    let text = std::fs::read_to_string(&metrics).expect("metrics.json");
    let written: serde_json::Value = serde_json::from_str(&text).expect("one JSON object");
    assert_eq!(written, printed);
    assert!(written["knn10_accuracy"].as_f64().is_some(), "{written}");
    assert_eq!(listing(dir.path()), vec!["metrics.json"], "no temporary file is left");

    // Without --json the table is printed and the file says the same.
    let table = ok(&run([
        "eval",
        "--model",
        &model,
        "--rows",
        "600..800",
        "--out",
        &path_arg(&metrics),
    ]));
    assert!(
        table
            .lines()
            .any(|l| l == format!("metrics written to {}", metrics.display())),
        "{table}"
    );
    let again: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&metrics).expect("metrics.json")).expect("JSON");
    assert_eq!(again, printed);
}

#[test]
fn eval_out_refuses_to_write_over_the_model() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = dir.path().join("m.ssne");
    std::fs::copy(shared_model(), &model).expect("copied");
    let before = std::fs::read(&model).expect("model");
    let refused = run([
        "eval",
        "--model",
        &path_arg(&model),
        "--rows",
        "600..800",
        "--out",
        &path_arg(&model),
    ]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert_eq!(
        stderr(&refused).trim_end(),
        format!(
            "error: {}: this is one of the command's inputs; writing the metrics there would destroy it. Choose another path",
            model.display()
        )
    );
    assert_eq!(std::fs::read(&model).expect("model"), before);
}

#[test]
fn finetune_reports_the_time_of_its_own_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pretrained = path_arg(&dir.path().join("pre.ssne"));
    let finetuned = path_arg(&dir.path().join("m.ssne"));
    let mut args = vec!["pretrain", "--rows", "0..300", "--model", &pretrained];
    args.extend_from_slice(QUICK_TRAINING);
    let summary = ok(&run(&args));
    assert!(
        summary
            .lines()
            .any(|l| l.trim_start().starts_with("pretraining time") && l.ends_with(" s (this run)")),
        "{summary}"
    );

    let finetune = |extra: &[&str]| {
        let mut args = vec![
            "finetune",
            "--model",
            &pretrained,
            "--rows",
            "0..300",
            "--finetune-steps",
            "5",
            "--out",
            &finetuned,
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    let started = Instant::now();
    let summary = json(&finetune(&["--json"]));
    let wall = started.elapsed().as_secs_f64();
    let seconds = summary["seconds"].as_f64().expect("seconds");
    assert!(
        (0.0..=wall).contains(&seconds),
        "finetune says {seconds} s; the whole process took {wall} s"
    );

    let text = ok(&finetune(&[]));
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("fine-tuning time"))
        .unwrap_or_else(|| panic!("no fine-tuning time line in:\n{text}"));
    assert!(line.ends_with(" s (this run)"), "{text}");
    assert!(!text.contains("training time"), "{text}");
}
