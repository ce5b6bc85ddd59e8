//! The exported graph, decoded and run by the reference evaluator on raw rows
//! the model never saw, equals `ParametricTsne::embed` of the same rows
//! prepared by the model, to 1e-5 of the map's spread.

use rand::{Rng, SeedableRng};
use ssne_data::ScalingKind;
use ssne_data::ndarray::{Array2, ArrayView2, Axis};
use ssne_model::{Activation, HeadInput, Network, ParametricTsne, Preset};
use ssne_onnx::{ExportOptions, IR_VERSION, OPSET, to_onnx};

use crate::evaluator::Evaluator;
use crate::{sample, trained};

/// Relative tolerance: of the largest coordinate range of the map.
const TOLERANCE: f64 = 1e-5;

/// Raw rows 300..800: not the training rows.
fn held_out() -> ssne_data::Dataset {
    static ROWS: std::sync::OnceLock<ssne_data::Dataset> = std::sync::OnceLock::new();
    ROWS.get_or_init(|| sample(300..800)).clone()
}

/// The largest range of a coordinate over the rows.
fn spread(map: ArrayView2<'_, f32>) -> f64 {
    map.axis_iter(Axis(1))
        .map(|col| {
            let lo = col.iter().copied().fold(f32::INFINITY, f32::min);
            let hi = col.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            f64::from(hi - lo)
        })
        .fold(0.0, f64::max)
}

/// The largest difference between `onnx` and `reference`, relative to `scale`.
fn worst(onnx: &Array2<f64>, reference: ArrayView2<'_, f32>, scale: f64) -> f64 {
    assert_eq!(onnx.dim(), reference.dim(), "output shape");
    onnx.iter()
        .zip(reference.iter())
        .map(|(&a, &b)| (a - f64::from(b)).abs() / scale)
        .fold(0.0, f64::max)
}

/// Exports `model`, runs the graph on the raw held-out rows and checks it against
/// `embed` of the prepared rows to [`TOLERANCE`] of the map's spread (or, with
/// `against_magnitude`, of the larger of the spread and the largest coordinate);
/// returns the evaluator and the relative error.
fn check(model: &ParametricTsne, options: &ExportOptions, against_magnitude: bool) -> (Evaluator, f64) {
    let raw = held_out();
    let mut prepared = raw.clone();
    model.prepare(&mut prepared).expect("the held-out rows fit the model");
    let expected = model.embed(prepared.features.view()).expect("embeds");
    let bytes = to_onnx(model, options).expect("the model exports");
    let evaluator = Evaluator::decode(&bytes);
    let m = evaluator.model();
    assert_eq!(m.ir_version, IR_VERSION);
    assert_eq!(m.opset_import.len(), 1);
    assert_eq!(
        (m.opset_import[0].domain.as_str(), m.opset_import[0].version),
        ("", OPSET)
    );
    let outputs = evaluator.run(raw.features.view());
    let scale = spread(expected.view());
    assert!(scale > 0.0, "a map of distinct points has a spread");
    let magnitude = expected.iter().fold(0.0_f32, |m, v| m.max(v.abs()));
    let scale = if against_magnitude {
        scale.max(f64::from(magnitude))
    } else {
        scale
    };
    let err = worst(&outputs["embedding"], expected.view(), scale);
    assert!(
        err <= TOLERANCE,
        "graph and embed differ by {err:e} of {scale} (spread of the map {}, largest |coordinate| {magnitude})",
        spread(expected.view())
    );
    (evaluator, err)
}

/// [`check`] against the map's spread.
fn check_map(model: &ParametricTsne, options: &ExportOptions) -> (Evaluator, f64) {
    check(model, options, false)
}

/// The classifier's softmax, from its own tape-free forward pass.
fn probabilities(model: &ParametricTsne) -> (Array2<f64>, Array2<f32>) {
    let raw = held_out();
    let mut prepared = raw.clone();
    model.prepare(&mut prepared).expect("prepares");
    let classifier = model.classifier.as_ref().expect("a labelled model has a classifier");
    let (logits, _) = classifier.infer(prepared.features.view()).expect("infers");
    let mut p = logits.mapv(f64::from);
    for mut row in p.rows_mut() {
        let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        row.mapv_inplace(|v| (v - max).exp());
        let sum = row.sum();
        row.mapv_inplace(|v| v / sum);
    }
    (p, prepared.features)
}

#[test]
fn default_network_graph_equals_embed_and_classifier_probabilities() {
    let model = trained(Preset::Default, ScalingKind::UnitRange, true);
    assert!(
        model.network.input_mask.is_some(),
        "the default preset prunes constant inputs"
    );
    assert_ne!(model.network.spec.output_scale, 1.0, "the output scale is exercised");
    let (_, err) = check_map(&model, &ExportOptions::default());
    println!("default network: worst error {err:e} of the spread");

    let (evaluator, _) = check_map(&model, &ExportOptions { probabilities: true });
    let outputs = evaluator.run(held_out().features.view());
    let (expected, prepared) = probabilities(&model);
    let got = &outputs["probabilities"];
    let diff = got
        .iter()
        .zip(&expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(diff <= 1e-5, "probabilities differ by {diff:e}");
    for row in got.rows() {
        assert!((row.sum() - 1.0).abs() < 1e-9, "a softmax row sums to 1");
    }
    let classes = model.classify(prepared.view()).expect("classifies");
    let argmax: Vec<u32> = got
        .rows()
        .into_iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .fold((0, f64::MIN), |b, (i, &v)| if v > b.1 { (i, v) } else { b })
                .0 as u32
        })
        .collect();
    assert_eq!(
        argmax, classes,
        "the probabilities' argmax is the classifier's prediction"
    );
}

