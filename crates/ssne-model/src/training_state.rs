//! Checkpoints of a training run taken after every epoch, and resuming from
//! one: the resumed run ends with exactly the model the uninterrupted run
//! would have produced, bit for bit.
//!
//! A [`TrainingState`] holds what the next epoch depends on: the network (and
//! the pretrained classifier once pretraining is over), Adam's moments and
//! step count, the position of the random stream the loop draws from, and the
//! figures so far. Everything else (the batches of the paper's scheme, the
//! global kNN P) is recomputed from the seed and the data, deterministically.
//! Where states go is the caller's choice through [`TrainingStateSink`];
//! [`TrainingStateFile`] keeps the latest one in a file, written atomically.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ssne_data::Dataset;

use crate::config::TrainConfig;
use crate::envelope::{self, FileKind};
use crate::model::TrainReport;
use crate::model_file::{StoredMatrix, StoredNetwork, restore_network, store_network};
use crate::network::Network;
use crate::optim::AdamState;
use crate::pretrain::PretrainReport;
use crate::{ModelError, Result};

/// The first 8 bytes of every training-state file.
pub const STATE_MAGIC: [u8; 8] = *b"SSNESTAT";
/// The version of the training-state layout; files of other versions are refused.
/// (2: the fine-tuning configuration gained `knn` and `knn_space`; the configuration and
/// the network shape say whether the layers have biases.)
/// (3: the fine-tuning configuration gained `graph_epochs`, `exaggeration_epochs` and `mid_near`,
/// and its learning-rate schedule the `Linear` variant; a network may have a fixed input
/// projection, and the configuration says so.)
pub const STATE_FORMAT_VERSION: u32 = 3;
const KIND: FileKind = FileKind {
    magic: STATE_MAGIC,
    version: STATE_FORMAT_VERSION,
    name: "training state",
    on_other_version: "use the matching release",
};

/// Identifies the training data of a run, so that a run is never resumed on other data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFingerprint {
    /// Rows.
    pub n_points: usize,
    /// Features per row.
    pub n_features: usize,
    /// CRC-32 of the features (as the model sees them, after scaling) and the labels.
    pub checksum: u32,
}

impl DataFingerprint {
    /// The fingerprint of `data`.
    pub fn of<F: ssne_data::Features>(data: &Dataset<F>) -> Self {
        let mut hasher = crc32fast::Hasher::new();
        // The values as training reads them, so `u8` codes and the `f32` rows they decode to
        // have one fingerprint.
        for (_, chunk) in data.features.feature_rows().chunks(crate::row_batches::CHUNK_ROWS) {
            for &v in &chunk {
                hasher.update(&v.to_le_bytes());
            }
        }
        if let Some(labels) = &data.labels {
            for &l in labels {
                hasher.update(&l.to_le_bytes());
            }
        }
        DataFingerprint {
            n_points: data.n_points(),
            n_features: data.n_features(),
            checksum: hasher.finalize(),
        }
    }
}

/// The loop a state was taken in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// Supervised pretraining of the classifier.
    Pretrain,
    /// t-SNE fine-tuning of the map.
    Finetune,
}

/// Where an optimisation loop stood after a whole epoch (or, for step-based
/// fine-tuning, a whole reporting period).
#[derive(Debug, Clone, PartialEq)]
pub struct LoopState {
    /// Epochs (periods) completed.
    pub epochs_done: usize,
    /// Optimiser steps taken.
    pub step: usize,
    /// Adam's moments.
    pub adam: AdamState,
    /// Position of the loop's random stream (see `ChaCha8Rng::get_word_pos`).
    pub rng_word_pos: u128,
    /// Mean loss of the last completed epoch.
    pub last_loss: f64,
    /// Pretraining figures so far (pretraining only).
    pub pretrain: Option<PretrainReport>,
}

/// A checkpoint of a training run: everything needed to continue it exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingState {
    /// The run's configuration (with its seed).
    pub config: TrainConfig,
    /// The data the run trains on.
    pub data: DataFingerprint,
    /// The loop that was running.
    pub phase: Phase,
    /// The network being trained.
    pub network: Network,
    /// The pretrained classifier, once pretraining is over.
    pub classifier: Option<Network>,
    /// Figures of the stages already finished.
    pub report: TrainReport,
    /// Where the running loop stood.
    pub progress: LoopState,
}

