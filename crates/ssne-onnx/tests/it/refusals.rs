//! Every model the export cannot express is refused with its own error.

use std::sync::OnceLock;

use ssne_data::ndarray::Array2;
use ssne_data::{Scaling, ScalingKind};
use ssne_model::{HeadInput, ParametricTsne, Preset};
use ssne_onnx::{ExportOptions, OnnxError, to_onnx};

use crate::trained;

/// One labelled default model (UnitRange scaling, pruned constant inputs), trained once.
fn labelled() -> ParametricTsne {
    static MODEL: OnceLock<ParametricTsne> = OnceLock::new();
    MODEL
        .get_or_init(|| trained(Preset::Default, ScalingKind::UnitRange, true))
        .clone()
}

fn plain() -> ExportOptions {
    ExportOptions::default()
}

fn with_probabilities() -> ExportOptions {
    ExportOptions { probabilities: true }
}

/// The first input the training mask drops.
fn masked_input(model: &ParametricTsne) -> usize {
    let mask = model
        .network
        .input_mask
        .as_ref()
        .expect("the default preset masks constant inputs");
    mask.iter()
        .position(|&keep| !keep)
        .expect("MNIST has constant corner pixels")
}

#[test]
fn the_untouched_model_exports_with_and_without_probabilities() {
    let model = labelled();
    assert!(to_onnx(&model, &plain()).is_ok());
    assert!(to_onnx(&model, &with_probabilities()).is_ok());
}

#[test]
fn probabilities_of_an_unlabelled_model_are_refused() {
    let model = trained(Preset::Default, ScalingKind::None, false);
    assert_eq!(to_onnx(&model, &with_probabilities()), Err(OnnxError::NoClassifier));
    assert!(to_onnx(&model, &plain()).is_ok(), "the map alone still exports");
}

#[test]
fn a_masked_input_with_weights_is_refused_in_either_network() {
    let mut model = labelled();
    let input = masked_input(&model);
    model.network.layers[0].weight[[input, 3]] = 0.25;
    assert_eq!(
        to_onnx(&model, &plain()),
        Err(OnnxError::MaskedInputWeights { network: "map", input })
    );

    let mut model = labelled();
    let classifier = model.classifier.as_mut().expect("classifier");
    classifier.layers[0].weight[[input, 0]] = -1.0;
    assert!(
        to_onnx(&model, &plain()).is_ok(),
        "the classifier is not exported without probabilities"
    );
    assert_eq!(
        to_onnx(&model, &with_probabilities()),
        Err(OnnxError::MaskedInputWeights {
            network: "classifier",
            input
        })
    );
}

#[test]
fn a_mask_of_the_wrong_length_is_refused() {
    let mut model = labelled();
    let d = model.n_features();
    model.network.input_mask = Some(vec![true; d - 1]);
    assert_eq!(
        to_onnx(&model, &plain()),
        Err(OnnxError::MaskLength {
            network: "map",
            expected: d,
            found: d - 1
        })
    );
}

#[test]
fn non_finite_parameters_are_refused() {
    type Spoil = fn(&mut ParametricTsne);
    let cases: [(&str, Spoil); 5] = [
        ("layer0 weight", |m| m.network.layers[0].weight[[400, 1]] = f32::NAN),
        ("layer1 bias", |m| m.network.layers[1].bias[[0, 2]] = f32::INFINITY),
        ("head weight", |m| m.network.head.weight[[0, 0]] = f32::NEG_INFINITY),
        ("head bias", |m| m.network.head.bias[[0, 1]] = f32::NAN),
        ("output scale", |m| m.network.spec.output_scale = f32::INFINITY),
    ];
    for (what, spoil) in cases {
        let mut model = labelled();
        spoil(&mut model);
        assert_eq!(
            to_onnx(&model, &plain()),
            Err(OnnxError::NonFinite {
                network: "map",
                what: what.into()
            }),
            "{what}"
        );
    }
    let mut model = labelled();
    model.classifier.as_mut().expect("classifier").layers[1].weight[[0, 0]] = f32::NAN;
    assert_eq!(
        to_onnx(&model, &with_probabilities()),
        Err(OnnxError::NonFinite {
            network: "classifier",
            what: "layer1 weight".into()
        })
    );
}

#[test]
fn parameters_that_do_not_chain_are_refused() {
    let mut model = labelled();
    model.network.head.weight = Array2::zeros((7, 2));
    assert_eq!(
        to_onnx(&model, &plain()),
        Err(OnnxError::Shape {
            network: "map",
            // The default head reads the last of three hidden layers of 100.
            what: "head weight".into(),
            expected: 100,
            found: 7
        })
    );

    let mut model = labelled();
    model.network.layers[0].bias = Array2::zeros((1, 99));
    assert_eq!(
        to_onnx(&model, &plain()),
        Err(OnnxError::Shape {
            network: "map",
            what: "layer0 bias".into(),
            expected: 100,
            found: 99
        })
    );
}

#[test]
fn a_head_on_a_missing_hidden_layer_is_refused() {
    let mut model = labelled();
    let d = model.n_features();
    model.network.layers.truncate(1);
    model.network.layers[0].weight = Array2::zeros((d, 10));
    model.network.layers[0].bias = Array2::zeros((1, 10));
    model.network.spec.layer_widths = vec![d, 10];
    model.network.spec.head_input = HeadInput::Hidden;
    assert_eq!(to_onnx(&model, &plain()), Err(OnnxError::NoHiddenLayer));
}

#[test]
fn a_scaling_of_the_wrong_length_is_refused() {
    let mut model = labelled();
    let d = model.n_features();
    model.scaling = Scaling::Standardize {
        mean: vec![0.0; d],
        std: vec![1.0; d + 2],
    };
    assert_eq!(
        to_onnx(&model, &plain()),
        Err(OnnxError::ScalingLength {
            expected: d,
            found: d + 2
        })
    );
    model.scaling = Scaling::UnitRange {
        min: vec![0.0; d - 1],
        max: vec![1.0; d],
    };
    assert!(matches!(
        to_onnx(&model, &plain()),
        Err(OnnxError::ScalingLength { .. })
    ));
}
