#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![doc(test(attr(deny(warnings))))]

mod activation;
mod augment;
mod batch;
pub mod checkpoint;
pub mod clusters;
mod config;
mod envelope;
mod error;
mod finetune;
pub mod metrics;
mod model;
mod network;
mod observer;
mod optim;
pub mod pca;
mod pretrain;
pub mod refine;
pub mod resume;

pub use activation::Activation;
pub use config::{FinetuneConfig, Preset, PretrainConfig, Scheme, TrainConfig};
pub use error::{ModelError, Result};
pub use finetune::{EdgeSampler, FinetuneReport, FinetuneRngs, TrainingPoints, finetune};
pub use model::{Checkpointing, ModelStage, ParametricTsne, Reference, ReferenceSpace, TrainReport, varying_inputs};
pub use network::{BoundNetwork, Dense, Forward, HeadInput, Network, NetworkSpec, Trainable};
pub use observer::{EpochSummary, Silent, Stage, TrainObserver};
pub use optim::{Adam, AdamConfig, AdamState, LrSchedule};
pub use pretrain::{Labelled, PretrainReport, accuracy, pretrain};
pub use resume::{CheckpointFile, CheckpointSink, DataFingerprint, Phase, TrainingState};

/// The Rust snippets of the repository's README, compiled and run as doctests so that they cannot
/// rot (this crate depends on every crate they use).
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
