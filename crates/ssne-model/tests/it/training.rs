//! Training end to end: every scheme learns something, runs are reproducible,
//! and bad configurations or data are errors.

use ssne_model::{ModelError, ModelStage, ParametricTsne, Preset, Scheme, Silent, TrainConfig, metrics};

use crate::{on_narrow_network, on_threads, quick_config, sample};

/// 10-NN accuracy of `test` placed by `model` against `model`'s map of `train`.
fn knn10(model: &ParametricTsne, train: &ssne_data::Dataset, test: &ssne_data::Dataset) -> f64 {
    let reference = model.embed(train.features.view()).expect("embedding succeeds");
    let map = model.embed(test.features.view()).expect("embedding succeeds");
    assert!(map.iter().all(|v| v.is_finite()));
    metrics::knn_accuracy(
        reference.view(),
        train.labels.as_deref().expect("labelled"),
        map.view(),
        test.labels.as_deref().expect("labelled"),
        10,
    )
    .expect("valid k")
}

#[test]
fn every_scheme_improves_on_the_pretrained_network() {
    let train = sample(0..1000);
    let test = sample(1000..1300);
    let schemes = [
        Scheme::Coupled {
            steps: 150,
            edges_per_step: 200,
        },
        Scheme::FixedBatches { epochs: 20 },
        Scheme::RedrawnBatches { epochs: 20 },
    ];
    let mut config = quick_config(3);
    config.finetune.batch_size = 250;
    // The same network before fine-tuning: its head is a random projection of
    // the logits, which already separates some classes. A fine-tuning that did
    // nothing would score exactly this.
    let pretrained = ParametricTsne::pretrained(&train, None, &config, &mut Silent).expect("pretraining succeeds");
    let before = knn10(&pretrained, &train, &test);
    for scheme in schemes {
        config.finetune.scheme = scheme;
        let model = ParametricTsne::fit(&train, None, &config, &mut Silent).expect("training succeeds");
        assert_eq!(model.stage, ModelStage::Finetuned);
        let after = knn10(&model, &train, &test);
        assert!(
            after > before + MARGIN,
            "{scheme:?}: 10-NN accuracy {after} after fine-tuning, {before} before"
        );
    }
}

#[test]
fn every_training_loop_lever_improves_on_the_pretrained_network() {
    use ssne_model::{LrSchedule, MidNearRepulsion};
    let train = sample(0..1000);
    let test = sample(1000..1300);
    let config = quick_config(3);
    let pretrained = ParametricTsne::pretrained(&train, None, &config, &mut Silent).expect("pretraining succeeds");
    let before = knn10(&pretrained, &train, &test);
    let mut levers = Vec::new();
    // About the 150 steps of the quick config: 1000 points at perplexity 15 store ~60,000
    // entries, 300 steps an epoch at 200 edges.
    let mut epochs = config.clone();
    epochs.finetune.graph_epochs = Some(0.5);
    epochs.finetune.adam.schedule = LrSchedule::Linear;
    levers.push(("graph epochs, linear decay", epochs));
    let mut mid_near = config.clone();
    mid_near.finetune.mid_near = Some(MidNearRepulsion {
        weight: 0.1,
        pairs_per_point: 2,
    });
    levers.push(("mid-near repulsion", mid_near));
    let mut exaggerated = config.clone();
    // Mild: 4 for a tenth of an epoch collapses this short run (0.29 against 0.26 before), as 4
    // for 0.3 epochs cost 0.016 10-NN at 50,000 points (docs/QUALITY.md).
    exaggerated.finetune.exaggeration = 2.0;
    exaggerated.finetune.exaggeration_epochs = Some(0.05);
    levers.push(("exaggeration in epochs", exaggerated));
    for (what, config) in levers {
        let model = ParametricTsne::fit(&train, None, &config, &mut Silent).expect("training succeeds");
        let after = knn10(&model, &train, &test);
        assert!(
            after > before + MARGIN,
            "{what}: 10-NN accuracy {after} after fine-tuning, {before} before"
        );
    }
}

