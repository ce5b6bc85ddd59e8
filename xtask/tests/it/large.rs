//! `make-large`: the images of the source in turn, the first copy as it is and later copies
//! moved slightly, with their labels; the same bytes for the same seed; written atomically.

use std::path::{Path, PathBuf};

use ssne_data::Format;
use xtask::large::{Layout, MakeLarge, labels_path, make};

use crate::{IMAGES_NAME, LABELS_NAME, SAMPLE_IMAGES_GZ, SAMPLE_LABELS_GZ};

/// A folder holding the bundled sample as an MNIST-style training split (10,000 images).
fn source(dir: &Path) -> PathBuf {
    let folder = dir.join("source");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join(IMAGES_NAME), SAMPLE_IMAGES_GZ).unwrap();
    std::fs::write(folder.join(LABELS_NAME), SAMPLE_LABELS_GZ).unwrap();
    folder
}

fn task(from: &Path, out: PathBuf, rows: usize, seed: u64, layout: Layout) -> MakeLarge {
    MakeLarge {
        from: from.to_path_buf(),
        rows,
        out,
        seed,
        layout,
    }
}

#[test]
fn copies_are_the_originals_then_moved_versions_with_their_labels() {
    let dir = tempfile::tempdir().unwrap();
    let from = source(dir.path());
    let original = ssne_data::mnist::load_dir(&from, ssne_data::mnist::SplitName::Train).unwrap();
    let out = dir.path().join("large.npy");
    let mut reported = Vec::new();
    let made = make(&task(&from, out.clone(), 10_050, 3, Layout::NpyF32), |done| {
        reported.push(done)
    })
    .unwrap();
    assert_eq!(reported.last(), Some(&10_050));
    assert!(reported.len() > 1, "written in several chunks: {reported:?}");
    let large = ssne_data::load(&made.images, Format::Auto).unwrap();
    assert_eq!(large.features.dim(), (10_050, 784));
    assert_eq!(large.image_shape, Some([28, 28]));
    assert_eq!(
        large.features.slice(ssne_data::ndarray::s![..10_000, ..]),
        original.features,
        "the first copy of each image is the image"
    );
    for k in 0..50 {
        let moved = large.features.row(10_000 + k);
        let source = original.features.row(k);
        assert_ne!(moved, source, "copy {k} is moved");
        // Exactly the source moved by the row's own motion (Motion's unit tests check the motion).
        let bytes: Vec<u8> = source.iter().map(|&v| (v * 255.0).round() as u8).collect();
        let mut expected = vec![0_u8; 784];
        xtask::large::Motion::of_row(3, 10_000 + k).apply(&bytes, &mut expected, [28, 28]);
        let expected: Vec<f32> = expected.iter().map(|&b| f32::from(b) / 255.0).collect();
        assert_eq!(moved.to_vec(), expected, "copy {k}");
        let ink = |a: ssne_data::ndarray::ArrayView1<'_, f32>| a.sum();
        let ratio = ink(moved) / ink(source);
        assert!((0.6..1.4).contains(&ratio), "copy {k}: ink ratio {ratio}");
    }
    let labels = ssne_data::npy::read_labels(&made.labels).unwrap();
    assert_eq!(made.labels, dir.path().join("large.labels.npy"));
    let original_labels = ssne_data::idx::read_labels(&from.join(LABELS_NAME)).unwrap();
    assert_eq!(labels.len(), 10_050);
    for (row, &label) in labels.iter().enumerate() {
        assert_eq!(label, original_labels[row % 10_000], "row {row}");
    }
}

#[test]
fn the_same_seed_gives_the_same_bytes_in_every_layout() {
    let dir = tempfile::tempdir().unwrap();
    let from = source(dir.path());
    let npy = dir.path().join("a.npy");
    make(&task(&from, npy.clone(), 10_020, 5, Layout::NpyF32), |_| {}).unwrap();
    let again = dir.path().join("b.npy");
    make(&task(&from, again.clone(), 10_020, 5, Layout::NpyF32), |_| {}).unwrap();
    assert_eq!(std::fs::read(&npy).unwrap(), std::fs::read(&again).unwrap());
    let other_seed = dir.path().join("c.npy");
    make(&task(&from, other_seed.clone(), 10_020, 6, Layout::NpyF32), |_| {}).unwrap();
    assert_ne!(std::fs::read(&npy).unwrap(), std::fs::read(&other_seed).unwrap());
    // The IDX and u8 NPY files hold the same images, read as the same features.
    let idx = dir.path().join("large-images-idx3-ubyte");
    make(&task(&from, idx.clone(), 10_020, 5, Layout::Idx), |_| {}).unwrap();
    let u8_npy = dir.path().join("bytes.npy");
    make(&task(&from, u8_npy.clone(), 10_020, 5, Layout::NpyU8), |_| {}).unwrap();
    let from_npy = ssne_data::load(&npy, Format::Auto).unwrap();
    let from_idx = ssne_data::load(&idx, Format::Auto).unwrap();
    assert_eq!(from_npy.features, from_idx.features);
    assert_eq!(from_idx.labels.as_ref().map(Vec::len), Some(10_020));
    let bytes = ssne_data::load(&u8_npy, Format::Auto).unwrap();
    assert_eq!(bytes.features.mapv(|v| v / 255.0), from_idx.features);
}

#[test]
fn bad_requests_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let from = source(dir.path());
    let plain = dir.path().join("large.idx");
    let err = make(&task(&from, plain.clone(), 10, 0, Layout::Idx), |_| {}).unwrap_err();
    assert!(err.to_string().contains("images-idx3"), "{err}");
    assert!(labels_path(&plain, Layout::Idx).is_err());
    let err = make(
        &task(
            &dir.path().join("nowhere"),
            dir.path().join("x.npy"),
            10,
            0,
            Layout::NpyF32,
        ),
        |_| {},
    )
    .unwrap_err();
    assert!(format!("{err:#}").contains("nowhere"), "{err:#}");
    assert!(make(&task(&from, dir.path().join("x.npy"), 0, 0, Layout::NpyF32), |_| {}).is_err());
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["source"]);
}
