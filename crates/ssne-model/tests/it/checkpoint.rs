//! Model files: round trip, and every kind of damage is a clear error.

use ssne_model::{ModelError, ParametricTsne, Silent, checkpoint};

use crate::{quick_config, sample};

fn trained() -> ParametricTsne {
    ParametricTsne::fit(&sample(0..400), None, &quick_config(5), &mut Silent).expect("trains")
}

#[test]
fn save_and_load_round_trip_exactly() {
    let model = trained();
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("model.ssne");
    checkpoint::save(&model, &path).expect("saves");
    let loaded = checkpoint::load(&path).expect("loads");
    assert_eq!(loaded, model);
    let x = sample(400..450);
    assert_eq!(
        loaded.embed(x.features.view()).ok(),
        model.embed(x.features.view()).ok()
    );
    // Nothing but the model file was left in the directory.
    assert_eq!(std::fs::read_dir(dir.path()).map(|d| d.count()).ok(), Some(1));
}

#[test]
fn damaged_files_are_refused_with_the_reason() {
    let model = trained();
    let bytes = checkpoint::to_bytes(&model).expect("encodes");
    let path = std::path::Path::new("model.ssne");
    let problem = |b: &[u8]| match checkpoint::from_bytes(b, path) {
        Err(ModelError::BadModelFile { problem, .. }) => problem,
        other => panic!("expected BadModelFile, got {other:?}"),
    };
    let mut flipped = bytes.clone();
    let last = flipped.len() - 10;
    flipped[last] ^= 0x40;
    assert!(problem(&flipped).contains("checksum"));
    assert!(problem(&bytes[..bytes.len() - 100]).contains("truncated"));
    assert!(problem(&bytes[..10]).contains("magic"));
    assert!(problem(b"PK\x03\x04 definitely a zip file").contains("magic"));
    let mut other_version = bytes.clone();
    other_version[8] = 99;
    assert!(problem(&other_version).contains("version 99"));
}

#[test]
fn a_missing_file_names_the_path() {
    let err = checkpoint::load(std::path::Path::new("/nonexistent/m.ssne")).expect_err("missing");
    assert!(err.to_string().contains("/nonexistent/m.ssne"), "{err}");
}
