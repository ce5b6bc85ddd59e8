//! The commands in sequence on small slices of the bundled sample: train, embed, eval, plot,
//! saliency, and pretrain followed by finetune.

use std::path::Path;

use crate::{QUICK_TRAINING, json, listing, ok, run, shared_model, stderr};

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

fn path_arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

#[test]
fn train_writes_the_model_and_a_json_lines_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = dir.path().join("m.ssne");
    let mut args = vec![
        "--json".to_owned(),
        "train".into(),
        "--rows".into(),
        "0..400".into(),
        "--model".into(),
    ];
    args.push(path_arg(&model));
    args.extend(QUICK_TRAINING.iter().map(|s| (*s).to_owned()));
    let summary = json(&run(&args));
    assert_eq!(summary["n_points"], 400);
    assert!(
        summary["classifier_train_accuracy"]
            .as_f64()
            .is_some_and(|a| (0.0..=1.0).contains(&a))
    );
    assert_eq!(listing(dir.path()), ["m.log.jsonl", "m.ssne"]);
    let log = std::fs::read_to_string(dir.path().join("m.log.jsonl")).expect("log");
    let records: Vec<serde_json::Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    assert!(records.iter().any(|r| r["stage"] == "pretrain"), "{log}");
    assert!(records.iter().any(|r| r["stage"] == "finetune"), "{log}");
    for record in &records {
        for key in ["epoch", "loss", "accuracy", "kl", "seconds"] {
            assert!(record.get(key).is_some(), "{key} missing in {record}");
        }
        // The coupled fine-tuning says how far it is in passes over the kNN graph.
        if record["stage"] == "finetune" {
            let done = record["graph_epochs"].as_f64();
            let per_epoch = record["steps_per_graph_epoch"].as_f64();
            assert!(done.is_some_and(|e| e > 0.0), "{record}");
            assert!(per_epoch.is_some_and(|s| s >= 1.0), "{record}");
        }
    }
}

#[test]
fn embed_writes_csv_with_labels_and_npy() {
    let model = path_arg(shared_model());
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("sub/test.csv");
    ok(&run([
        "embed",
        "--model",
        &model,
        "--rows",
        "600..850",
        "--out",
        &path_arg(&csv),
    ]));
    let text = std::fs::read_to_string(&csv).expect("csv");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("x,y,label"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 250);
    for row in &rows {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells.len(), 3, "{row}");
        assert!(cells[0].parse::<f32>().is_ok_and(f32::is_finite) && cells[1].parse::<f32>().is_ok());
        assert!(cells[2].parse::<u32>().is_ok_and(|l| l < 10), "{row}");
    }
    let npy = dir.path().join("test.npy");
    ok(&run([
        "embed",
        "--model",
        &model,
        "--rows",
        "600..850",
        "--out",
        &path_arg(&npy),
    ]));
    let array = ssne_data::npy::read_features(&npy).expect("npy");
    assert_eq!(array.dim(), (250, 2));
    // The same points give the same coordinates in both files.
    let first: Vec<f32> = rows[0]
        .split(',')
        .take(2)
        .map(|c| c.parse().unwrap_or(f32::NAN))
        .collect();
    assert_eq!(first, array.row(0).to_vec());
}

