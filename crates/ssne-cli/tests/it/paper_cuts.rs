//! Small things a user runs into: `eval --out`, and the time a training command reports.

use std::time::Instant;

use crate::{QUICK_TRAINING, json, listing, ok, path_arg, run, shared_model, stderr};

#[test]
fn eval_out_writes_the_json_summary_to_a_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let metrics = dir.path().join("metrics.json");
    let model = path_arg(shared_model());
    let printed = json(&run([
        "eval",
        "--model",
        &model,
        "--rows",
        "600..800",
        "--json",
        "--out",
        &path_arg(&metrics),
    ]));
    let text = std::fs::read_to_string(&metrics).expect("metrics.json");
    let written: serde_json::Value = serde_json::from_str(&text).expect("one JSON object");
    assert_eq!(written, printed);
    assert!(written["knn10_accuracy"].as_f64().is_some(), "{written}");
    assert_eq!(listing(dir.path()), vec!["metrics.json"], "no temporary file is left");

    // Without --json the table is printed and the file says the same.
    let table = ok(&run([
        "eval",
        "--model",
        &model,
        "--rows",
        "600..800",
        "--out",
        &path_arg(&metrics),
    ]));
    assert!(
        table
            .lines()
            .any(|l| l == format!("metrics written to {}", metrics.display())),
        "{table}"
    );
    let again: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&metrics).expect("metrics.json")).expect("JSON");
    assert_eq!(again, printed);
}

#[test]
fn eval_out_refuses_to_write_over_the_model() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = dir.path().join("m.ssne");
    std::fs::copy(shared_model(), &model).expect("copied");
    let before = std::fs::read(&model).expect("model");
    let refused = run([
        "eval",
        "--model",
        &path_arg(&model),
        "--rows",
        "600..800",
        "--out",
        &path_arg(&model),
    ]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert_eq!(
        stderr(&refused).trim_end(),
        format!(
            "error: {}: this is one of the command's inputs; writing the metrics there would destroy it. Choose another path",
            model.display()
        )
    );
    assert_eq!(std::fs::read(&model).expect("model"), before);
}

#[test]
fn finetune_reports_the_time_of_its_own_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pretrained = path_arg(&dir.path().join("pre.ssne"));
    let finetuned = path_arg(&dir.path().join("m.ssne"));
    let mut args = vec!["pretrain", "--rows", "0..300", "--model", &pretrained];
    args.extend_from_slice(QUICK_TRAINING);
    let summary = ok(&run(&args));
    assert!(
        summary
            .lines()
            .any(|l| l.trim_start().starts_with("pretraining time") && l.ends_with(" s (this run)")),
        "{summary}"
    );

    let finetune = |extra: &[&str]| {
        let mut args = vec![
            "finetune",
            "--model",
            &pretrained,
            "--rows",
            "0..300",
            "--finetune-steps",
            "5",
            "--out",
            &finetuned,
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    let started = Instant::now();
    let summary = json(&finetune(&["--json"]));
    let wall = started.elapsed().as_secs_f64();
    let seconds = summary["seconds"].as_f64().expect("seconds");
    assert!(
        (0.0..=wall).contains(&seconds),
        "finetune says {seconds} s; the whole process took {wall} s"
    );

    let text = ok(&finetune(&[]));
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("fine-tuning time"))
        .unwrap_or_else(|| panic!("no fine-tuning time line in:\n{text}"));
    assert!(line.ends_with(" s (this run)"), "{text}");
    assert!(!text.contains("training time"), "{text}");
}

/// The width, height and RGB pixels of a PNG file.
fn decode_png(path: &std::path::Path) -> (usize, usize, Vec<u8>) {
    let file = std::fs::File::open(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut pixels).expect("one frame");
    assert_eq!(info.color_type, png::ColorType::Rgb, "{}", path.display());
    pixels.truncate(info.buffer_size());
    (info.width as usize, info.height as usize, pixels)
}

