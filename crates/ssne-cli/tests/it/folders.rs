//! Folders of outputs are written as a set: built under a hidden name, moved into place when
//! complete, and an existing folder is replaced only with `--force`.

use std::path::Path;

use crate::{listing, ok, path_arg, run, shared_model, stderr};

/// `saliency --kind class` of the shared model into `out`, plus `extra` flags.
fn class_maps(out: &Path, extra: &[&str]) -> std::process::Output {
    let model = path_arg(shared_model());
    let out = path_arg(out);
    let mut args = vec![
        "saliency", "--model", &model, "--rows", "600..700", "--kind", "class", "--class", "3", "--out", &out,
    ];
    args.extend_from_slice(extra);
    run(args)
}

#[test]
fn a_saliency_run_that_fails_halfway_leaves_no_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("maps");
    // The classes are drawn in the order given: the maps of class 3 are written, then the data
    // proves to have no class 77.
    let failed = class_maps(&out, &["--class", "77"]);
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    assert_eq!(
        stderr(&failed).trim_end(),
        "error: class saliency of 77: unknown group \"77\"; the groups are \
         [\"0\", \"1\", \"2\", \"3\", \"4\", \"5\", \"6\", \"7\", \"8\", \"9\"]; \
         name the clusters by a label or a class name the data has"
    );
    assert!(listing(dir.path()).is_empty(), "left behind: {:?}", listing(dir.path()));
}

#[test]
fn an_existing_folder_is_kept_without_force_and_replaced_whole_with_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("maps");
    std::fs::create_dir(&out).expect("created");
    std::fs::write(out.join("notes.txt"), b"mine").expect("written");
    let refused = class_maps(&out, &[]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert_eq!(
        stderr(&refused).trim_end(),
        format!(
            "error: {}: this folder exists and is not empty; give --force to replace it, or choose another --out",
            out.display()
        )
    );
    assert_eq!(listing(&out), vec!["notes.txt"]);
    ok(&class_maps(&out, &["--force"]));
    let files = listing(&out);
    assert!(
        !files.contains(&"notes.txt".to_owned()),
        "the old folder survived: {files:?}"
    );
    assert!(files.iter().any(|f| f.ends_with(".npy")), "{files:?}");
    assert_eq!(listing(dir.path()), vec!["maps"], "no staging folder is left");
}

#[test]
fn the_files_listed_are_the_final_paths() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("maps");
    let summary = crate::json(&class_maps(&out, &["--json"]));
    let files = summary["files"].as_array().expect("a file list");
    assert!(!files.is_empty(), "{summary}");
    for file in files {
        let path = Path::new(file.as_str().expect("a path"));
        assert!(path.starts_with(&out) && path.is_file(), "{summary}");
    }
}

#[test]
fn demo_refuses_an_existing_folder_before_any_work() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("demo");
    std::fs::create_dir(&out).expect("created");
    std::fs::write(out.join("model.ssne"), b"last week's model").expect("written");
    let started = std::time::Instant::now();
    let refused = run(["demo", "--fast", "--out", &path_arg(&out)]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert_eq!(
        stderr(&refused).trim_end(),
        format!(
            "error: {}: this folder exists and is not empty; give --force to replace it, or choose another --out",
            out.display()
        )
    );
    // Refused before training: a fast demo takes several seconds.
    assert!(started.elapsed().as_secs_f64() < 5.0, "{:?}", started.elapsed());
    assert_eq!(listing(&out), vec!["model.ssne"]);
    assert_eq!(
        std::fs::read(out.join("model.ssne")).expect("read"),
        b"last week's model"
    );
    assert_eq!(listing(dir.path()), vec!["demo"], "no staging folder is left");
}

#[test]
fn a_file_is_refused_as_the_output_folder_even_with_force() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("maps");
    std::fs::write(&out, b"a file").expect("written");
    let refused = class_maps(&out, &["--force"]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert_eq!(
        stderr(&refused).trim_end(),
        format!(
            "error: {}: this is a file, and the output is a folder; choose another --out",
            out.display()
        )
    );
    assert_eq!(std::fs::read(&out).expect("read"), b"a file");
    assert_eq!(listing(dir.path()), vec!["maps"]);
}
