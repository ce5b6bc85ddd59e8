#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![doc(test(attr(deny(warnings))))]

mod activation;
mod batch;
pub mod checkpoint;
pub mod clusters;
mod config;
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

pub use activation::Activation;
pub use config::{FinetuneConfig, Preset, PretrainConfig, Scheme, TrainConfig};
pub use error::{ModelError, Result};
pub use finetune::{EdgeSampler, FinetuneReport, FinetuneRngs, TrainingPoints, finetune};
pub use model::{ModelStage, ParametricTsne, Reference, ReferenceSpace, TrainReport, varying_inputs};
pub use network::{BoundNetwork, Dense, Forward, HeadInput, Network, NetworkSpec, Trainable};
pub use observer::{EpochSummary, Silent, Stage, TrainObserver};
pub use optim::{Adam, AdamConfig, LrSchedule};
pub use pretrain::{Labelled, PretrainReport, accuracy, pretrain};