/// Whether `colour` fills a `side x side` square at the legend's left margin (x = 6, the gap),
/// where no heatmap tile starts in these figures (their first tile is a grey input, or sits
/// indented under a title wider than itself).
fn has_swatch(figure: &(usize, usize, Vec<u8>), colour: [u8; 3], side: usize) -> bool {
    let (width, height, pixels) = figure;
    let at = |x: usize, y: usize| pixels[3 * (y * width + x)..3 * (y * width + x) + 3] == colour;
    (0..height - side).any(|y| (0..side).all(|dy| (0..side).all(|dx| at(6 + dx, y + dy))))
}

#[test]
fn small_image_saliency_figures_are_legible_with_scale_and_legend_and_an_overview() {
    let dir = tempfile::tempdir().expect("temp dir");
    // 8 x 8 "digits" of two classes: a bright left half or a bright right half.
    let csv = dir.path().join("digits.csv");
    let mut text: String = (0..64).map(|i| format!("pixel_{i},")).collect();
    text.push_str("target\n");
    for row in 0..120 {
        let class = row % 2;
        for i in 0..64 {
            let bright = (i % 8 < 4) == (class == 0);
            text.push_str(&format!("{},", if bright { 12 + row % 4 } else { row % 3 }));
        }
        text.push_str(if class == 0 { "left\n" } else { "right\n" });
    }
    std::fs::write(&csv, text).expect("fixture");
    let model = dir.path().join("m.ssne");
    let mut args = vec![
        "train".to_owned(),
        "--data".to_owned(),
        path_arg(&csv),
        "--model".to_owned(),
        path_arg(&model),
    ];
    args.extend(QUICK_TRAINING.iter().map(|&flag| flag.to_owned()));
    ok(&run(&args));
    let maps = dir.path().join("maps");
    let common = [
        "saliency",
        "--model",
        &path_arg(&model),
        "--data",
        &path_arg(&csv),
        "--image-shape",
        "8x8",
    ];
    ok(&run(common.iter().copied().chain([
        "--pairs",
        "auto",
        "--out",
        &path_arg(&maps),
    ])));
    let files = listing(&maps);
    assert!(files.contains(&"directional-overview.png".to_owned()), "{files:?}");
    let positive = [178, 24, 43];
    let negative = [33, 102, 172];
    for name in ["directional-left-to-right.png", "directional-overview.png"] {
        assert!(files.contains(&name.to_owned()), "{name} in {files:?}");
        let figure = decode_png(&maps.join(name));
        let (width, height, _) = figure;
        // Each 8 x 8 panel is drawn at 112 x 112 (x14) with its title and colour bar above the
        // legend: before, the directional figure was 216 x 96 with "left -> right" cut to "left ->".
        let panels = if name.contains("overview") { 2 } else { 3 };
        assert!(width >= 6 + panels * (112 + 6), "{name}: {width} x {height}");
        assert!(
            height >= 6 + 20 + 112 + 16 + 10 + 6 + 2 * 20,
            "{name}: {width} x {height}"
        );
        // The legend's swatches: 14-pixel squares of the two end colours.
        assert!(has_swatch(&figure, positive, 14), "{name}: no red swatch");
        assert!(has_swatch(&figure, negative, 14), "{name}: no blue swatch");
    }
    // Class and Jacobian figures have them too.
    for kind in ["class", "jacobian"] {
        let out = dir.path().join(kind);
        ok(&run(common.iter().copied().chain([
            "--kind",
            kind,
            "--out",
            &path_arg(&out),
        ])));
        let png = listing(&out)
            .into_iter()
            .find(|f| f.ends_with(".png"))
            .expect("a figure");
        let figure = decode_png(&out.join(&png));
        assert!(figure.0 >= 6 + 2 * (112 + 6), "{kind}: {png} is {} wide", figure.0);
        assert!(
            has_swatch(&figure, positive, 14) && has_swatch(&figure, negative, 14),
            "{kind}: {png}"
        );
    }
}