#[test]
fn paper_preset_graph_equals_embed() {
    let model = trained(Preset::Paper, ScalingKind::Standardize, true);
    assert_eq!(model.network.spec.output_scale, 1.0);
    let (_, err) = check_map(&model, &ExportOptions::default());
    println!("paper preset: worst error {err:e} of the spread");
}

/// A model trained on its PCA-30 input projection (with the default preset's pruned constant
/// pixels, whose projection rows are zero) exports it as a MatMul and an Add before the first
/// layer, for the map and the classifier's probabilities.
#[test]
fn a_trained_model_with_an_input_projection_graph_equals_embed() {
    let mut train = sample(0..300);
    let fitted = train.fit_scaling(ScalingKind::UnitRange);
    train.apply_scaling(&fitted).expect("the scaling fits its own data");
    let mut config = crate::quick_config(Preset::Default, 3);
    config.input_pca = Some(30);
    let model = ssne_model::ParametricTsne::fit(&train, None, &config, &mut ssne_model::Silent).expect("trains");
    assert!(model.network.input_mask.is_some() && model.network.input_projection.is_some());
    let (evaluator, err) = check_map(&model, &ExportOptions { probabilities: true });
    let graph = evaluator.model().graph.as_ref().expect("graph");
    for network in ["map", "classifier"] {
        let weight = format!("{network}.input_projection.weight");
        let found = graph
            .initializer
            .iter()
            .find(|t| t.name == weight)
            .expect("the projection is exported");
        assert_eq!(found.dims, [784, 30]);
    }
    let (expected, prepared) = probabilities(&model);
    let outputs = evaluator.run(held_out().features.view());
    let worst_p = outputs["probabilities"]
        .iter()
        .zip(&expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(worst_p < 1e-5, "probabilities differ by {worst_p:e}");
    assert_eq!(prepared.nrows(), held_out().n_points());
    println!("input projection: worst error {err:e} of the spread, probabilities {worst_p:e}");
}

#[test]
fn unlabelled_model_graph_equals_embed() {
    let model = trained(Preset::Default, ScalingKind::None, false);
    assert!(model.classifier.is_none());
    let (evaluator, err) = check_map(&model, &ExportOptions::default());
    let graph = evaluator.model().graph.as_ref().expect("graph");
    assert!(
        graph.node.iter().all(|n| n.op_type != "Sub" && n.op_type != "Div"),
        "no scaling nodes for an unscaled model"
    );
    println!("unlabelled model: worst error {err:e} of the spread");
}

/// Every shape the network spec allows: each activation as hidden and feature
/// activation, the head on the logits or on the last hidden layer, deeper
/// networks and no hidden layer at all. Fresh random weights are as good a
/// test of the graph as trained ones, but some of these untrained maps collapse
/// (softmax hidden layers under a sigmoid head: a spread of 0.15 around
/// coordinates of 7.4), and there `embed`'s own f32 rounding of the coordinates
/// is 1.2e-5 of the spread; so the tolerance is taken of the larger of the
/// spread and the largest coordinate.
#[test]
fn every_network_shape_graph_equals_embed() {
    let base = trained(Preset::Default, ScalingKind::Standardize, false);
    let d = base.n_features();
    let activations = [
        Activation::Identity,
        Activation::Relu,
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Softmax,
    ];
    let mut cases = 0;
    let mut worst_case = 0.0_f64;
    for (i, widths) in [vec![d, 10], vec![d, 32, 10], vec![d, 24, 16, 10]]
        .into_iter()
        .enumerate()
    {
        for (j, &hidden) in activations.iter().enumerate() {
            for (k, &feature) in activations.iter().enumerate() {
                for (head_input, projection) in [HeadInput::Logits, HeadInput::Hidden]
                    .into_iter()
                    .flat_map(|h| [(h, None), (h, Some(40))])
                {
                    if head_input == HeadInput::Hidden && widths.len() < 3 {
                        continue;
                    }
                    let spec = ssne_model::NetworkSpec {
                        layer_widths: widths.clone(),
                        hidden_activation: hidden,
                        head_input,
                        feature_activation: feature,
                        embedding_dim: 2,
                        output_scale: if k % 2 == 0 { 1.0 } else { 7.5 },
                        biases: true,
                        input_projection: projection,
                    };
                    let seed = (i * 100 + j * 10 + k) as u64;
                    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
                    let mut model = base.clone();
                    model.network = match projection {
                        None => Network::init(spec.clone(), &mut rng),
                        Some(width) => {
                            // Any fixed linear map with an offset stands for a PCA here.
                            let projection = ssne_model::Dense {
                                weight: Array2::from_shape_simple_fn((d, width), || rng.random_range(-0.1..0.1)),
                                bias: Array2::from_shape_simple_fn((1, width), || rng.random_range(-1.0..1.0)),
                            };
                            Network::init_projected(spec.clone(), projection, &mut rng)
                        }
                    }
                    .expect("a valid spec");
                    let (_, err) = check(&model, &ExportOptions::default(), true);
                    worst_case = worst_case.max(err);
                    cases += 1;
                }
            }
        }
    }
    assert_eq!(cases, 2 * (25 + 2 * 50));
    println!("{cases} network shapes: worst error {worst_case:e}");
}