#[test]
fn graph_epochs_set_the_length_from_the_graph() {
    struct Length {
        total: usize,
        per_epoch: Option<f64>,
    }
    impl ssne_model::TrainObserver for Length {
        fn stage_started(&mut self, stage: ssne_model::Stage, total: usize) {
            if stage == ssne_model::Stage::Finetune {
                self.total = total;
            }
        }
        fn graph_epoch_steps(&mut self, steps_per_epoch: f64) {
            self.per_epoch = Some(steps_per_epoch);
        }
    }
    let train = sample(0..400);
    let mut config = quick_config(2);
    config.pretrain.epochs = 0;
    config.finetune.graph_epochs = Some(0.25);
    let mut length = Length {
        total: 0,
        per_epoch: None,
    };
    let model = ParametricTsne::fit(&train, None, &config, &mut length).expect("training succeeds");
    let per_epoch = length.per_epoch.expect("the run reports its epoch");
    // 400 points, k = 45 neighbours each: the symmetrised graph stores 45 to 90 entries a
    // point in both directions, at 200 edges a step.
    assert!((90.0..=180.0).contains(&per_epoch), "{per_epoch} steps an epoch");
    let expected = (0.25 * per_epoch).round() as usize;
    assert_eq!(length.total, expected);
    assert_eq!(model.report.finetune.as_ref().map(|r| r.steps), Some(expected));
}

/// How much fine-tuning must add to the pretrained network's 10-NN accuracy
/// (measured at seed 3: 0.26 before, 0.56 to 0.61 after).
const MARGIN: f64 = 0.2;

#[test]
fn the_pretrained_classifier_is_kept_apart_from_the_fine_tuned_network() {
    let train = sample(0..1000);
    let mut config = quick_config(1);
    config.pretrain.epochs = 5; // 40 Adam steps: enough to learn the training digits
    let model = ParametricTsne::fit(&train, None, &config, &mut Silent).expect("training succeeds");
    let classifier = model.classifier.as_ref().expect("labelled data gets a classifier");
    assert_ne!(
        classifier.layers[0].weight, model.network.layers[0].weight,
        "fine-tuning moved the layers"
    );
    let acc = model.report.classifier_train_accuracy.expect("reported");
    assert!(acc > 0.8, "train accuracy of the pretrained classifier {acc}");
    let predicted = model.classify(train.features.view()).expect("classifies");
    assert!((metrics::accuracy(&predicted, train.labels.as_deref().unwrap_or_default()) - acc).abs() < 1e-12);
}

#[test]
fn constant_inputs_get_zero_first_layer_weights() {
    let train = sample(0..500);
    let model = ParametricTsne::fit(&train, None, &quick_config(2), &mut Silent).expect("training succeeds");
    let mask = model
        .network
        .input_mask
        .as_ref()
        .expect("the default prunes constant inputs");
    let n_constant = mask.iter().filter(|&&keep| !keep).count();
    assert!(
        n_constant > 50,
        "MNIST has many never-lit border pixels, found {n_constant}"
    );
    for (row, &keep) in model.network.layers[0].weight.rows().into_iter().zip(mask) {
        if !keep {
            assert!(row.iter().all(|&w| w == 0.0));
        }
    }
}

#[test]
fn same_seed_same_model_on_any_thread_count() {
    let train = sample(0..600);
    let config = quick_config(11);
    let one = on_threads(1, || {
        ParametricTsne::fit(&train, None, &config, &mut Silent).expect("trains")
    });
    let two = on_threads(2, || {
        ParametricTsne::fit(&train, None, &config, &mut Silent).expect("trains")
    });
    assert_eq!(one.network, two.network);
    assert_eq!(one.reference, two.reference);
    let other = ParametricTsne::fit(&train, None, &quick_config(12), &mut Silent).expect("trains");
    assert_ne!(one.network, other.network);
}

