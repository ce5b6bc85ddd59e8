//! Labels as the user wrote them: values that must not size anything, and data whose labels are
//! not the model's.

use std::path::Path;

use crate::{QUICK_TRAINING, json, labelled_csv, ok, path_arg, run, stderr};

fn train(csv: &Path, model: &Path) -> serde_json::Value {
    let mut args = vec![
        "--json".to_owned(),
        "train".to_owned(),
        "--data".to_owned(),
        path_arg(csv),
        "--model".to_owned(),
        path_arg(model),
    ];
    args.extend(QUICK_TRAINING.iter().map(|&flag| flag.to_owned()));
    let output = run(&args);
    let notes = stderr(&output);
    assert!(notes.contains("120 points x 3 features, 2 classes"), "{notes}");
    json(&output)
}

#[test]
fn a_label_of_a_billion_makes_two_classes_not_a_billion() {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = labelled_csv(dir.path(), "label", "points.csv", ["1000000000", "5"]);
    let model = dir.path().join("m.ssne");
    // Before labels were renumbered this asked for a classifier of 10^9 outputs.
    let report = train(&csv, &model);
    assert!(report["final_loss"].as_f64().is_some_and(f64::is_finite), "{report}");
    let eval = json(&run([
        "--json",
        "eval",
        "--model",
        &path_arg(&model),
        "--data",
        &path_arg(&csv),
    ]));
    assert!(eval["knn10_accuracy"].as_f64().expect("10-NN") > 0.9, "{eval}");
}

#[test]
fn eval_refuses_data_whose_labels_are_not_the_models() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pets = labelled_csv(dir.path(), "label", "pets.csv", ["cat", "dog"]);
    let digits = labelled_csv(dir.path(), "label", "digits.csv", ["0", "1"]);
    let model = dir.path().join("m.ssne");
    train(&pets, &model);
    let refused = run(["eval", "--model", &path_arg(&model), "--data", &path_arg(&digits)]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let message = stderr(&refused);
    assert!(message.contains("digits.csv"), "{message}");
    assert!(
        message.contains("the data has labels the model does not know: 0, 1; the model's classes are cat, dog"),
        "{message}"
    );
    // A file of dogs only numbers its one class 0, which is the model's cat: matched by name,
    // the dogs are dogs.
    let dogs = dir.path().join("dogs.csv");
    let text: String = std::fs::read_to_string(&pets)
        .expect("pets")
        .lines()
        .filter(|line| !line.ends_with(",cat"))
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(&dogs, text).expect("dogs");
    let eval = json(&run([
        "--json",
        "eval",
        "--model",
        &path_arg(&model),
        "--data",
        &path_arg(&dogs),
    ]));
    // Numbered as the data's own class 0 (the model's cat), every dog's neighbours in the
    // training map would disagree with it.
    let accuracy = eval["knn10_accuracy"].as_f64().expect("10-NN");
    assert!(accuracy > 0.9, "{eval}");
}

#[test]
fn embeddings_carry_the_users_labels() {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = labelled_csv(dir.path(), "label", "points.csv", ["1000000000", "dog"]);
    let model = dir.path().join("m.ssne");
    train(&csv, &model);
    let as_csv = dir.path().join("map.csv");
    crate::ok(&run([
        "embed",
        "--model",
        &path_arg(&model),
        "--data",
        &path_arg(&csv),
        "--out",
        &path_arg(&as_csv),
    ]));
    let text = std::fs::read_to_string(&as_csv).expect("the CSV");
    let shown: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|line| line.rsplit(',').next().unwrap_or(""))
        .collect();
    assert_eq!(text.lines().next(), Some("x,y,label"));
    assert_eq!(&shown[..2], ["1000000000", "dog"], "{text}");
    assert_eq!(shown.len(), 120);

    let as_npy = dir.path().join("map.npy");
    let summary = json(&run([
        "--json",
        "embed",
        "--model",
        &path_arg(&model),
        "--data",
        &path_arg(&csv),
        "--out",
        &path_arg(&as_npy),
    ]));
    let beside = dir.path().join("map.labels.txt");
    assert_eq!(summary["labels_file"], path_arg(&beside), "{summary}");
    let labels = std::fs::read_to_string(&beside).expect("the labels beside the NPY");
    assert_eq!(labels.lines().collect::<Vec<_>>(), shown);
}

