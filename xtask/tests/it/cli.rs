//! The `xtask` binary itself: help, unknown tasks, and an offline `--from` failure.

use std::process::Command;

fn xtask(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .expect("running the xtask binary")
}

#[test]
fn help_lists_the_tasks() {
    let output = xtask(&["help"]);
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    for task in [
        "fetch-mnist",
        "fetch-fashion-mnist",
        "tidy",
        "--from",
        "--mirror",
        "--dest",
        "--quiet",
    ] {
        assert!(stdout.contains(task), "{task} missing from:\n{stdout}");
    }
}

#[test]
fn unknown_task_fails_with_usage() {
    let output = xtask(&["frobnicate"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown task `frobnicate`"));
}

#[test]
fn import_from_an_empty_folder_fails_without_touching_the_network() {
    let from = tempfile::tempdir().unwrap();
    let dest = tempfile::tempdir().unwrap();
    let output = xtask(&[
        "fetch-mnist",
        "--quiet",
        "--from",
        &from.path().display().to_string(),
        "--dest",
        &dest.path().display().to_string(),
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("neither train-images-idx3-ubyte.gz nor train-images-idx3-ubyte found"),
        "{stderr}"
    );
    assert!(crate::file_names(dest.path()).is_empty());
}
