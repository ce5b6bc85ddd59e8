//! Bad input: each case must fail with exit code 1, one line naming the file and the fix, and
//! no output file left behind.

use std::path::Path;
use std::process::Output;

use crate::{listing, path_arg, run, shared_model, stderr};

/// Asserts a clean failure whose message mentions every one of `needles`.
fn fails_with(output: &Output, needles: &[&str]) -> String {
    let message = stderr(output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "expected exit code 1, got {}: {message}",
        output.status
    );
    assert!(output.stdout.is_empty(), "nothing belongs on stdout after an error");
    // Notes may come first; the error is the one last line.
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

#[test]
fn a_missing_data_file_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("nowhere.csv");
    let out = dir.path().join("out.csv");
    let model = path_arg(shared_model());
    let result = run([
        "embed",
        "--model",
        &model,
        "--data",
        &path_arg(&missing),
        "--out",
        &path_arg(&out),
    ]);
    fails_with(&result, &["nowhere.csv", "check the path"]);
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn a_missing_model_file_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let result = run([
        "eval",
        "--model",
        &path_arg(&dir.path().join("none.ssne")),
        "--rows",
        "0..100",
    ]);
    fails_with(&result, &["none.ssne", "salient-sne train"]);
}

#[test]
fn a_corrupt_idx_file_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Images magic, a header announcing 100 images of 28 x 28, and only 10 pixels.
    let mut bytes = vec![0, 0, 8, 3, 0, 0, 0, 100, 0, 0, 0, 28, 0, 0, 0, 28];
    bytes.extend_from_slice(&[7; 10]);
    let images = dir.path().join("bad-images-idx3-ubyte");
    std::fs::write(&images, bytes).expect("fixture");
    let model = dir.path().join("m.ssne");
    let result = run(["train", "--data", &path_arg(&images), "--model", &path_arg(&model)]);
    fails_with(&result, &["bad-images-idx3-ubyte", "truncated"]);
    // A wrong magic number.
    std::fs::write(&images, [0, 0, 8, 1, 0, 0, 0, 1, 5]).expect("fixture");
    let result = run([
        "train",
        "--data",
        &path_arg(&images),
        "--format",
        "idx",
        "--model",
        &path_arg(&model),
    ]);
    fails_with(&result, &["bad-images-idx3-ubyte", "magic"]);
    assert_eq!(listing(dir.path()), ["bad-images-idx3-ubyte"]);
}

#[test]
fn data_with_the_wrong_feature_count_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("narrow.csv");
    std::fs::write(&csv, "a,b,c\n1,2,3\n4,5,6\n").expect("fixture");
    let out = dir.path().join("e.csv");
    let model = path_arg(shared_model());
    let result = run([
        "embed",
        "--model",
        &model,
        "--data",
        &path_arg(&csv),
        "--out",
        &path_arg(&out),
    ]);
    fails_with(&result, &["narrow.csv", "3 features", "784"]);
    assert_eq!(listing(dir.path()), ["narrow.csv"]);
}

#[test]
fn a_perplexity_too_large_for_the_batch_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = dir.path().join("m.ssne");
    let result = run([
        "train",
        "--rows",
        "0..300",
        "--scheme",
        "fixed",
        "--batch-size",
        "20",
        "--perplexity",
        "30",
        "--model",
        &path_arg(&model),
    ]);
    fails_with(&result, &["perplexity", "--batch-size"]);
    // The coupled scheme over too few points hits the affinity limit instead.
    let result = run([
        "train",
        "--rows",
        "0..20",
        "--perplexity",
        "30",
        "--model",
        &path_arg(&model),
    ]);
    fails_with(
        &result,
        &[
            "perplexity 30 needs at least 32 training rows, and there are 20; use a perplexity below 19",
            "lower --perplexity",
        ],
    );
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn truncated_and_corrupt_model_files_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bytes = std::fs::read(shared_model()).expect("model");
    let truncated = dir.path().join("truncated.ssne");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("fixture");
    let mut flipped = bytes.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0xff;
    let corrupt = dir.path().join("corrupt.ssne");
    std::fs::write(&corrupt, flipped).expect("fixture");
    let text = dir.path().join("text.ssne");
    std::fs::write(&text, "not a model").expect("fixture");
    let out = dir.path().join("e.csv");
    for (model, problem) in [
        (&truncated, "truncated"),
        (&corrupt, "checksum"),
        (&text, "not a salient-sne model"),
    ] {
        let result = run([
            "embed",
            "--model",
            &path_arg(model),
            "--rows",
            "0..10",
            "--out",
            &path_arg(&out),
        ]);
        fails_with(&result, &[&path_arg(model), problem, "train it again"]);
    }
    assert_eq!(listing(dir.path()), ["corrupt.ssne", "text.ssne", "truncated.ssne"]);
}

