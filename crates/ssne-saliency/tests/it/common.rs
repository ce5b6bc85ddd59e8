//! Shared fixtures: hand-built linear networks and tiny models trained on the
//! bundled MNIST sample (once per test binary).

use std::sync::OnceLock;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Uniform};
use ssne_data::Dataset;
use ssne_model::{
    Activation, Dense, HeadInput, Network, NetworkSpec, ParametricTsne, Preset, Scheme, Silent, TrainConfig,
};
use ssne_saliency::Networks;
use ssne_tensor::ndarray::Array2;

/// Training rows of the tiny models: enough for ten recognisable clusters,
/// few enough to train in well under a second.
pub(crate) const N_TRAIN: usize = 600;

/// A uniform `[-1, 1)` matrix.
pub(crate) fn uniform(rows: usize, cols: usize, rng: &mut ChaCha8Rng) -> Array2<f32> {
    let dist = Uniform::new(-1.0_f32, 1.0).expect("valid bounds");
    Array2::from_shape_simple_fn((rows, cols), || dist.sample(rng))
}

/// A network without any nonlinearity: `Y = s · (x W1 W2 + b) Wh + bh`, so
/// every Jacobian is a product of its weights.
pub(crate) fn linear_network(widths: &[usize], output_scale: f32, seed: u64) -> Network {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let layers = widths
        .windows(2)
        .map(|w| Dense {
            weight: uniform(w[0], w[1], &mut rng),
            bias: uniform(1, w[1], &mut rng),
        })
        .collect();
    let n_outputs = widths[widths.len() - 1];
    Network {
        spec: NetworkSpec {
            layer_widths: widths.to_vec(),
            hidden_activation: Activation::Identity,
            head_input: HeadInput::Logits,
            feature_activation: Activation::Identity,
            embedding_dim: 2,
            output_scale,
            biases: true,
            input_projection: None,
        },
        layers,
        head: Dense {
            weight: uniform(n_outputs, 2, &mut rng),
            bias: uniform(1, 2, &mut rng),
        },
        input_mask: None,
        input_projection: None,
    }
}

/// The first `n` digits of the bundled sample.
pub(crate) fn mnist(n: usize) -> Dataset {
    static DATA: OnceLock<Dataset> = OnceLock::new();
    DATA.get_or_init(|| ssne_data::bundled::mnist_sample().expect("the bundled sample decodes"))
        .rows(0..n)
        .expect("the sample has enough rows")
}

/// A fast configuration: a short pretraining and a few hundred coupled steps.
pub(crate) fn tiny_config(seed: u64, prune_constant_inputs: bool) -> TrainConfig {
    let mut config = TrainConfig::preset(Preset::Default, seed);
    config.prune_constant_inputs = prune_constant_inputs;
    config.pretrain.epochs = 3;
    config.pretrain.batch_size = 64;
    config.finetune.perplexity = 15.0;
    config.finetune.scheme = Scheme::Coupled {
        steps: 120,
        edges_per_step: 200,
    };
    config
}

/// A tiny model of [`N_TRAIN`] digits, trained once per seed and mask setting
/// (each on first use, so tests that share one wait for one training only).
pub(crate) fn tiny_model(seed: u64, prune_constant_inputs: bool) -> &'static ParametricTsne {
    static PRUNED_1: OnceLock<ParametricTsne> = OnceLock::new();
    static PRUNED_2: OnceLock<ParametricTsne> = OnceLock::new();
    static UNPRUNED_1: OnceLock<ParametricTsne> = OnceLock::new();
    let cell = match (seed, prune_constant_inputs) {
        (1, true) => &PRUNED_1,
        (2, true) => &PRUNED_2,
        (1, false) => &UNPRUNED_1,
        other => panic!("no fixture model for {other:?}"),
    };
    cell.get_or_init(|| {
        let config = tiny_config(seed, prune_constant_inputs);
        ParametricTsne::fit(&mnist(N_TRAIN), None, &config, &mut Silent).expect("training works")
    })
}

/// The networks of the default tiny model.
pub(crate) fn tiny() -> Networks<'static> {
    Networks::from(tiny_model(1, true))
}

/// Largest absolute difference.
pub(crate) fn max_abs_diff(a: &Array2<f32>, b: &Array2<f32>) -> f32 {
    assert_eq!(a.dim(), b.dim());
    a.iter().zip(b).fold(0.0, |m, (a, b)| m.max((a - b).abs()))
}

/// Largest absolute value.
pub(crate) fn max_abs(a: &Array2<f32>) -> f32 {
    a.iter().fold(0.0, |m, v| m.max(v.abs()))
}
