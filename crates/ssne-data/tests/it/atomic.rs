//! `write_atomic` and the writers built on it leave nothing behind when they fail.

use ndarray::array;
use ssne_data::{DataError, npy, write_atomic};

use crate::file_names;

#[test]
fn failing_closure_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("result.bin");
    let result = write_atomic(&path, |out| {
        out.write_all(&[1; 100_000])?;
        Err(std::io::Error::other("simulated failure half-way"))
    });
    match result {
        Err(DataError::Io { path: reported, source }) => {
            assert_eq!(reported, path);
            assert_eq!(source.to_string(), "simulated failure half-way");
        }
        other => panic!("expected Io, got {other:?}"),
    }
    assert!(file_names(dir.path()).is_empty(), "{:?}", file_names(dir.path()));
}

#[test]
fn failing_write_keeps_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("y.npy");
    npy::write_f32(&path, &array![[1.0_f32]].view()).unwrap();
    let before = std::fs::read(&path).unwrap();
    let failed = write_atomic(&path, |out| {
        out.write_all(b"garbage")?;
        Err(std::io::Error::other("no"))
    });
    assert!(failed.is_err());
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(file_names(dir.path()), ["y.npy"]);
}

#[test]
fn successful_write_leaves_only_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.csv");
    ssne_data::csv::write_f32(&path, &["a"], array![[1.0_f32], [2.0]].view()).unwrap();
    assert_eq!(file_names(dir.path()), ["out.csv"]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "a\n1\n2\n");
}
