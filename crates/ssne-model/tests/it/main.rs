//! Integration tests of `ssne-model`: training end to end on small slices of the
//! bundled MNIST sample, determinism, checkpoints and bad input.

mod model_file;
mod refine;
mod training;
mod training_state;
mod u8_storage;

use ssne_data::Dataset;
use ssne_model::{Preset, Scheme, TrainConfig};

/// The first `n` rows of the bundled sample.
pub(crate) fn sample(range: std::ops::Range<usize>) -> Dataset {
    ssne_data::bundled::mnist_sample()
        .and_then(|d| d.rows(range))
        .expect("the bundled sample loads")
}

/// The default preset shrunk to run in about a second.
pub(crate) fn quick_config(seed: u64) -> TrainConfig {
    let mut config = TrainConfig::preset(Preset::Default, seed);
    config.pretrain.epochs = 2;
    config.finetune.scheme = Scheme::Coupled {
        steps: 150,
        edges_per_step: 200,
    };
    config
}

/// `config` on the narrow network the default preset had before the wide encoder: 784-100-10
/// with tanh on the logits under the head. It learns a usable map in the quick config's 150
/// steps, where the default's three layers of 100 need about a thousand (docs/QUALITY.md, "The
/// wide encoder"), so the tests of other machinery (schemes, searches, refinement) that hold a
/// map to an absolute floor use it.
pub(crate) fn on_narrow_network(config: TrainConfig) -> TrainConfig {
    TrainConfig {
        hidden_widths: vec![100],
        head_input: ssne_model::HeadInput::Logits,
        feature_activation: ssne_model::Activation::Tanh,
        ..config
    }
}

/// Runs `f` on a fresh rayon pool of `threads` threads.
pub(crate) fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("building a test thread pool")
        .install(f)
}