#[test]
fn eval_reports_every_metric_as_json_and_as_a_table() {
    let model = path_arg(shared_model());
    let summary = json(&run(["eval", "--model", &model, "--rows", "600..900", "--json"]));
    for key in [
        "knn1_accuracy",
        "knn10_accuracy",
        "trustworthiness",
        "kl",
        "classifier_accuracy",
    ] {
        let value = summary[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} is not a number: {summary}"));
        assert!(value.is_finite() && value >= 0.0, "{key} = {value}");
    }
    assert_eq!(summary["n_points"], 300);
    // Against the same training with one fine-tuning step, which is the
    // pretrained network's map (measured: 0.34 there, 0.55 here).
    let dir = tempfile::tempdir().expect("temp dir");
    let barely = dir.path().join("one-step.ssne");
    let barely_arg = path_arg(&barely);
    ok(&run([
        "train",
        "-q",
        "--rows",
        "0..600",
        "--model",
        &barely_arg,
        "--pretrain-epochs",
        "2",
        "--finetune-steps",
        "1",
        "--edges-per-step",
        "150",
        "--seed",
        "7",
    ]));
    let baseline = json(&run(["eval", "--model", &barely_arg, "--rows", "600..900", "--json"]));
    let knn10 = |s: &serde_json::Value| s["knn10_accuracy"].as_f64().expect("a number");
    assert!(
        knn10(&summary) > knn10(&baseline) + 0.1,
        "fine-tuned {summary}, one step {baseline}"
    );
    let table = ok(&run(["eval", "--model", &model, "--rows", "600..900"]));
    assert!(
        table.contains("k-NN accuracy (k=10)") && table.contains("trustworthiness (k=12)"),
        "{table}"
    );
}

#[test]
fn plot_draws_the_map_alone_and_with_points_over_it() {
    let model = path_arg(shared_model());
    let dir = tempfile::tempdir().expect("temp dir");
    let alone = dir.path().join("map.png");
    ok(&run(["plot", "--model", &model, "--out", &path_arg(&alone)]));
    let over = dir.path().join("over.png");
    ok(&run([
        "plot",
        "--model",
        &model,
        "--rows",
        "600..800",
        "--out",
        &path_arg(&over),
        "--width",
        "800",
    ]));
    for png in [&alone, &over] {
        let bytes = std::fs::read(png).expect("png");
        assert!(bytes.starts_with(PNG_MAGIC), "{} is not a PNG", png.display());
    }
    assert_ne!(std::fs::read(&alone).ok(), std::fs::read(&over).ok());
}

#[test]
fn pretrain_then_finetune_gives_a_model_that_embeds() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pre = path_arg(&dir.path().join("pre.ssne"));
    let tuned = path_arg(&dir.path().join("tuned.ssne"));
    let out = path_arg(&dir.path().join("e.csv"));
    ok(&run([
        "pretrain",
        "--rows",
        "0..400",
        "--pretrain-epochs",
        "1",
        "--model",
        &pre,
    ]));
    // A pretrained model has no map yet, and says how to get one.
    let early = run(["embed", "--model", &pre, "--rows", "0..10", "--out", &out]);
    assert_eq!(early.status.code(), Some(1));
    assert!(stderr(&early).contains("salient-sne finetune"), "{}", stderr(&early));
    let args = [
        "finetune",
        "--model",
        &pre,
        "--rows",
        "0..400",
        "--finetune-steps",
        "40",
        "--edges-per-step",
        "100",
        "--out",
        &tuned,
    ];
    ok(&run(args));
    ok(&run(["embed", "--model", &tuned, "--rows", "400..420", "--out", &out]));
    assert_eq!(
        listing(dir.path()),
        ["e.csv", "pre.log.jsonl", "pre.ssne", "tuned.log.jsonl", "tuned.ssne"]
    );
}

