//! Defaults adapted to the data (#19.2, #19.3): small images get no 1-pixel shift, few rows get
//! pretraining and fine-tuning lengths for their size, two classes get a genuinely 2-D map; and
//! the banner and `--json` say what was adapted.

use std::path::{Path, PathBuf};

use crate::{json, ok, path_arg, run};

/// `dir/file`: `rows` images of 8 x 8 in [0, 1] as CSV with a `label` column, `classes` classes,
/// each lighting its own band of pixels over a deterministic texture.
fn images_8x8(dir: &Path, file: &str, rows: usize, classes: usize) -> PathBuf {
    let path = dir.join(file);
    let mut text = (0..64).map(|p| format!("p{p}")).collect::<Vec<_>>().join(",");
    text.push_str(",label\n");
    for i in 0..rows {
        let class = i % classes;
        for p in 0..64 {
            let band = (p / 8) * classes / 8 == class;
            let texture = ((i * 7 + p * 13) % 17) as f32 / 17.0;
            let value = if band { 0.6 + 0.4 * texture } else { 0.3 * texture };
            text.push_str(&format!("{value:.3},"));
        }
        text.push_str(&format!("{class}\n"));
    }
    std::fs::write(&path, text).expect("fixture");
    path
}

fn adapted_flags(summary: &serde_json::Value) -> Vec<String> {
    summary["adapted_defaults"]
        .as_array()
        .unwrap_or_else(|| panic!("no adapted_defaults in {summary}"))
        .iter()
        .map(|a| a["flag"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn an_8x8_image_set_gets_no_shift_and_lengths_for_its_size() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = path_arg(&images_8x8(dir.path(), "small.csv", 300, 3));
    let adapted = path_arg(&dir.path().join("adapted.ssne"));
    let explicit = path_arg(&dir.path().join("explicit.ssne"));
    let common = [
        "--data",
        &data,
        "--image-shape",
        "8x8",
        "--edges-per-step",
        "50",
        "--seed",
        "3",
    ];

    let mut args = vec!["train", "--json", "--model", &adapted];
    args.extend(common);
    let output = run(&args);
    let summary = json(&output);
    // 300 rows are 3 batches of 128 (200 epochs for 600 steps); an epoch over the graph is
    // ceil(300 / (2 x 50)) = 3 steps (750 epochs: 2250 steps); 8 pixels are below the 20 a
    // shift needs.
    assert_eq!(
        adapted_flags(&summary),
        ["--shift-pixels 0", "--pretrain-epochs 200", "--finetune-steps 2250"]
    );
    let banner = crate::stderr(&output);
    assert!(
        banner
            .contains("adapted to the data: --shift-pixels 0 (images of 8 x 8: a 1-pixel shift would move them by 12%"),
        "{banner}"
    );

    // The same run with those values given as flags writes the same model file, byte for byte:
    // the adapted defaults are what trained, and a flag given is not reported as adapted.
    let mut args = vec![
        "train",
        "--json",
        "--model",
        &explicit,
        "--shift-pixels",
        "0",
        "--pretrain-epochs",
        "200",
        "--finetune-steps",
        "2250",
    ];
    args.extend(common);
    assert_eq!(adapted_flags(&json(&run(&args))), Vec::<String>::new());
    let read = |path: &str| std::fs::read(path).unwrap_or_else(|err| panic!("{path}: {err}"));
    assert!(
        read(&adapted) == read(&explicit),
        "the adapted and the explicit model differ"
    );

    // The paper's preset is the paper's method: nothing is adapted.
    let paper = path_arg(&dir.path().join("paper.ssne"));
    let mut args = vec![
        "train",
        "--json",
        "--preset",
        "paper",
        "--finetune-epochs",
        "1",
        "--model",
        &paper,
    ];
    args.extend([
        "--data",
        &data,
        "--image-shape",
        "8x8",
        "--seed",
        "3",
        "--batch-size",
        "150",
    ]);
    assert_eq!(adapted_flags(&json(&run(&args))), Vec::<String>::new());
}

/// The spread (standard deviation) of each coordinate of an embedding CSV `x,y,...`, smaller first.
fn spreads(path: &Path) -> [f64; 2] {
    let text = std::fs::read_to_string(path).expect("embedding");
    let points: Vec<[f64; 2]> = text
        .lines()
        .skip(1)
        .map(|line| {
            let mut cells = line.split(',').map(|c| c.parse::<f64>().unwrap_or(f64::NAN));
            [cells.next().unwrap_or(f64::NAN), cells.next().unwrap_or(f64::NAN)]
        })
        .collect();
    let n = points.len() as f64;
    let [a, b] = [0, 1].map(|axis| {
        let mean = points.iter().map(|p| p[axis]).sum::<f64>() / n;
        (points.iter().map(|p| (p[axis] - mean).powi(2)).sum::<f64>() / n).sqrt()
    });
    if a <= b { [a, b] } else { [b, a] }
}

#[test]
fn two_classes_give_a_two_dimensional_map() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = path_arg(&images_8x8(dir.path(), "two.csv", 300, 2));
    let train = |model: &str, extra: &[&str]| {
        let mut args = vec!["train", "--json", "--model", model, "--data", &data, "--seed", "5"];
        args.extend([
            "--pretrain-epochs",
            "20",
            "--finetune-steps",
            "400",
            "--edges-per-step",
            "100",
        ]);
        args.extend(extra);
        json(&run(&args))
    };
    let embed = |model: &str, out: &Path| {
        ok(&run([
            "embed",
            "--model",
            model,
            "--data",
            &data,
            "--out",
            &path_arg(out),
        ]));
        spreads(out)
    };

    let hidden = path_arg(&dir.path().join("hidden.ssne"));
    let summary = train(&hidden, &[]);
    // The default head already reads the hidden layer, so two classes change nothing there.
    assert!(
        !adapted_flags(&summary).iter().any(|f| f.starts_with("--head-input")),
        "{summary}"
    );
    let [small, large] = embed(&hidden, &dir.path().join("hidden.csv"));
    assert!(
        small > 0.2 * large,
        "the map of two classes is a line: spreads {small} and {large}"
    );
}
