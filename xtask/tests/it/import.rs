//! `--from DIR`: gzip or raw files from a local folder, verified like downloads.

use xtask::fetch::{FetchPlan, Outcome, Source, Ui, run};

use crate::{
    IMAGES_NAME, LABELS_NAME, SAMPLE_IMAGES_GZ, SAMPLE_LABELS_GZ, corrupted, file_names, gunzip, regzip, sample_specs,
};

fn plan(dest: &std::path::Path) -> FetchPlan {
    FetchPlan {
        files: sample_specs(),
        mirrors: Vec::new(),
        dest: dest.to_path_buf(),
        offline_hint: "hint".into(),
    }
}

#[test]
fn gzip_and_raw_files_are_imported_in_the_form_found() {
    let from = tempfile::tempdir().unwrap();
    std::fs::write(from.path().join(IMAGES_NAME), SAMPLE_IMAGES_GZ).unwrap();
    // The labels only as a decompressed file.
    std::fs::write(from.path().join("train-labels-idx1-ubyte"), gunzip(SAMPLE_LABELS_GZ)).unwrap();
    let dest = tempfile::tempdir().unwrap();
    let report = run(
        &plan(dest.path()),
        &Source::Dir(from.path().to_path_buf()),
        &Ui::silent(),
    )
    .unwrap();
    assert_eq!(
        report.files[0].outcome,
        Outcome::Imported {
            from: from.path().join(IMAGES_NAME)
        }
    );
    assert_eq!(
        report.files[1].outcome,
        Outcome::Imported {
            from: from.path().join("train-labels-idx1-ubyte")
        }
    );
    assert_eq!(file_names(dest.path()), [IMAGES_NAME, "train-labels-idx1-ubyte"]);
    // Both forms count as present afterwards: no mirror is needed (and none is configured).
    let again = run(&plan(dest.path()), &Source::Mirrors, &Ui::silent()).unwrap();
    assert!(
        again.files.iter().all(|file| file.outcome == Outcome::AlreadyPresent),
        "{again:?}"
    );
    let data = ssne_data::idx::load_pair(
        &dest.path().join(IMAGES_NAME),
        Some(&dest.path().join("train-labels-idx1-ubyte")),
    )
    .unwrap();
    assert_eq!(data.labels.map(|labels| labels.len()), Some(10_000));
}

#[test]
fn recompressed_gzip_with_the_published_content_is_accepted() {
    // Debian's dataset-fashion-mnist ships the same data in other gzip wrappers.
    let from = tempfile::tempdir().unwrap();
    let repacked = [regzip(SAMPLE_IMAGES_GZ), regzip(SAMPLE_LABELS_GZ)];
    assert_ne!(repacked[0], SAMPLE_IMAGES_GZ);
    std::fs::write(from.path().join(IMAGES_NAME), &repacked[0]).unwrap();
    std::fs::write(from.path().join(LABELS_NAME), &repacked[1]).unwrap();
    let dest = tempfile::tempdir().unwrap();
    run(
        &plan(dest.path()),
        &Source::Dir(from.path().to_path_buf()),
        &Ui::silent(),
    )
    .unwrap();
    assert_eq!(std::fs::read(dest.path().join(IMAGES_NAME)).unwrap(), repacked[0]);
}

#[test]
fn a_bad_file_is_not_imported() {
    let from = tempfile::tempdir().unwrap();
    std::fs::write(from.path().join(IMAGES_NAME), corrupted(SAMPLE_IMAGES_GZ)).unwrap();
    let dest = tempfile::tempdir().unwrap();
    let err = run(
        &plan(dest.path()),
        &Source::Dir(from.path().to_path_buf()),
        &Ui::silent(),
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains(&from.path().join(IMAGES_NAME).display().to_string()),
        "{message}"
    );
    assert!(message.contains("checksum mismatch"), "{message}");
    assert!(file_names(dest.path()).is_empty(), "{:?}", file_names(dest.path()));
}

#[test]
fn a_missing_file_is_named() {
    let from = tempfile::tempdir().unwrap();
    let dest = tempfile::tempdir().unwrap();
    let err = run(
        &plan(dest.path()),
        &Source::Dir(from.path().to_path_buf()),
        &Ui::silent(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("neither {IMAGES_NAME} nor train-images-idx3-ubyte found")),
        "{err}"
    );
}