#[test]
fn saliency_writes_heatmaps_and_raw_maps() {
    let model = path_arg(shared_model());
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("maps");
    let summary = json(&run([
        "saliency",
        "--model",
        &model,
        "--rows",
        "600..900",
        "--from",
        "3",
        "--to",
        "5",
        "--out",
        &path_arg(&out),
        "--json",
    ]));
    let files = summary["files"].as_array().expect("files");
    assert!(
        files.iter().any(|f| f.as_str().is_some_and(|f| f.ends_with(".png"))),
        "{summary}"
    );
    assert!(
        files.iter().any(|f| f.as_str().is_some_and(|f| f.ends_with(".npy"))),
        "{summary}"
    );
    for file in files {
        assert!(
            Path::new(file.as_str().unwrap_or_default()).is_file(),
            "{file} was not written"
        );
    }
    let auto = dir.path().join("auto");
    let summary = json(&run([
        "saliency",
        "--model",
        &model,
        "--rows",
        "600..900",
        "--pairs",
        "auto",
        "--method",
        "smoothgrad",
        "--out",
        &path_arg(&auto),
        "--json",
    ]));
    assert!(summary["files"].as_array().is_some_and(|f| f.len() >= 2), "{summary}");
    let class = dir.path().join("class");
    ok(&run([
        "saliency",
        "--model",
        &model,
        "--rows",
        "600..700",
        "--kind",
        "class",
        "--out",
        &path_arg(&class),
    ]));
    assert!(listing(&class).iter().any(|f| f.ends_with(".png")));
    // The Jacobian runs with its defaults; only a method the user names conflicts.
    let jacobian = dir.path().join("jacobian");
    let jacobian_args = |method: Option<&'static str>| {
        let mut args = vec![
            "saliency".to_owned(),
            "--model".into(),
            model.clone(),
            "--rows".into(),
            "600..700".into(),
            "--kind".into(),
            "jacobian".into(),
            "--out".into(),
            path_arg(&jacobian),
        ];
        args.extend(
            method
                .map(|m| ["--method".to_owned(), m.to_owned()])
                .into_iter()
                .flatten(),
        );
        args
    };
    let refused = run(jacobian_args(Some("gradient")));
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("the Jacobian is exact; --method applies to class and directional maps"),
        "{}",
        stderr(&refused)
    );
    ok(&run(jacobian_args(None)));
    assert!(
        listing(&jacobian).iter().any(|f| f.ends_with(".npy")),
        "{:?}",
        listing(&jacobian)
    );
}

#[test]
fn csv_data_with_a_label_column_trains_and_evaluates() {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("blobs.csv");
    // Three separated blobs in 4-D with their class as a column named `class`.
    let mut text = String::from("a,b,class,c,d\n");
    for i in 0..240_u32 {
        let class = i % 3;
        let offset = class as f32 * 5.0;
        let jitter = |k: u32| ((i * 7 + k * 13) % 17) as f32 / 17.0;
        text.push_str(&format!(
            "{},{},{class},{},{}\n",
            offset + jitter(1),
            jitter(2),
            -offset + jitter(3),
            jitter(4)
        ));
    }
    std::fs::write(&csv, text).expect("csv");
    let model = path_arg(&dir.path().join("blobs.ssne"));
    ok(&run([
        "train",
        "--data",
        &path_arg(&csv),
        "--label-column",
        "class",
        "--scaling",
        "standardize",
        "--model",
        &model,
        "--pretrain-epochs",
        "3",
        "--finetune-steps",
        "60",
        "--edges-per-step",
        "60",
        "--perplexity",
        "10",
    ]));
    let summary = json(&run([
        "eval",
        "--model",
        &model,
        "--data",
        &path_arg(&csv),
        "--label-column",
        "class",
        "--json",
    ]));
    assert!(summary["knn1_accuracy"].as_f64().is_some_and(|a| a > 0.9), "{summary}");
}

#[test]
fn unlabelled_npy_data_gets_null_label_metrics() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sample = ssne_data::bundled::mnist_sample()
        .expect("sample")
        .rows(0..300)
        .expect("rows");
    let npy = dir.path().join("digits.npy");
    ssne_data::npy::write_f32(&npy, &sample.features.view()).expect("npy");
    let model = path_arg(&dir.path().join("u.ssne"));
    ok(&run([
        "train",
        "--data",
        &path_arg(&npy),
        "--model",
        &model,
        "--finetune-steps",
        "40",
        "--edges-per-step",
        "100",
    ]));
    let summary = json(&run(["eval", "--model", &model, "--data", &path_arg(&npy), "--json"]));
    assert!(
        summary["knn1_accuracy"].is_null() && summary["classifier_accuracy"].is_null(),
        "{summary}"
    );
    assert!(summary["trustworthiness"].as_f64().is_some(), "{summary}");
    let out = dir.path().join("u.csv");
    ok(&run([
        "embed",
        "--model",
        &model,
        "--data",
        &path_arg(&npy),
        "--out",
        &path_arg(&out),
    ]));
    assert!(std::fs::read_to_string(&out).is_ok_and(|t| t.starts_with("x,y\n")));
}