#[test]
fn unlabelled_data_skips_pretraining() {
    let mut train = sample(0..600);
    train.labels = None;
    let model = ParametricTsne::fit(&train, None, &quick_config(4), &mut Silent).expect("trains");
    assert!(model.classifier.is_none());
    assert!(model.report.pretrain.is_none());
    assert_eq!(model.reference.embedding.dim(), (600, 2));
    assert!(matches!(
        model.classify(train.features.view()),
        Err(ModelError::NoLabels { .. })
    ));
}

#[test]
fn paper_preset_is_the_published_method() {
    let c = TrainConfig::preset(Preset::Paper, 0);
    assert_eq!(c.hidden_widths, vec![100]);
    assert_eq!(c.pretrain.epochs, 10);
    assert_eq!(c.finetune.scheme, Scheme::FixedBatches { epochs: 200 });
    assert_eq!(c.finetune.batch_size, 1000);
    assert_eq!(c.finetune.perplexity, 30.0);
    assert_eq!(c.output_scale, 1.0);
    assert_eq!(c.feature_activation, ssne_model::Activation::Identity);
}

#[test]
fn bad_configurations_are_errors_that_name_the_field() {
    let train = sample(0..100);
    let mut config = quick_config(0);
    config.finetune.perplexity = -1.0;
    let err = ParametricTsne::fit(&train, None, &config, &mut Silent).expect_err("negative perplexity");
    assert!(
        matches!(
            err,
            ModelError::Config {
                field: "finetune.perplexity",
                ..
            }
        ),
        "{err:?}"
    );

    let mut config = quick_config(0);
    config.finetune.scheme = Scheme::FixedBatches { epochs: 1 };
    config.finetune.batch_size = 20;
    config.finetune.perplexity = 30.0;
    let err = ParametricTsne::fit(&train, None, &config, &mut Silent).expect_err("perplexity 30 in batches of 20");
    assert!(
        matches!(&err, ModelError::Config { field: "finetune.perplexity", allowed, .. } if allowed.contains("batch size - 1 = 19")),
        "{err:?}"
    );

    let mut config = quick_config(0);
    config.finetune.scheme = Scheme::NegativeSampling {
        steps: 10,
        edges_per_step: 50,
        negatives_per_edge: 0,
        z_bar: 0.1,
    };
    let err = ParametricTsne::fit(&train, None, &config, &mut Silent).expect_err("no negatives");
    assert!(
        matches!(
            err,
            ModelError::Config {
                field: "finetune.negatives_per_edge",
                ..
            }
        ),
        "{err:?}"
    );

    // A huge batch is refused by the check, not by an allocation that aborts the process.
    let mut config = quick_config(0);
    config.finetune.scheme = Scheme::Coupled {
        steps: 10,
        edges_per_step: usize::MAX,
    };
    assert!(matches!(
        config.validate(),
        Err(ModelError::Config {
            field: "finetune.edges_per_step",
            ..
        })
    ));

    let mut config = quick_config(0);
    config.pretrain.adam.lr = 0.0;
    assert!(matches!(
        ParametricTsne::fit(&train, None, &config, &mut Silent),
        Err(ModelError::Config { .. })
    ));
}

#[test]
fn bad_data_is_an_error() {
    let mut train = sample(0..100);
    train.features[[3, 7]] = f32::NAN;
    assert!(matches!(
        ParametricTsne::fit(&train, None, &quick_config(0), &mut Silent),
        Err(ModelError::NonFinite { row: 3, col: 7 })
    ));
    let train = sample(0..300);
    let model = ParametricTsne::fit(&train, None, &quick_config(0), &mut Silent).expect("trains");
    let narrow = ssne_tensor::ndarray::Array2::<f32>::zeros((4, 10));
    assert!(matches!(
        model.embed(narrow.view()),
        Err(ModelError::FeatureCount {
            expected: 784,
            found: 10
        })
    ));
}

