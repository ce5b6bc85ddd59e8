//! `train --ensemble N`: N seeds into NAME.ssne, NAME.1.ssne, ..., reproducible, written only
//! after the last member trained, and accepted as they are by `saliency --ensemble`.

use std::path::Path;

use crate::{QUICK_TRAINING, json, ok, run, stderr};

/// The flags of a tiny ensemble of `n` models at `model` (seed 7 from QUICK_TRAINING).
fn train_ensemble(model: &Path, n: &str, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<String> = ["--json", "train", "--rows", "0..300", "--ensemble", n, "--model"]
        .map(String::from)
        .to_vec();
    args.push(model.to_string_lossy().into_owned());
    args.extend(QUICK_TRAINING.iter().map(|s| (*s).to_owned()));
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    run(&args)
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("readable")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn an_ensemble_trains_consecutive_seeds_reproducibly_into_files_saliency_accepts() {
    let (a, b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let summary = json(&train_ensemble(&a.path().join("m.ssne"), "3", &[]));
    let seeds: Vec<u64> = summary["models"]
        .as_array()
        .expect("models")
        .iter()
        .map(|m| m["seed"].as_u64().expect("seed"))
        .collect();
    assert_eq!(seeds, [7, 8, 9]);
    assert_eq!(
        files(a.path()),
        [
            "m.1.log.jsonl",
            "m.1.ssne",
            "m.2.log.jsonl",
            "m.2.ssne",
            "m.log.jsonl",
            "m.ssne"
        ],
        "the members and their logs, and no temporary file"
    );
    // The same command writes the same bytes; the members differ from each other.
    ok(&train_ensemble(&b.path().join("m.ssne"), "3", &[]));
    let bytes = |dir: &Path, name: &str| std::fs::read(dir.join(name)).expect("written");
    for name in ["m.ssne", "m.1.ssne", "m.2.ssne"] {
        assert_eq!(bytes(a.path(), name), bytes(b.path(), name), "{name}");
    }
    assert_ne!(bytes(a.path(), "m.ssne"), bytes(a.path(), "m.1.ssne"));
    // Member k is the single run with seed 7 + k.
    let mut args: Vec<String> = ["train", "--rows", "0..300", "--model"].map(String::from).to_vec();
    args.push(b.path().join("single.ssne").to_string_lossy().into_owned());
    let flags = QUICK_TRAINING.join(" ").replace("--seed 7", "--seed 9");
    args.extend(flags.split(' ').map(str::to_owned));
    ok(&run(&args));
    assert_eq!(bytes(b.path(), "single.ssne"), bytes(a.path(), "m.2.ssne"));
    // The command it prints is the saliency call over the set, and it runs.
    let command = summary["saliency"].as_str().expect("command");
    assert!(
        command.contains("--ensemble") && command.contains("m.2.ssne"),
        "{command}"
    );
    let model = |name: &str| a.path().join(name).to_string_lossy().into_owned();
    let out = a.path().join("maps").to_string_lossy().into_owned();
    ok(&run([
        "saliency",
        "--model",
        &model("m.ssne"),
        "--ensemble",
        &model("m.1.ssne"),
        &model("m.2.ssne"),
        "--rows",
        "0..300",
        "--from",
        "4",
        "--to",
        "9",
        "--method",
        "gradient",
        "--out",
        &out,
    ]));
}

#[test]
fn an_ensemble_that_cannot_write_every_member_writes_none() {
    let dir = tempfile::tempdir().expect("dir");
    // Not a model file where member 2 goes: refused before any training, nothing written.
    std::fs::write(dir.path().join("m.2.ssne"), b"my notes").expect("write");
    let refused = train_ensemble(&dir.path().join("m.ssne"), "3", &[]);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("m.2.ssne"), "{}", stderr(&refused));
    assert_eq!(files(dir.path()), ["m.2.ssne"]);
    assert_eq!(std::fs::read(dir.path().join("m.2.ssne")).expect("kept"), b"my notes");
    // A run that fails (a perplexity too large for 300 rows) writes no member either.
    std::fs::remove_file(dir.path().join("m.2.ssne")).expect("remove");
    let failed = train_ensemble(&dir.path().join("m.ssne"), "2", &["--perplexity", "400"]);
    assert!(!failed.status.success());
    assert_eq!(files(dir.path()), Vec::<String>::new());
}