#[test]
fn bad_flags_and_ranges_are_explained() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = path_arg(shared_model());
    let out = dir.path().join("e.txt");
    let result = run(["embed", "--model", &model, "--rows", "0..10", "--out", &path_arg(&out)]);
    fails_with(&result, &["e.txt", ".csv or .npy"]);
    let out = dir.path().join("e.csv");
    let result = run([
        "embed",
        "--model",
        &model,
        "--rows",
        "9000..20000",
        "--out",
        &path_arg(&out),
    ]);
    fails_with(
        &result,
        &["--rows 9000..20000 lies outside the data: it has 10000 rows, so a range must lie within 0..10000"],
    );
    assert!(listing(dir.path()).is_empty());
    // Usage errors are clap's: exit code 2.
    let result = run(["embed", "--model", &model, "--no-such-flag"]);
    assert_eq!(result.status.code(), Some(2));
    let result = run(["train", "--scheme", "sideways", "--model", "x.ssne"]);
    assert_eq!(result.status.code(), Some(2));
    assert!(stderr(&result).contains("coupled"), "{}", stderr(&result));
}

#[test]
fn shifts_asked_for_data_without_images_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("points.csv");
    let mut text = String::from("a,b,label\n");
    for i in 0..60 {
        text.push_str(&format!("{},{},{}\n", i % 7, i % 5, i % 2));
    }
    std::fs::write(&csv, text).expect("csv");
    let model = dir.path().join("m.ssne");
    let result = run([
        "train",
        "--data",
        &path_arg(&csv),
        "--model",
        &path_arg(&model),
        "--shift-pixels",
        "1",
    ]);
    fails_with(&result, &["--shift-pixels", "points.csv"]);
    assert_eq!(listing(dir.path()), ["points.csv"]);
}

/// A small CSV with a header and a label column, in `dir`.
fn small_csv(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("digits.csv");
    let mut text = String::from("a,b,c,label\n");
    for i in 0..40 {
        text.push_str(&format!("{},{},{},{}\n", i % 7, i % 5, i % 3, i % 2));
    }
    std::fs::write(&path, text).expect("writes the CSV");
    path
}

#[test]
fn a_model_is_never_written_over_an_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = small_csv(dir.path());
    let before = std::fs::read(&csv).expect("reads the CSV");
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).expect("makes a folder");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&csv, dir.path().join("link.ssne")).expect("makes a link");
    let mut targets = vec![csv.clone(), sub.join("..").join("digits.csv")];
    if cfg!(unix) {
        targets.push(dir.path().join("link.ssne"));
    }
    for target in &targets {
        for command in ["train", "pretrain"] {
            let output = run([command, "--data", &path_arg(&csv), "--model", &path_arg(target)]);
            fails_with(&output, &["one of the command's inputs"]);
        }
        let output = run([
            "finetune",
            "--model",
            &path_arg(shared_model()),
            "--data",
            &path_arg(&csv),
            "--out",
            &path_arg(target),
        ]);
        fails_with(&output, &["one of the command's inputs"]);
        // The log beside the model is an output too.
        let log = run([
            "train",
            "--data",
            &path_arg(&csv),
            "--model",
            &path_arg(&dir.path().join("m.ssne")),
            "--log",
            &path_arg(target),
        ]);
        fails_with(&log, &["training log"]);
    }
    assert_eq!(
        std::fs::read(&csv).expect("reads the CSV"),
        before,
        "the input was changed"
    );
}

#[test]
fn a_file_that_is_not_a_model_is_replaced_only_with_force() {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = small_csv(dir.path());
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "precious notes\n").expect("writes notes");
    let output = run(["train", "--data", &path_arg(&csv), "--model", &path_arg(&notes)]);
    let message = fails_with(&output, &["notes.txt", "not a salient-sne model file", "--force"]);
    assert!(message.contains("exists"), "{message}");
    assert_eq!(
        std::fs::read_to_string(&notes).expect("reads notes"),
        "precious notes\n"
    );
    assert_eq!(listing(dir.path()), ["digits.csv", "notes.txt"]);
}