#[test]
fn image_shape_turns_csv_rows_into_images() {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = labelled_csv(dir.path(), "label", "points.csv", ["a", "b"]);
    let model = dir.path().join("m.ssne");
    let mut args = vec![
        "train".to_owned(),
        "--data".to_owned(),
        path_arg(&csv),
        "--image-shape".to_owned(),
        "1x3".to_owned(),
        "--model".to_owned(),
        path_arg(&model),
    ];
    args.extend(QUICK_TRAINING.iter().map(|&flag| flag.to_owned()));
    let trained = run(&args);
    crate::ok(&trained);
    let notes = stderr(&trained);
    assert!(notes.contains("120 images of 1 x 3, 2 classes"), "{notes}");

    let wrong = run([
        "train",
        "--data",
        &path_arg(&csv),
        "--image-shape",
        "2x2",
        "--model",
        &path_arg(&model),
    ]);
    assert_eq!(wrong.status.code(), Some(1), "{}", stderr(&wrong));
    assert!(
        stderr(&wrong).contains("--image-shape 2x2 has 4 pixels, but each row of"),
        "{}",
        stderr(&wrong)
    );
    let unparsable = run(["train", "--data", &path_arg(&csv), "--image-shape", "3 by 1"]);
    assert_eq!(unparsable.status.code(), Some(2), "{}", stderr(&unparsable));
    assert!(
        stderr(&unparsable).contains("is not an image shape; write HxW"),
        "{}",
        stderr(&unparsable)
    );
}

/// `dir/file`: 120 rows of 64 pixels in two blobs, with `header` (if any) and no label column.
fn unlabelled_pixels(dir: &Path, file: &str, header: bool) -> std::path::PathBuf {
    let path = dir.join(file);
    let mut text = String::new();
    if header {
        let names: Vec<String> = (0..64).map(|i| format!("pixel_{i}")).collect();
        text.push_str(&names.join(","));
        text.push('\n');
    }
    for row in 0..120 {
        let cells: Vec<String> = (0..64)
            .map(|i| format!("{}", 8 * (row % 2) + (row * 7 + i) % 5))
            .collect();
        text.push_str(&cells.join(","));
        text.push('\n');
    }
    std::fs::write(&path, text).expect("fixture");
    path
}

fn quick_train(csv: &Path, model: &Path) -> std::process::Output {
    let mut args = vec![
        "train".to_owned(),
        "--data".to_owned(),
        path_arg(csv),
        "--model".to_owned(),
        path_arg(model),
    ];
    args.extend(QUICK_TRAINING.iter().map(|&flag| flag.to_owned()));
    run(&args)
}

#[test]
fn a_csv_without_labels_says_which_columns_were_read_and_names_label_column() {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = unlabelled_pixels(dir.path(), "pixels.csv", true);
    let model = dir.path().join("m.ssne");
    let trained = quick_train(&csv, &model);
    ok(&trained);
    let hint = "read 64 feature columns: pixel_0 .. pixel_63; no label column (label, labels, target, class, y, \
                in any case); pass --label-column NAME";
    let notes = stderr(&trained);
    assert!(
        notes.contains("the data has no labels: pretraining is skipped"),
        "{notes}"
    );
    assert!(notes.contains(hint), "{notes}");

    let evaluated = run(["eval", "--model", &path_arg(&model), "--data", &path_arg(&csv)]);
    ok(&evaluated);
    let notes = stderr(&evaluated);
    assert!(notes.contains("no k-NN or classifier accuracy"), "{notes}");
    assert!(notes.contains(hint), "{notes}");

    let refused = run([
        "saliency",
        "--model",
        &path_arg(&model),
        "--data",
        &path_arg(&csv),
        "--image-shape",
        "8x8",
        "--kind",
        "class",
        "--out",
        &path_arg(&dir.path().join("maps")),
    ]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let message = stderr(&refused);
    assert!(
        message.contains(&format!("{} has no labels: {hint}", csv.display())),
        "{message}"
    );

    // Without a header no column has a name: the index is what to give.
    let bare = unlabelled_pixels(dir.path(), "bare.csv", false);
    let trained = quick_train(&bare, &dir.path().join("bare.ssne"));
    ok(&trained);
    let notes = stderr(&trained);
    assert!(
        notes.contains(
            "read 64 columns and no header row, so no column is named as the label; pass --label-column INDEX (0-based)"
        ),
        "{notes}"
    );
}

#[test]
fn label_columns_are_recognised_by_their_usual_names_in_any_case() {
    let dir = tempfile::tempdir().expect("temp dir");
    for name in ["Class", "LABELS", "Target", "y"] {
        let csv = labelled_csv(dir.path(), name, &format!("{name}.csv"), ["a", "b"]);
        let trained = quick_train(&csv, &dir.path().join(format!("{name}.ssne")));
        ok(&trained);
        let notes = stderr(&trained);
        assert!(notes.contains("120 points x 3 features, 2 classes"), "{name}: {notes}");
        assert!(!notes.contains("no labels"), "{name}: {notes}");
    }
}
