//! Model files: round trip, and every kind of damage is a clear error.

use ssne_model::{ModelError, ParametricTsne, ReferenceSpace, Silent, model_file};

use crate::{quick_config, sample};

fn trained() -> ParametricTsne {
    ParametricTsne::fit(&sample(0..400), None, &quick_config(5), &mut Silent).expect("trains")
}

/// `model` as it reads back from its file: wall-clock timing is not stored.
fn without_timing(model: &ParametricTsne) -> ParametricTsne {
    let mut expected = model.clone();
    expected.report.seconds = 0.0;
    expected
}

#[test]
fn the_same_seed_writes_the_same_bytes() {
    let first = model_file::to_bytes(&trained()).expect("encodes");
    let second = model_file::to_bytes(&trained()).expect("encodes");
    assert!(first == second, "two identical runs wrote different model files");
}

#[test]
fn a_finetuned_model_with_an_empty_reference_is_refused_on_load() {
    let mut model = trained();
    let dim = model.network.spec.embedding_dim;
    model.reference.embedding = ssne_tensor::ndarray::Array2::zeros((0, dim));
    model.reference.labels = None;
    model.reference.inputs = None;
    model.reference.projection = None;
    let bytes = model_file::to_bytes(&model).expect("encodes");
    match model_file::from_bytes(&bytes, std::path::Path::new("empty.ssne")) {
        Err(ModelError::BadModelFile { path, problem }) => {
            assert_eq!(path, std::path::Path::new("empty.ssne"));
            assert!(problem.contains("empty reference map"), "{problem}");
        }
        other => panic!("expected BadModelFile, got {other:?}"),
    }
}

#[test]
fn a_reference_map_of_the_wrong_dimension_is_refused_even_when_empty() {
    let mut model = trained();
    model.stage = ssne_model::ModelStage::Pretrained;
    model.reference.embedding = ssne_tensor::ndarray::Array2::zeros((0, 3));
    model.reference.labels = None;
    model.reference.inputs = None;
    model.reference.projection = None;
    let bytes = model_file::to_bytes(&model).expect("encodes");
    assert!(matches!(
        model_file::from_bytes(&bytes, std::path::Path::new("m.ssne")),
        Err(ModelError::BadModelFile { .. })
    ));
}

