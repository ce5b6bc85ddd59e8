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
pub use config::{FinetuneConfig, KnnSearch, MidNearRepulsion, Preset, PretrainConfig, Scheme, TrainConfig};
pub use data_defaults::{Adaptation, DataSummary, Setting, adapted_preset, adapted_scaling};
pub use error::{ModelError, Result};
pub use finetune::{EdgeSampler, FinetuneReport, FinetuneRngs, TrainingPoints, finetune};
pub use model::{Checkpointing, ModelStage, ParametricTsne, Reference, ReferenceSpace, TrainReport, varying_inputs};
pub use network::{BoundNetwork, Dense, Forward, HeadInput, Network, NetworkOutput, NetworkSpec, Trainable};
pub use observer::{EpochSummary, Silent, Stage, TrainObserver};
pub use optim::{Adam, AdamConfig, AdamState, LrSchedule};
pub use pretrain::{Labelled, PretrainReport, accuracy, pretrain};
pub use training_state::{DataFingerprint, Phase, TrainingState, TrainingStateFile, TrainingStateSink};

/// The Rust snippets of the repository's README, compiled and run as doctests so that they cannot
/// rot (this crate depends on every crate they use).
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
