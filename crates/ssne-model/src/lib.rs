#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![doc(test(attr(deny(warnings))))]

mod activation;
mod augment;
pub mod clusters;
mod config;
mod data_defaults;
mod envelope;
mod error;
mod finetune;
pub mod metrics;
mod model;
pub mod model_file;
mod network;
mod non_finite;
mod observer;
mod optim;
pub mod pca;
mod pretrain;
mod random_streams;
pub mod refine;
mod row_batches;
pub mod training_state;

pub use activation::Activation;
pub use augment::shift_image;
pub use config::{FinetuneConfig, KnnSearch, MidNearRepulsion, Preset, PretrainConfig, Scheme, TrainConfig};
pub use data_defaults::{Adaptation, DataSummary, Setting, adapted_preset, adapted_scaling};
pub use error::{ModelError, Result};
pub use finetune::{EdgeSampler, FinetuneReport, FinetuneRngs, TrainingPoints, finetune};
pub use model::{Checkpointing, ModelStage, ParametricTsne, Reference, ReferenceSpace, TrainReport, varying_inputs};
pub use network::{BoundNetwork, Dense, Forward, HeadInput, Network, NetworkOutput, NetworkSpec, Trainable};
pub use observer::{EpochSummary, Silent, Stage, TrainObserver};
pub use optim::{Adam, AdamConfig, AdamState, LrSchedule};
/// The rows [`ParametricTsne::embed`] maps as one block: a row's last bits may depend on the
/// other rows of its block (the sparse-or-dense choice of the first layer is made per block), so
/// a caller that embeds a long input in parts gets the bits of one whole call exactly when every
/// part starts at a multiple of this many rows from the input's start.
pub const EMBED_BLOCK_ROWS: usize = network::INFER_CHUNK;
pub use pretrain::{Labelled, PretrainReport, accuracy, pretrain};
pub use training_state::{DataFingerprint, Phase, TrainingState, TrainingStateFile, TrainingStateSink};

/// The Rust snippets of the repository's README, compiled and run as doctests so that they cannot
/// rot (this crate depends on every crate they use).
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
