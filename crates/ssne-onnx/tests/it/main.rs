//! Integration tests of `ssne-onnx`: every refusal, and the exported graph run
//! by a reference evaluator against `ParametricTsne::embed`. The equivalence
//! tests print their worst error (`--nocapture`), the figure the issue asks for.
#![allow(clippy::print_stdout)]

mod equivalence;
mod evaluator;
mod refusals;

use ssne_data::{Dataset, ScalingKind};
use ssne_model::{ParametricTsne, Preset, Scheme, Silent, TrainConfig};

/// Rows `range` of the bundled sample, raw (unscaled).
pub(crate) fn sample(range: std::ops::Range<usize>) -> Dataset {
    ssne_data::bundled::mnist_sample()
        .and_then(|d| d.rows(range))
        .expect("the bundled sample loads")
}

/// `preset` shrunk to train in about a second.
pub(crate) fn quick_config(preset: Preset, seed: u64) -> TrainConfig {
    let mut config = TrainConfig::preset(preset, seed);
    config.pretrain.epochs = 2;
    config.finetune.scheme = match preset {
        Preset::Default | Preset::Additive => Scheme::Coupled {
            steps: 150,
            edges_per_step: 200,
        },
        Preset::Paper => Scheme::FixedBatches { epochs: 3 },
    };
    config
}

/// A model of the first 300 rows, trained on them after fitting `scaling`
/// (so the stored scaling is part of the exported function), with or without labels.
pub(crate) fn trained(preset: Preset, scaling: ScalingKind, labelled: bool) -> ParametricTsne {
    let mut train = sample(0..300);
    let fitted = train.fit_scaling(scaling);
    train.apply_scaling(&fitted).expect("the scaling fits its own data");
    if !labelled {
        train.labels = None;
    }
    ParametricTsne::fit(&train, None, &quick_config(preset, 3), &mut Silent).expect("training succeeds")
}