/// Receives a [`TrainingState`] after every epoch.
pub trait TrainingStateSink {
    /// Keeps `state` (typically replacing the previous one).
    ///
    /// # Errors
    /// Whatever prevents keeping it; training stops with that error.
    fn save(&mut self, state: &TrainingState) -> Result<()>;
}

impl<F: FnMut(&TrainingState) -> Result<()>> TrainingStateSink for F {
    fn save(&mut self, state: &TrainingState) -> Result<()> {
        self(state)
    }
}

/// Keeps the latest state in one file, replaced atomically after every epoch,
/// so an interrupted run always leaves a whole checkpoint behind.
#[derive(Debug, Clone)]
pub struct TrainingStateFile {
    path: PathBuf,
}

impl TrainingStateFile {
    /// A sink writing to `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        TrainingStateFile { path: path.into() }
    }

    /// The file written.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl TrainingStateSink for TrainingStateFile {
    fn save(&mut self, state: &TrainingState) -> Result<()> {
        state.save(&self.path)
    }
}

#[derive(Serialize, Deserialize)]
struct StoredState {
    crate_version: String,
    config: TrainConfig,
    data: DataFingerprint,
    phase: Phase,
    network: StoredNetwork,
    classifier: Option<StoredNetwork>,
    report: TrainReport,
    epochs_done: u64,
    step: u64,
    adam_step: u64,
    adam_first: Vec<StoredMatrix>,
    adam_second: Vec<StoredMatrix>,
    rng_word_pos: (u64, u64),
    last_loss: f64,
    pretrain: Option<PretrainReport>,
}

impl TrainingState {
    /// What the state is, for messages: e.g. `"after pretraining epoch 3 of 10"`.
    pub fn describe(&self) -> String {
        let done = self.progress.epochs_done;
        match self.phase {
            Phase::Pretrain => format!("after pretraining epoch {done} of {}", self.config.pretrain.epochs),
            Phase::Finetune => format!("after fine-tuning step {}", self.progress.step),
        }
    }

    /// Errors unless this state continues a run of `config` on data with fingerprint `data`.
    ///
    /// # Errors
    /// [`ModelError::ResumeMismatch`] naming what differs.
    pub fn check_resumable(&self, config: &TrainConfig, data: &DataFingerprint) -> Result<()> {
        if &self.config != config {
            return Err(ModelError::ResumeMismatch {
                what: "the training configuration differs from the checkpoint's (resume with the checkpoint's own configuration)".into(),
            });
        }
        if &self.data != data {
            return Err(ModelError::ResumeMismatch {
                what: format!(
                    "the checkpoint was taken on other data ({} x {} with checksum {:08x}; this data is {} x {} with checksum {:08x})",
                    self.data.n_points,
                    self.data.n_features,
                    self.data.checksum,
                    data.n_points,
                    data.n_features,
                    data.checksum
                ),
            });
        }
        Ok(())
    }

