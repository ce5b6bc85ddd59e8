//! Checkpoints after every epoch, and resuming from any of them ends with the
//! model of the uninterrupted run, bit for bit.

use std::path::Path;

use ssne_model::{
    Checkpointing, ModelError, ParametricTsne, Phase, Scheme, Silent, TrainConfig, TrainingState, TrainingStateFile,
};

use crate::{quick_config, sample};

fn config_with(scheme: Scheme) -> TrainConfig {
    let mut config = quick_config(5);
    config.finetune.scheme = scheme;
    config.finetune.batch_size = 200;
    config
}

/// Trains with a sink that keeps every state.
fn fit_collecting(data: &ssne_data::Dataset, config: &TrainConfig) -> (ParametricTsne, Vec<TrainingState>) {
    let mut states = Vec::new();
    let mut keep = |s: &TrainingState| {
        states.push(s.clone());
        Ok(())
    };
    let checkpoints = Checkpointing {
        resume: None,
        sink: Some(&mut keep),
    };
    let model = ParametricTsne::fit_with(data, None, config, &mut Silent, checkpoints).expect("training runs");
    (model, states)
}

fn resume_from(data: &ssne_data::Dataset, config: &TrainConfig, state: TrainingState) -> ParametricTsne {
    let checkpoints = Checkpointing {
        resume: Some(state),
        sink: None,
    };
    ParametricTsne::fit_with(data, None, config, &mut Silent, checkpoints).expect("resumed training runs")
}

fn assert_same_map(a: &ParametricTsne, b: &ParametricTsne, what: &str) {
    assert_eq!(a.network, b.network, "{what}: fine-tuned networks differ");
    assert_eq!(a.classifier, b.classifier, "{what}: classifiers differ");
    assert_eq!(
        a.reference.embedding, b.reference.embedding,
        "{what}: reference maps differ"
    );
}

#[test]
fn resuming_from_every_kind_of_state_reproduces_the_uninterrupted_run() {
    let data = sample(0..600);
    let schemes = [
        Scheme::Coupled {
            steps: 250,
            edges_per_step: 100,
        },
        Scheme::FixedBatches { epochs: 3 },
        Scheme::RedrawnBatches { epochs: 3 },
        Scheme::NegativeSampling {
            steps: 250,
            edges_per_step: 100,
            negatives_per_edge: 3,
            z_bar: 0.1,
        },
    ];
    for scheme in schemes {
        let mut config = config_with(scheme);
        // Shifted inputs draw from a stream of their own; resuming must not disturb it.
        config.finetune.shift_pixels = 1;
        let plain = ParametricTsne::fit(&data, None, &config, &mut Silent).expect("training runs");
        let (collected, states) = fit_collecting(&data, &config);
        assert_same_map(&plain, &collected, "a sink only observes");
        let pretrain_states = states.iter().filter(|s| s.phase == Phase::Pretrain).count();
        assert_eq!(
            pretrain_states, config.pretrain.epochs,
            "{scheme:?}: one state per pretraining epoch"
        );
        let finetune_states = states.len() - pretrain_states;
        assert_eq!(
            finetune_states, 3,
            "{scheme:?}: one state per epoch (coupled: per 100 steps and the last)"
        );
        // The first pretraining state, a mid fine-tuning state and the very last one.
        for index in [0, pretrain_states + 1, states.len() - 1] {
            let state = states[index].clone();
            let what = format!("{scheme:?} resumed {}", state.describe());
            let resumed = resume_from(&data, &config, state);
            assert_same_map(&plain, &resumed, &what);
        }
    }
}

#[test]
fn resuming_with_the_training_loop_levers_reproduces_the_uninterrupted_run() {
    use ssne_model::{LrSchedule, MidNearRepulsion};
    let data = sample(0..600);
    // 600 points store ~36,000 entries: 0.6 epochs of 100 edges are ~216 steps, three states.
    let mut config = config_with(Scheme::Coupled {
        steps: 1,
        edges_per_step: 100,
    });
    config.finetune.graph_epochs = Some(0.6);
    config.finetune.adam.schedule = LrSchedule::Linear;
    config.finetune.exaggeration = 4.0;
    config.finetune.exaggeration_epochs = Some(0.2);
    config.finetune.mid_near = Some(MidNearRepulsion {
        weight: 0.5,
        pairs_per_point: 2,
    });
    config.finetune.shift_pixels = 1;
    let (plain, states) = fit_collecting(&data, &config);
    let finetune: Vec<&TrainingState> = states.iter().filter(|s| s.phase != Phase::Pretrain).collect();
    assert!(finetune.len() >= 2, "{} fine-tuning states", finetune.len());
    for state in [finetune[0], finetune[finetune.len() - 1]] {
        let what = format!("levers resumed {}", state.describe());
        let resumed = resume_from(&data, &config, state.clone());
        assert_same_map(&plain, &resumed, &what);
    }
}

