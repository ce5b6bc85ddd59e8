//! Labels as the user wrote them: values that must not size anything, and data whose labels are
//! not the model's.

use std::path::Path;

use crate::{QUICK_TRAINING, json, labelled_csv, path_arg, run, stderr};

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