#[test]
fn the_thread_count_does_not_change_the_map() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut maps = Vec::new();
    for threads in ["1", "2"] {
        let model = path_arg(&dir.path().join(format!("t{threads}.ssne")));
        let out = dir.path().join(format!("t{threads}.csv"));
        let mut args = vec!["--threads", threads, "train", "--rows", "0..300", "--model", &model];
        args.extend_from_slice(QUICK_TRAINING);
        ok(&run(&args));
        ok(&run([
            "--threads",
            threads,
            "embed",
            "--model",
            &model,
            "--rows",
            "300..400",
            "--out",
            &path_arg(&out),
        ]));
        maps.push(std::fs::read(&out).expect("embedding"));
    }
    assert_eq!(maps[0], maps[1]);
}

#[test]
fn refine_reports_its_summary_and_without_the_flag_nothing_changes() {
    let model = path_arg(shared_model());
    let plain = json(&run(["--json", "eval", "--model", &model, "--rows", "600..800"]));
    assert!(
        plain.get("refine_steps").is_none(),
        "no refine keys without --refine: {plain}"
    );
    let refined = json(&run([
        "--json", "eval", "--model", &model, "--rows", "600..800", "--refine", "10",
    ]));
    assert_eq!(refined["refine_steps"], 10);
    let shift = refined["refine_mean_shift"].as_f64().expect("a number");
    assert!(shift > 0.0 && shift.is_finite(), "{refined}");
    let change = refined["refine_label_change"].as_f64().expect("labelled data");
    assert!((0.0..=1.0).contains(&change));
    assert!(refined["knn10_accuracy"].as_f64().is_some());

    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("refined.csv");
    let shifts = dir.path().join("shifts.npy");
    ok(&run([
        "embed",
        "--model",
        &model,
        "--rows",
        "600..650",
        "--refine",
        "--out",
        &path_arg(&csv),
        "--shifts",
        &path_arg(&shifts),
    ]));
    let text = std::fs::read_to_string(&csv).expect("csv");
    assert_eq!(text.lines().next(), Some("x,y,label,shift"));
    assert_eq!(text.lines().count(), 51);
    assert_eq!(listing(dir.path()), ["refined.csv", "shifts.npy"]);
}

#[test]
fn train_checkpoints_every_epoch_and_resumes_to_the_same_model() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = path_arg(&dir.path().join("run.state"));
    let train = |model: &str, extra: &[&str]| {
        let mut args: Vec<String> = ["train", "--rows", "0..400", "--model"].map(String::from).to_vec();
        args.push(path_arg(&dir.path().join(model)));
        args.extend(QUICK_TRAINING.iter().map(|s| (*s).to_owned()));
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        run(&args)
    };
    ok(&train("first.ssne", &["--checkpoint", &state]));
    assert!(listing(dir.path()).contains(&"run.state".to_owned()));
    let resumed = train("second.ssne", &["--resume", &state]);
    ok(&resumed);
    assert!(
        stderr(&resumed).contains("resuming after fine-tuning step 200"),
        "{}",
        stderr(&resumed)
    );
    let embed = |model: &str| {
        let out = dir.path().join(format!("{model}.csv"));
        ok(&run([
            "embed",
            "--model",
            &path_arg(&dir.path().join(model)),
            "--rows",
            "400..500",
            "--out",
            &path_arg(&out),
        ]));
        std::fs::read_to_string(out).expect("embedding written")
    };
    assert_eq!(embed("first.ssne"), embed("second.ssne"));

    let refused = train("third.ssne", &["--resume", &state, "--perplexity", "20"]);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("cannot resume"), "{}", stderr(&refused));
    let garbage = dir.path().join("garbage.state");
    std::fs::write(&garbage, b"not a state").expect("write");
    let refused = train("third.ssne", &["--resume", &path_arg(&garbage)]);
    assert!(!refused.status.success());
    let message = stderr(&refused);
    assert!(message.contains("garbage.state"), "{message}");
    // A training state is not a model: its own words and its own fix.
    assert!(message.contains("not a salient-sne training state"), "{message}");
    assert!(message.contains("without --resume"), "{message}");
    assert!(!message.contains("model"), "{message}");
    assert!(!listing(dir.path()).contains(&"third.ssne".to_owned()));
}

