//! The page `render` builds: self-contained, its data decodable, its size per point, and the
//! inputs it refuses. (What the page does in a browser is tested by `salient-sne report`'s
//! Chromium tests in `crates/ssne-cli/tests/it/report.rs`.)

use std::sync::OnceLock;

use serde_json::Value;
use ssne_data::Dataset;
use ssne_model::{ModelStage, ParametricTsne, Preset, Scheme, Silent, TrainConfig};
use ssne_report::{ReportError, ReportInput, render};

fn sample() -> &'static Dataset {
    static SAMPLE: OnceLock<Dataset> = OnceLock::new();
    SAMPLE.get_or_init(|| ssne_data::bundled::mnist_sample().expect("the bundled sample"))
}

/// A small model of rows 0..300, trained once.
fn model() -> &'static ParametricTsne {
    static MODEL: OnceLock<ParametricTsne> = OnceLock::new();
    MODEL.get_or_init(|| {
        let mut config = TrainConfig::preset(Preset::Default, 3);
        config.pretrain.epochs = 1;
        config.finetune.scheme = Scheme::Coupled {
            steps: 20,
            edges_per_step: 100,
        };
        ParametricTsne::fit(&sample().rows(0..300).expect("rows"), None, &config, &mut Silent).expect("trained")
    })
}

/// The JSON object inside the page's data element.
fn data_of(page: &str) -> Value {
    let start = page
        .find(r#"<script id="report-data" type="application/json">"#)
        .expect("the data element");
    let rest = &page[start..];
    let open = rest.find('>').expect("tag end") + 1;
    let close = rest.find("</script>").expect("element end");
    serde_json::from_str(&rest[open..close].replace("<\\/", "</")).expect("the data is JSON")
}

#[test]
fn the_page_is_self_contained_and_costs_about_a_kilobyte_a_digit() {
    let train = sample().rows(0..300).expect("rows");
    let page_of = |n: usize| {
        let shown = sample().rows(300..300 + n).expect("rows");
        render(&ReportInput::new(model(), &shown, "digits").with_training(&train)).expect("rendered")
    };
    let (small, large) = (page_of(100), page_of(300));
    for forbidden in ["http://", "https://", "<link", "src=", "@@"] {
        assert!(!large.contains(forbidden), "the page contains {forbidden:?}");
    }
    // One byte per pixel in base64 (4/3) and two f32 coordinates: 1,056 bytes and a few more
    // for the label.
    let per_point = (large.len() - small.len()) as f64 / 200.0;
    assert!((1056.0..1070.0).contains(&per_point), "{per_point} bytes per point");
    let data = data_of(&large);
    assert_eq!(data["points"]["n"], 300);
    assert_eq!(data["points"]["features"]["encoding"], "u8/255");
    assert_eq!(data["train"]["features"]["encoding"], "u8/255");
    assert_eq!(data["image_shape"], serde_json::json!([28, 28]));
    assert_eq!(data["centres"].as_array().map(Vec::len), Some(10));
    let pairs = data["pairs"].as_array().expect("pairs");
    assert!(
        !pairs.is_empty() && pairs.len().is_multiple_of(2),
        "{} pair maps",
        pairs.len()
    );
}

#[test]
fn values_that_are_not_grey_levels_are_written_as_f32() {
    let mut shown = sample().rows(300..310).expect("rows");
    shown.features[[0, 0]] = 0.3;
    let data = data_of(&render(&ReportInput::new(model(), &shown, "t")).expect("rendered"));
    assert_eq!(data["points"]["features"]["encoding"], "f32");
    assert_eq!(data["train"]["features"], Value::Null);
}

#[test]
fn scaled_rows_wrong_training_rows_and_unfinished_models_are_refused() {
    let shown = sample().rows(300..310).expect("rows");
    let mut scaled = shown.clone();
    scaled
        .apply_scaling(&scaled.fit_scaling(ssne_data::ScalingKind::UnitRange))
        .expect("scaled");
    let err = render(&ReportInput::new(model(), &scaled, "t")).expect_err("refused");
    assert!(
        matches!(err, ReportError::AlreadyScaled { what: "points", .. }),
        "{err}"
    );

    let too_few = sample().rows(0..299).expect("rows");
    let err = render(&ReportInput::new(model(), &shown, "t").with_training(&too_few)).expect_err("refused");
    assert!(
        matches!(
            err,
            ReportError::Mismatch {
                expected: 300,
                found: 299,
                ..
            }
        ),
        "{err}"
    );

    let refined = ssne_data::ndarray::Array2::<f32>::zeros((9, 2));
    let err = render(&ReportInput::new(model(), &shown, "t").with_refined(refined.view())).expect_err("refused");
    assert!(
        matches!(
            err,
            ReportError::Mismatch {
                expected: 10,
                found: 9,
                ..
            }
        ),
        "{err}"
    );

    let mut pretrained = model().clone();
    pretrained.stage = ModelStage::Pretrained;
    let err = render(&ReportInput::new(&pretrained, &shown, "t")).expect_err("refused");
    assert!(matches!(err, ReportError::NotFinetuned), "{err}");

    let mut broken = model().clone();
    broken.network.head.weight[[0, 0]] = f32::NAN;
    let err = render(&ReportInput::new(&broken, &shown, "t")).expect_err("refused");
    assert!(matches!(err, ReportError::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("NaN"), "{err}");
}