#[test]
fn tiny_data_with_a_large_perplexity_fails_clearly() {
    let train = sample(0..20);
    let mut config = quick_config(0);
    config.finetune.perplexity = 30.0;
    let err = ParametricTsne::fit(&train, None, &config, &mut Silent).expect_err("perplexity 30 for 20 points");
    assert!(
        matches!(
            err,
            ModelError::PerplexityTooLargeForRows {
                perplexity: 30.0,
                found: 20,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn shifts_apply_to_images_only() {
    let mut shifting = quick_config(4);
    shifting.finetune.shift_pixels = 2;
    let mut still = quick_config(4);
    still.finetune.shift_pixels = 0;
    let images = sample(0..300);
    let shifted = ParametricTsne::fit(&images, None, &shifting, &mut Silent).expect("trains");
    let plain = ParametricTsne::fit(&images, None, &still, &mut Silent).expect("trains");
    assert_ne!(shifted.network, plain.network, "shifting the inputs changes training");
    let mut not_images = images.clone();
    not_images.image_shape = None;
    let a = ParametricTsne::fit(&not_images, None, &shifting, &mut Silent).expect("trains");
    let b = ParametricTsne::fit(&not_images, None, &still, &mut Silent).expect("trains");
    assert_eq!(a.network, b.network, "rows that are not images are never shifted");
    let mut wrong_shape = images;
    wrong_shape.image_shape = Some([20, 20]);
    let err = ParametricTsne::fit(&wrong_shape, None, &shifting, &mut Silent).unwrap_err();
    assert!(matches!(err, ModelError::FeatureCount { .. }), "{err}");
}

#[test]
fn negative_sampling_trains_a_usable_map() {
    let mut config = on_narrow_network(quick_config(4));
    // The perplexity the scheme was measured at (docs/QUALITY.md).
    config.finetune.perplexity = 30.0;
    config.finetune.scheme = Scheme::NegativeSampling {
        steps: 300,
        edges_per_step: 200,
        negatives_per_edge: 5,
        z_bar: 0.1,
    };
    let train = sample(0..1000);
    let test = sample(1000..1300);
    let model = ParametricTsne::fit(&train, None, &config, &mut Silent).expect("trains");
    let map = model.embed(test.features.view()).expect("embeds");
    let knn = metrics::knn_accuracy(
        model.reference.embedding.view(),
        train.labels.as_deref().unwrap(),
        map.view(),
        test.labels.as_deref().unwrap(),
        10,
    )
    .expect("metric");
    assert!(knn > 0.6, "10-NN {knn}");
}

#[test]
fn a_perplexity_too_large_for_the_rows_is_refused_before_pretraining() {
    /// Records the stages that started.
    struct Stages(Vec<ssne_model::Stage>);
    impl ssne_model::TrainObserver for Stages {
        fn stage_started(&mut self, stage: ssne_model::Stage, _total: usize) {
            self.0.push(stage);
        }
    }
    let train = sample(0..20);
    let mut config = quick_config(1);
    config.finetune.perplexity = 30.0;
    let mut stages = Stages(Vec::new());
    match ParametricTsne::fit(&train, None, &config, &mut stages) {
        Err(ModelError::PerplexityTooLargeForRows {
            needed: 32,
            found: 20,
            limit: 19,
            ..
        }) => {}
        other => panic!("expected PerplexityTooLargeForRows, got {other:?}"),
    }
    assert!(stages.0.is_empty(), "work started before the check: {:?}", stages.0);
    // Pretraining alone (the CLI's `pretrain`) refuses it as early.
    let result = ParametricTsne::pretrained(&train, None, &config, &mut stages);
    assert!(
        matches!(result, Err(ModelError::PerplexityTooLargeForRows { found: 20, .. })),
        "{:?}",
        result.err()
    );
    assert!(
        stages.0.is_empty(),
        "pretraining started before the check: {:?}",
        stages.0
    );
    // The batch schemes need it of their smallest batch: 100 rows in batches of 25.
    let mut batches = quick_config(1);
    batches.finetune.scheme = Scheme::FixedBatches { epochs: 1 };
    batches.finetune.batch_size = 25;
    batches.finetune.perplexity = 24.0;
    assert!(matches!(
        batches.finetune.check_training_rows(100),
        Err(ModelError::PerplexityTooLargeForRows {
            found: 25,
            limit: 24,
            ..
        })
    ));
    batches.finetune.perplexity = 23.0;
    assert!(batches.finetune.check_training_rows(100).is_ok());
}

/// Asks training to stop once `after` units of `stage` are done, and counts the units reported
/// after that (there must be none).
struct StopAt {
    stage: ssne_model::Stage,
    after: usize,
    asked: bool,
    reported_after_stop: usize,
}

impl StopAt {
    fn new(stage: ssne_model::Stage, after: usize) -> Self {
        StopAt {
            stage,
            after,
            asked: false,
            reported_after_stop: 0,
        }
    }
}

impl ssne_model::TrainObserver for StopAt {
    fn progress(&mut self, stage: ssne_model::Stage, done: usize) {
        if self.asked {
            self.reported_after_stop += 1;
        }
        self.asked |= stage == self.stage && done >= self.after;
    }

    fn should_stop(&mut self) -> bool {
        self.asked
    }
}

#[test]
fn an_observer_that_asks_to_stop_interrupts_training_at_that_step() {
    use ssne_model::Stage;
    let train = sample(0..300);
    let mut config = quick_config(5);
    // 300 rows in batches of 100, 2 epochs: 6 pretraining steps.
    config.pretrain.batch_size = 100;
    for (stage, after, total) in [(Stage::Pretrain, 4, 6), (Stage::Finetune, 37, 150)] {
        let mut observer = StopAt::new(stage, after);
        match ParametricTsne::fit(&train, None, &config, &mut observer) {
            Err(ModelError::Interrupted {
                stage: stopped,
                done,
                total: all,
            }) => assert_eq!((stopped, done, all), (stage, after, total)),
            other => panic!("expected Interrupted in {stage:?}, got {other:?}"),
        }
        assert_eq!(
            observer.reported_after_stop, 0,
            "{stage:?}: work went on after the stop"
        );
    }
    // The paper's batches compute one P per batch, and stop between two of them.
    let mut batches = quick_config(5);
    batches.pretrain.epochs = 0;
    batches.finetune.scheme = Scheme::FixedBatches { epochs: 1 };
    batches.finetune.batch_size = 100;
    let mut observer = StopAt::new(Stage::Affinities, 2);
    let stopped = ParametricTsne::fit(&train, None, &batches, &mut observer);
    assert!(
        matches!(
            stopped,
            Err(ModelError::Interrupted {
                stage: Stage::Affinities,
                done: 2,
                total: 3
            })
        ),
        "{stopped:?}"
    );
    let message = ModelError::Interrupted {
        stage: Stage::Finetune,
        done: 37,
        total: 150,
    }
    .to_string();
    assert_eq!(
        message,
        "training was interrupted while fine-tuning after step 37 of 150"
    );
}

/// Records the approximate search's recall and the affinity stage's progress.
#[derive(Default)]
struct KnnWatch {
    recalls: Vec<(f64, usize)>,
    affinity_total: Option<usize>,
    affinity_progress: Vec<usize>,
}

impl ssne_model::TrainObserver for KnnWatch {
    fn stage_started(&mut self, stage: ssne_model::Stage, total: usize) {
        if stage == ssne_model::Stage::Affinities {
            self.affinity_total = Some(total);
        }
    }
    fn progress(&mut self, stage: ssne_model::Stage, done: usize) {
        if stage == ssne_model::Stage::Affinities {
            self.affinity_progress.push(done);
        }
    }
    fn knn_recall(&mut self, recall: f64, sample_rows: usize) {
        self.recalls.push((recall, sample_rows));
    }
}

#[test]
fn the_approximate_search_on_a_pca_projection_reports_its_recall_and_rounds() {
    use ssne_model::{KnnSearch, ReferenceSpace};
    let train = sample(0..800);
    let test = sample(1000..1300);
    let mut config = on_narrow_network(quick_config(5));
    config.finetune.knn = KnnSearch::Approximate;
    config.finetune.knn_space = ReferenceSpace::Pca { components: 20 };
    let fit = |config: &TrainConfig| {
        let mut watch = KnnWatch::default();
        on_threads(2, || {
            ParametricTsne::fit(&train, None, config, &mut watch).expect("trains")
        });
        watch
    };
    let watch = fit(&config);
    let [(recall, rows)] = watch.recalls[..] else {
        panic!("one recall report expected, got {:?}", watch.recalls);
    };
    assert_eq!(rows, 200);
    assert!(recall >= 0.95, "recall {recall}");
    // Round 0 (the trees) and at least one join round, then the P itself.
    let total = watch.affinity_total.expect("an affinity stage");
    assert!(watch.affinity_progress.len() >= 3, "{:?}", watch.affinity_progress);
    assert_eq!(watch.affinity_progress.last(), Some(&total));
    // Same seed, same model on any thread count, and a usable map.
    let one = on_threads(1, || {
        ParametricTsne::fit(&train, None, &config, &mut Silent).expect("trains")
    });
    let two = on_threads(2, || {
        ParametricTsne::fit(&train, None, &config, &mut Silent).expect("trains")
    });
    assert_eq!(one.network, two.network);
    assert!(knn10(&one, &train, &test) > 0.6);
    // The exact search reports no recall.
    config.finetune.knn = KnnSearch::Exact;
    assert!(fit(&config).recalls.is_empty());
}

/// The wide encoders of the reference implementations: PCA-K input and three hidden ReLU layers
/// with the head on the last of them (ParamRepulsor; umap-learn without the PCA). The
/// classifier still pretrains (its logits come from a fourth layer after the last hidden one),
/// it is kept apart, and fine-tuning improves the map over the pretrained network's.
#[test]
fn a_wide_encoder_with_the_head_on_a_hidden_layer_pretrains_and_fine_tunes() {
    let train = sample(0..1000);
    let test = sample(1000..1300);
    for input_pca in [None, Some(50)] {
        let mut config = quick_config(3);
        config.input_pca = input_pca;
        config.hidden_widths = vec![100, 100, 100];
        config.head_input = ssne_model::HeadInput::Hidden;
        config.feature_activation = ssne_model::Activation::Identity;
        let pretrained = ParametricTsne::pretrained(&train, None, &config, &mut Silent).expect("pretrains");
        let classifier = pretrained
            .classifier
            .as_ref()
            .expect("labelled data pretrains a classifier");
        assert_eq!(classifier.spec.layer_widths, [784, 100, 100, 100, 10]);
        assert_eq!(pretrained.network.head.weight.dim(), (100, 2));
        let labels = test.labels.as_deref().expect("labelled");
        let predicted = pretrained.classify(test.features.view()).expect("classifies");
        let accuracy = metrics::accuracy(&predicted, labels);
        // Measured at seed 3 (2 epochs on 1000 rows): 0.77 without the projection, 0.60 on
        // PCA-50; a classifier that had not trained scores about 0.1.
        assert!(accuracy > 0.4, "{input_pca:?}: held-out classifier accuracy {accuracy}");
        let before = knn10(&pretrained, &train, &test);
        let model = ParametricTsne::fit(&train, None, &config, &mut Silent).expect("trains");
        let after = knn10(&model, &train, &test);
        assert!(
            after > before + MARGIN,
            "{input_pca:?}: 10-NN {after} after fine-tuning, {before} before"
        );
        assert_eq!(
            model.classifier.as_ref(),
            Some(classifier),
            "the same pretraining, kept apart"
        );
    }
}