#[test]
fn the_help_of_embed_and_eval_shows_the_default_refine_steps() {
    for command in ["embed", "eval"] {
        let help = ok(&run([command, "--help"]));
        assert!(help.contains("[default STEPS: 50]"), "{command} --help:\n{help}");
    }
}

#[test]
fn the_training_summary_labels_every_number() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = path_arg(&dir.path().join("m.ssne"));
    let mut args = vec!["train", "--rows", "0..300", "--model", &model];
    args.extend_from_slice(QUICK_TRAINING);
    let summary = ok(&run(&args));
    let line = |label: &str| {
        summary
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no {label:?} line in:\n{summary}"))
            .to_owned()
    };
    assert!(
        line("classifier accuracy").ends_with("on the training rows"),
        "{summary}"
    );
    assert!(line("after fine-tuning").contains("the map's network"), "{summary}");
    assert!(
        line("final t-SNE loss").contains("KL(P||Q) up to a constant"),
        "{summary}"
    );
    assert!(line("training time").ends_with(" s (this run)"), "{summary}");
    assert!(!summary.contains("seconds"), "{summary}");
}

#[test]
fn saliency_evaluate_reports_every_faithfulness_metric() {
    let model = path_arg(shared_model());
    let dir = tempfile::tempdir().expect("temp dir");
    let args = |method: &'static str, out: &str| {
        [
            "saliency",
            "--model",
            &model,
            "--rows",
            "600..900",
            "--from",
            "3",
            "--to",
            "5",
            "--method",
            method,
            "--evaluate",
            "--out",
            out,
            "--json",
        ]
        .map(str::to_owned)
    };
    let out = path_arg(&dir.path().join("gradient"));
    let summary = json(&run(args("gradient", &out)));
    let evaluation = summary["evaluation"].as_array().expect("evaluation");
    assert_eq!(evaluation.len(), 1, "{summary}");
    assert_eq!(evaluation[0]["from"], "3");
    let m = &evaluation[0]["metrics"];
    let get = |key: &str| m[key].as_f64().unwrap_or_else(|| panic!("{key} missing in {m}"));
    for key in ["infidelity_gaussian", "infidelity_square", "max_sensitivity"] {
        assert!(get(key).is_finite() && get(key) >= 0.0, "{key}: {m}");
    }
    // The map is the gradient here: a step along it is the step along the gradient,
    // and to first order it beats a random direction of the same length.
    assert_eq!(get("follow_map"), get("follow_gradient"), "{m}");
    assert!(get("follow_map") > get("follow_random_mean_abs"), "{m}");
    assert!(
        get("insertion_area").is_finite() && get("deletion_area").is_finite(),
        "{m}"
    );
    // Another method is measured against the same gradient; the same run gives the same figures.
    let smooth = json(&run(args("smoothgrad", &path_arg(&dir.path().join("smooth")))));
    let sm = &smooth["evaluation"][0]["metrics"];
    assert_eq!(sm["follow_gradient"], m["follow_gradient"], "{sm}");
    assert_ne!(sm["follow_map"], m["follow_map"], "{sm}");
    let again = json(&run(args("smoothgrad", &path_arg(&dir.path().join("again")))));
    assert_eq!(again["evaluation"], smooth["evaluation"]);
    // Only directional maps of one model are measured.
    let refused = run([
        "saliency",
        "--model",
        &model,
        "--rows",
        "600..700",
        "--kind",
        "class",
        "--evaluate",
        "--out",
        &path_arg(&dir.path().join("class")),
    ]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("--evaluate measures directional maps"),
        "{}",
        stderr(&refused)
    );
}