    /// The bytes of a training-state file.
    ///
    /// # Errors
    /// [`ModelError::BadTrainingState`] if encoding fails (it should not).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let p = &self.progress;
        let stored = StoredState {
            crate_version: env!("CARGO_PKG_VERSION").to_string(),
            config: self.config.clone(),
            data: self.data,
            phase: self.phase,
            network: store_network(&self.network),
            classifier: self.classifier.as_ref().map(store_network),
            report: self.report.clone(),
            epochs_done: p.epochs_done as u64,
            step: p.step as u64,
            adam_step: p.adam.step,
            adam_first: p.adam.first.iter().map(StoredMatrix::from).collect(),
            adam_second: p.adam.second.iter().map(StoredMatrix::from).collect(),
            rng_word_pos: ((p.rng_word_pos >> 64) as u64, p.rng_word_pos as u64),
            last_loss: p.last_loss,
            pretrain: p.pretrain.clone(),
        };
        let payload = envelope::encode(&stored).map_err(|problem| ModelError::BadTrainingState {
            path: "<memory>".into(),
            problem,
        })?;
        Ok(envelope::seal(KIND, &payload))
    }

    /// Parses the bytes of a training-state file; `source` names it in errors.
    ///
    /// # Errors
    /// [`ModelError::BadTrainingState`] saying what is wrong: not a checkpoint,
    /// another format version, truncated, checksum mismatch, or inconsistent contents.
    pub fn from_bytes(bytes: &[u8], source: &Path) -> Result<Self> {
        let bad = |problem: String| ModelError::BadTrainingState {
            path: source.to_path_buf(),
            problem,
        };
        let payload = envelope::open(KIND, bytes).map_err(bad)?;
        let s: StoredState = envelope::decode(payload).map_err(bad)?;
        s.config
            .validate()
            .map_err(|e| bad(format!("stored configuration: {e}")))?;
        let network = restore_network(s.network).map_err(|p| bad(format!("network: {p}")))?;
        let classifier = s
            .classifier
            .map(restore_network)
            .transpose()
            .map_err(|p| bad(format!("classifier: {p}")))?;
        if network.n_features() != s.data.n_features {
            return Err(bad("the network's input width does not match the recorded data".into()));
        }
        let matrices = |stored: Vec<StoredMatrix>| {
            stored
                .into_iter()
                .map(|m| m.into_array("optimiser moment"))
                .collect::<std::result::Result<Vec<_>, _>>()
        };
        let adam = AdamState {
            step: s.adam_step,
            first: matrices(s.adam_first).map_err(bad)?,
            second: matrices(s.adam_second).map_err(bad)?,
        };
        let mut shapes = Vec::new();
        for layer in network.layers.iter().chain(std::iter::once(&network.head)) {
            shapes.push(layer.weight.dim());
            shapes.push(layer.bias.dim());
        }
        if !adam.fits(&shapes) {
            return Err(bad(
                "the optimiser's moments do not match the network's parameters".into()
            ));
        }
        Ok(TrainingState {
            config: s.config,
            data: s.data,
            phase: s.phase,
            network,
            classifier,
            report: s.report,
            progress: LoopState {
                epochs_done: s.epochs_done as usize,
                step: s.step as usize,
                adam,
                rng_word_pos: (u128::from(s.rng_word_pos.0) << 64) | u128::from(s.rng_word_pos.1),
                last_loss: s.last_loss,
                pretrain: s.pretrain,
            },
        })
    }

    /// Writes the state to `path` atomically (temporary file, then rename).
    ///
    /// # Errors
    /// [`ModelError::Data`] wrapping the I/O error with the path.
    pub fn save(&self, path: &Path) -> Result<()> {
        let bytes = self.to_bytes()?;
        ssne_data::write_atomic(path, |w| w.write_all(&bytes))?;
        Ok(())
    }

    /// Reads a training-state file.
    ///
    /// # Errors
    /// [`ModelError::Io`] when it cannot be read, [`ModelError::BadTrainingState`] when it is not valid.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes, path)
    }
}

/// Receives the network and the loop's state after every epoch.
pub(crate) type EpochHook<'a> = &'a mut dyn FnMut(&Network, LoopState) -> Result<()>;

/// How a training loop takes part in checkpointing: where it resumes from, and
/// whom it hands its state after every epoch.
pub(crate) struct LoopControl<'a> {
    /// The state to continue from, if any.
    pub(crate) resume: Option<LoopState>,
    /// Called after every epoch with the network and the loop's state; `None`
    /// skips building the state at all.
    pub(crate) on_epoch: Option<EpochHook<'a>>,
}

impl LoopControl<'_> {
    /// No resumption, no checkpoints.
    pub(crate) fn none() -> Self {
        LoopControl {
            resume: None,
            on_epoch: None,
        }
    }

    /// Hands `state` on, if anyone listens.
    pub(crate) fn epoch_done(&mut self, network: &Network, state: impl FnOnce() -> LoopState) -> Result<()> {
        match &mut self.on_epoch {
            Some(f) => f(network, state()),
            None => Ok(()),
        }
    }
}
