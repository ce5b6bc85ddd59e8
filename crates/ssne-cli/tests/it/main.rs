//! End-to-end tests of the `salient-sne` binary: they run it as a user would and check its
//! outputs, its messages and its exit codes.

mod bad_files;
mod browser;
mod defaults;
mod demo;
mod ensemble;
mod errors;
mod export;
mod folders;
mod idx;
#[cfg(unix)]
mod interrupt;
mod labels;
mod paper_cuts;
mod reference;
mod report;
mod workflow;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// Runs the binary with `args` (progress is hidden: stderr is a pipe, not a terminal).
pub(crate) fn run<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_salient-sne"))
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("cannot start salient-sne: {err}"))
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts success and returns stdout.
pub(crate) fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "salient-sne failed ({}):\n{}",
        output.status,
        stderr(output)
    );
    stdout(output)
}

/// Parses the one JSON object printed by `--json`.
pub(crate) fn json(output: &Output) -> serde_json::Value {
    let text = ok(output);
    serde_json::from_str(text.trim()).unwrap_or_else(|err| panic!("not one JSON object ({err}):\n{text}"))
}

/// The training flags of a small, quick model: enough to exercise everything, not to be good.
/// 200 fine-tuning steps: the default's three hidden layers need about that many to beat the
/// pretrained map clearly (`workflow::eval_reports_every_metric_as_json_and_as_a_table`).
pub(crate) const QUICK_TRAINING: &[&str] = &[
    "--pretrain-epochs",
    "2",
    "--finetune-steps",
    "200",
    "--edges-per-step",
    "150",
    "--seed",
    "7",
];

/// A model trained once on rows 0..600 of the bundled sample and shared by the tests that only read it.
pub(crate) fn shared_model() -> &'static Path {
    static MODEL: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = MODEL.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap_or_else(|err| panic!("no temp dir: {err}"));
        let model = dir.path().join("shared.ssne");
        let mut args = vec!["train", "--rows", "0..600", "--model"];
        let model_arg = model.to_string_lossy().into_owned();
        args.push(&model_arg);
        args.extend_from_slice(QUICK_TRAINING);
        ok(&run(&args));
        (dir, model)
    });
    path
}

/// The names of the files in `dir`, sorted.
pub(crate) fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("cannot list {}: {err}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    names
}

/// A path as a command-line argument.
pub(crate) fn path_arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// `dir/file` as CSV `f1,f2,f3,<label_column>`: 120 rows in two well separated classes, labelled
/// `names[0]` and `names[1]`.
pub(crate) fn labelled_csv(dir: &Path, label_column: &str, file: &str, names: [&str; 2]) -> PathBuf {
    let path = dir.join(file);
    let mut text = format!("f1,f2,f3,{label_column}\n");
    for i in 0..120 {
        let class = i % 2;
        let offset = 10.0 * class as f32;
        text.push_str(&format!(
            "{},{},{},{}\n",
            offset + (i % 7) as f32 * 0.3,
            offset - (i % 5) as f32 * 0.2,
            (i % 3) as f32 * 0.1,
            names[class]
        ));
    }
    std::fs::write(&path, text).expect("fixture");
    path
}

/// Asserts a clean failure (exit code 1, nothing on stdout, one error line, last) whose error
/// line mentions every one of `needles`; returns that line.
pub(crate) fn fails_with(output: &Output, needles: &[&str]) -> String {
    let message = stderr(output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "expected exit code 1, got {}: {message}",
        output.status
    );
    assert!(output.stdout.is_empty(), "nothing belongs on stdout after an error");
    let errors: Vec<&str> = message.lines().filter(|line| line.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "one error line expected: {message}");
    assert_eq!(
        message.trim_end().lines().last(),
        Some(errors[0]),
        "the error comes last: {message}"
    );
    for needle in needles {
        assert!(errors[0].contains(needle), "{needle:?} missing from: {message}");
    }
    errors[0].to_owned()
}
