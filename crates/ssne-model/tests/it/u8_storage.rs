//! Training on `u8` codes ([`ssne_data::ByteFeatures`]) against training on the `f32` rows they
//! decode to: the same model, bit for bit, for every stage that reads the inputs.

use ssne_data::{ByteDecoding, ByteFeatures, Dataset, ScalingKind};
use ssne_model::{
    Checkpointing, DataFingerprint, KnnSearch, ParametricTsne, ReferenceSpace, Scheme, Silent, TrainingState,
};

use super::{on_threads, quick_config, sample};

/// Rows of the bundled sample twice: as its `f32` values `b / 255`, and as the codes `b`.
fn both(range: std::ops::Range<usize>) -> (Dataset, Dataset<ByteFeatures>) {
    let floats = sample(range);
    let codes = floats.features.mapv(|v| (v * 255.0).round() as u8);
    let mut bytes = Dataset::from_codes(
        ByteFeatures::new(codes, ByteDecoding::UnitInterval),
        floats.labels.clone(),
    )
    .expect("one label per row");
    bytes.image_shape = floats.image_shape;
    bytes.label_names = floats.label_names.clone();
    bytes.name = floats.name.clone();
    // The codes are the sample's: they decode to its values exactly.
    assert_eq!(bytes.features.to_f32(), floats.features);
    (floats, bytes)
}

fn assert_same_model(a: &ParametricTsne, b: &ParametricTsne) {
    assert_eq!(a.network, b.network, "fine-tuned network");
    assert_eq!(a.classifier, b.classifier, "pretrained classifier");
    assert_eq!(a.reference, b.reference, "reference map and inputs");
    assert_eq!(a.scaling, b.scaling);
    assert_eq!(a.report.finetune, b.report.finetune);
    assert_eq!(a.report.pretrain, b.report.pretrain);
    assert_eq!(a.report.classifier_train_accuracy, b.report.classifier_train_accuracy);
    assert_eq!(a.report.finetuned_train_accuracy, b.report.finetuned_train_accuracy);
    assert_eq!(
        ssne_model::model_file::to_bytes(a).expect("encodes"),
        ssne_model::model_file::to_bytes(b).expect("encodes"),
        "model files"
    );
}

#[test]
fn the_coupled_default_with_pretraining_trains_the_same_model_from_codes() {
    let (floats, bytes) = both(0..600);
    let config = quick_config(11);
    assert!(matches!(config.finetune.scheme, Scheme::Coupled { .. }));
    assert!(config.pretrain.epochs > 0 && floats.labels.is_some());
    let from_floats = on_threads(2, || ParametricTsne::fit(&floats, None, &config, &mut Silent)).expect("trains");
    let from_bytes = on_threads(2, || ParametricTsne::fit(&bytes, None, &config, &mut Silent)).expect("trains");
    assert!(
        from_floats.reference.projection.is_some(),
        "the default keeps PCA reference inputs"
    );
    assert_same_model(&from_floats, &from_bytes);
}

#[test]
fn every_input_stage_reads_codes_as_their_values() {
    // Standardised inputs, an input PCA, pruned constant pixels, an approximate kNN search in
    // PCA space, mid-near pairs, shifted images and raw reference inputs: each stage that reads
    // the training rows, on codes and on floats.
    let (mut floats, mut bytes) = both(200..700);
    let scaling = bytes.fit_scaling(ScalingKind::Standardize);
    assert_eq!(scaling, floats.fit_scaling(ScalingKind::Standardize), "one fit");
    floats.apply_scaling(&scaling).expect("scales");
    bytes.apply_scaling(&scaling).expect("scales");
    assert_eq!(bytes.features.to_f32(), floats.features, "scaled per batch as in place");
    let mut config = quick_config(5);
    config.input_pca = Some(30);
    config.prune_constant_inputs = true;
    config.finetune.knn = KnnSearch::Approximate;
    config.finetune.knn_space = ReferenceSpace::Pca { components: 20 };
    config.finetune.shift_pixels = 1;
    config.finetune.mid_near = Some(ssne_model::MidNearRepulsion {
        weight: 1.0,
        pairs_per_point: ssne_model::MidNearRepulsion::DEFAULT_PAIRS_PER_POINT,
    });
    config.reference_space = ReferenceSpace::Raw;
    let from_floats = ParametricTsne::fit(&floats, None, &config, &mut Silent).expect("trains");
    let from_bytes = ParametricTsne::fit(&bytes, None, &config, &mut Silent).expect("trains");
    assert!(from_floats.network.input_projection.is_some());
    assert_same_model(&from_floats, &from_bytes);
}

#[test]
fn the_batch_schemes_train_the_same_model_from_codes() {
    let (floats, bytes) = both(0..400);
    for scheme in [Scheme::FixedBatches { epochs: 2 }, Scheme::RedrawnBatches { epochs: 2 }] {
        let mut config = quick_config(3);
        config.pretrain.epochs = 1;
        config.finetune.batch_size = 200;
        config.finetune.scheme = scheme;
        let from_floats = ParametricTsne::fit(&floats, None, &config, &mut Silent).expect("trains");
        let from_bytes = ParametricTsne::fit(&bytes, None, &config, &mut Silent).expect("trains");
        assert_same_model(&from_floats, &from_bytes);
    }
}

#[test]
fn a_run_on_floats_resumes_on_codes_of_the_same_data() {
    let (floats, bytes) = both(0..400);
    assert_eq!(DataFingerprint::of(&floats), DataFingerprint::of(&bytes));
    let config = quick_config(9);
    let mut states: Vec<TrainingState> = Vec::new();
    let mut keep = |state: &TrainingState| -> ssne_model::Result<()> {
        states.push(state.clone());
        Ok(())
    };
    let whole = ParametricTsne::fit_with(
        &floats,
        None,
        &config,
        &mut Silent,
        Checkpointing {
            resume: None,
            sink: Some(&mut keep),
        },
    )
    .expect("trains");
    let middle = states.get(states.len() / 2).cloned().expect("states were kept");
    let resumed = ParametricTsne::fit_with(
        &bytes,
        None,
        &config,
        &mut Silent,
        Checkpointing {
            resume: Some(middle),
            sink: None,
        },
    )
    .expect("resumes");
    assert_same_model(&whole, &resumed);
}