#[test]
fn states_survive_a_file_round_trip() {
    let data = sample(0..400);
    let config = config_with(Scheme::FixedBatches { epochs: 2 });
    let (_, states) = fit_collecting(&data, &config);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("run.ssne-state");
    let mut file = TrainingStateFile::new(&path);
    for state in &states {
        ssne_model::TrainingStateSink::save(&mut file, state).expect("state written");
        assert_eq!(&TrainingState::load(&path).expect("state read"), state);
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).expect("listing").collect();
    assert_eq!(leftovers.len(), 1, "only the checkpoint itself remains: {leftovers:?}");
}

#[test]
fn a_state_from_another_run_or_other_data_is_refused() {
    let data = sample(0..400);
    let config = config_with(Scheme::FixedBatches { epochs: 1 });
    let (_, states) = fit_collecting(&data, &config);
    let state = states.last().cloned().expect("states were taken");

    let other_seed = TrainConfig {
        seed: 6,
        ..config.clone()
    };
    let checkpoints = Checkpointing {
        resume: Some(state.clone()),
        sink: None,
    };
    let err = ParametricTsne::fit_with(&data, None, &other_seed, &mut Silent, checkpoints).unwrap_err();
    assert!(matches!(err, ModelError::ResumeMismatch { .. }), "{err}");
    assert!(err.to_string().contains("configuration"), "{err}");

    let other_rows = sample(400..800);
    let checkpoints = Checkpointing {
        resume: Some(state),
        sink: None,
    };
    let err = ParametricTsne::fit_with(&other_rows, None, &config, &mut Silent, checkpoints).unwrap_err();
    assert!(matches!(err, ModelError::ResumeMismatch { .. }), "{err}");
    assert!(err.to_string().contains("other data"), "{err}");
}

#[test]
fn damaged_state_files_are_named_errors() {
    let data = sample(0..400);
    let config = config_with(Scheme::FixedBatches { epochs: 1 });
    let (model, states) = fit_collecting(&data, &config);
    let bytes = states[0].to_bytes().expect("encodes");
    let path = Path::new("run.ssne-state");
    let problem = |bytes: &[u8]| match TrainingState::from_bytes(bytes, path) {
        Err(ModelError::BadTrainingState { path: p, problem }) => {
            assert_eq!(p, path);
            problem
        }
        other => panic!("expected a bad-file error, got {other:?}"),
    };
    assert!(problem(&bytes[..bytes.len() / 2]).contains("truncated"));
    let mut flipped = bytes.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x40;
    assert!(problem(&flipped).contains("checksum"));
    let mut other_version = bytes.clone();
    other_version[8] = 99;
    assert!(problem(&other_version).contains("version 99"));
    let model_file = ssne_model::model_file::to_bytes(&model).expect("model encodes");
    assert!(problem(&model_file).contains("magic"));
}

#[test]
fn a_failing_sink_stops_training_with_its_error() {
    let data = sample(0..400);
    let config = config_with(Scheme::FixedBatches { epochs: 2 });
    let mut calls = 0;
    let mut fail_second = |_: &TrainingState| {
        calls += 1;
        if calls == 2 {
            Err(ModelError::ResumeMismatch {
                what: "disk full (simulated)".into(),
            })
        } else {
            Ok(())
        }
    };
    let checkpoints = Checkpointing {
        resume: None,
        sink: Some(&mut fail_second),
    };
    let err = ParametricTsne::fit_with(&data, None, &config, &mut Silent, checkpoints).unwrap_err();
    assert!(err.to_string().contains("disk full"), "{err}");
}

/// A run on a PCA-30 input projection: its states carry the projection through a file, and
/// resuming from a pretraining and a fine-tuning state ends with the uninterrupted run's model.
#[test]
fn a_run_on_an_input_projection_resumes_bit_for_bit_through_files() {
    let data = sample(0..600);
    let mut config = config_with(Scheme::Coupled {
        steps: 250,
        edges_per_step: 100,
    });
    config.input_pca = Some(30);
    let (plain, states) = fit_collecting(&data, &config);
    assert!(plain.network.input_projection.is_some());
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("run.ssne-state");
    let mut file = TrainingStateFile::new(&path);
    let pretrain_states = states.iter().filter(|s| s.phase == Phase::Pretrain).count();
    for index in [0, pretrain_states + 1] {
        ssne_model::TrainingStateSink::save(&mut file, &states[index]).expect("state written");
        let state = TrainingState::load(&path).expect("state read");
        assert_eq!(state, states[index]);
        assert_eq!(state.network.input_projection, plain.network.input_projection);
        let resumed = resume_from(&data, &config, state);
        assert_same_map(&plain, &resumed, &format!("resumed from state {index}"));
    }
}