#[test]
fn save_and_load_round_trip_exactly() {
    let model = trained();
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("model.ssne");
    model_file::save(&model, &path).expect("saves");
    let loaded = model_file::load(&path).expect("loads");
    assert_eq!(loaded, without_timing(&model));
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
    let bytes = model_file::to_bytes(&model).expect("encodes");
    let path = std::path::Path::new("model.ssne");
    let problem = |b: &[u8]| match model_file::from_bytes(b, path) {
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
fn a_pca_reference_round_trips_and_is_smaller() {
    let train = sample(0..400);
    let mut config = quick_config(6);
    config.reference_space = ReferenceSpace::Pca { components: 20 };
    let model = ParametricTsne::fit(&train, None, &config, &mut Silent).expect("trains");
    let bytes = model_file::to_bytes(&model).expect("encodes");
    let loaded = model_file::from_bytes(&bytes, std::path::Path::new("m.ssne")).expect("decodes");
    assert_eq!(loaded, without_timing(&model));
    assert!(loaded.reference.projection.is_some());
    let new = sample(400..430);
    let refine = |m: &ParametricTsne| {
        m.embed_refined(new.features.view(), &m.refine_config(5))
            .expect("refines")
            .1
    };
    assert_eq!(refine(&loaded), refine(&model));
    let mut raw = model.clone();
    raw.set_reference_inputs(train.features.view(), ReferenceSpace::Raw)
        .expect("keeps raw inputs");
    let raw_bytes = model_file::to_bytes(&raw).expect("encodes").len();
    assert!(
        bytes.len() * 2 < raw_bytes,
        "PCA-20 {} bytes, raw {raw_bytes}",
        bytes.len()
    );
}

#[test]
fn a_file_of_the_previous_format_asks_for_a_retrain() {
    let mut bytes = model_file::to_bytes(&trained()).expect("encodes");
    bytes[8..12].copy_from_slice(&1u32.to_le_bytes());
    match model_file::from_bytes(&bytes, std::path::Path::new("old.ssne")) {
        Err(ModelError::BadModelFile { problem, .. }) => {
            assert!(problem.contains("format version 1"), "{problem}");
            assert!(problem.contains("retrain"), "{problem}");
        }
        other => panic!("expected BadModelFile, got {other:?}"),
    }
}

#[test]
fn a_missing_file_names_the_path() {
    let err = model_file::load(std::path::Path::new("/nonexistent/m.ssne")).expect_err("missing");
    assert!(err.to_string().contains("/nonexistent/m.ssne"), "{err}");
}

/// Writes `model` and expects loading to refuse it with `needle` in the problem.
fn refused_on_load(model: &ParametricTsne, needle: &str) {
    let bytes = model_file::to_bytes(model).expect("encodes");
    match model_file::from_bytes(&bytes, std::path::Path::new("edited.ssne")) {
        Err(ModelError::BadModelFile { path, problem }) => {
            assert_eq!(path, std::path::Path::new("edited.ssne"));
            assert!(problem.contains(needle), "expected {needle:?} in {problem:?}");
        }
        other => panic!("expected BadModelFile with {needle:?}, got {other:?}"),
    }
}

#[test]
fn a_one_dimensional_map_is_refused_on_load() {
    use ssne_tensor::ndarray::s;
    let mut model = trained();
    model.network.spec.embedding_dim = 1;
    model.network.head.weight = model.network.head.weight.slice(s![.., ..1]).to_owned();
    model.network.head.bias = model.network.head.bias.slice(s![.., ..1]).to_owned();
    model.reference.embedding = model.reference.embedding.slice(s![.., ..1]).to_owned();
    refused_on_load(&model, "a 1-D map");
}

#[test]
fn a_network_its_own_configuration_would_not_build_is_refused() {
    let mut model = trained();
    model.config.output_scale *= 2.0;
    refused_on_load(&model, "is not the one its stored configuration builds");
}

#[test]
fn a_classifier_of_other_widths_is_refused() {
    let mut model = trained();
    let other = ParametricTsne::fit(
        &sample(0..400),
        None,
        &ssne_model::TrainConfig {
            hidden_widths: vec![7],
            ..quick_config(5)
        },
        &mut Silent,
    )
    .expect("trains");
    model.classifier = other.classifier;
    refused_on_load(&model, "the classifier has widths");
}

#[test]
fn an_image_shape_that_is_not_the_feature_count_is_refused() {
    let mut model = trained();
    model.image_shape = Some([3, 3]);
    refused_on_load(&model, "the image shape 3 x 3");
    model.image_shape = Some([usize::MAX, 2]);
    refused_on_load(&model, "does not give the network's");
}

#[test]
fn a_scaling_of_other_width_is_refused() {
    let mut model = trained();
    model.scaling = ssne_data::Scaling::Standardize {
        mean: vec![0.0; 3],
        std: vec![1.0; 3],
    };
    refused_on_load(&model, "the input scaling has 3 and 3 parameters");
}

#[test]
fn a_label_without_a_class_output_is_refused() {
    let mut model = trained();
    let labels = model.reference.labels.as_mut().expect("labelled sample");
    labels[0] = 99;
    refused_on_load(&model, "a reference label is 99");
}

#[test]
fn non_finite_parameters_are_refused() {
    let mut model = trained();
    model.network.head.weight[[0, 0]] = f32::NAN;
    refused_on_load(&model, "the network's weights contain NaN");
    let mut model = trained();
    model.reference.embedding[[1, 1]] = f32::INFINITY;
    refused_on_load(&model, "the reference map contains NaN or infinity");
}

/// A model on a PCA-24 input projection (wide, the head on the last hidden layer) writes the
/// projection into its file and reads back bit for bit: the same model, the same bytes again,
/// the same map and classes.
#[test]
fn a_model_on_an_input_projection_round_trips_bit_for_bit() {
    let mut config = quick_config(8);
    config.input_pca = Some(24);
    config.hidden_widths = vec![32, 32];
    config.head_input = ssne_model::HeadInput::Hidden;
    let model = ParametricTsne::fit(&sample(0..400), None, &config, &mut Silent).expect("trains");
    let projection = model.network.input_projection.as_ref().expect("projected");
    assert_eq!(projection.weight.dim(), (784, 24));
    assert_eq!(model.network.layers[0].weight.dim(), (24, 32));
    let bytes = model_file::to_bytes(&model).expect("encodes");
    let loaded = model_file::from_bytes(&bytes, std::path::Path::new("p.ssne")).expect("decodes");
    assert_eq!(loaded, without_timing(&model));
    assert!(
        model_file::to_bytes(&loaded).expect("encodes") == bytes,
        "re-encoding changed the bytes"
    );
    let x = sample(400..450);
    let bits = |m: &ParametricTsne| -> Vec<u32> {
        let map = m.embed(x.features.view()).expect("embeds");
        map.iter().map(|v| v.to_bits()).collect()
    };
    assert_eq!(bits(&loaded), bits(&model));
    assert_eq!(
        loaded.classify(x.features.view()).ok(),
        model.classify(x.features.view()).ok()
    );
}

#[test]
fn a_projection_that_does_not_fit_its_spec_is_refused_on_load() {
    let mut config = quick_config(8);
    config.input_pca = Some(12);
    let model = ParametricTsne::fit(&sample(0..400), None, &config, &mut Silent).expect("trains");
    let mut missing = model.clone();
    missing.network.input_projection = None;
    refused_on_load(&missing, "none is stored");
    let mut narrow = model.clone();
    let p = narrow.network.input_projection.as_mut().expect("projected");
    p.weight = p.weight.slice(ssne_tensor::ndarray::s![.., ..11]).to_owned();
    refused_on_load(&narrow, "the input projection must be");
    let mut nan = model.clone();
    nan.network.input_projection.as_mut().expect("projected").bias[[0, 3]] = f32::NAN;
    refused_on_load(&nan, "finite");
    let mut unconfigured = model;
    unconfigured.config.input_pca = None;
    refused_on_load(&unconfigured, "is not the one its stored configuration builds");
}
