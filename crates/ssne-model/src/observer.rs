//! Progress reporting: the library never prints; callers observe events, and may ask training to
//! stop (e.g. on Ctrl-C, which the caller catches: the library knows nothing of signals).

use crate::{ModelError, Result};

/// A training stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Computing input affinities.
    Affinities,
    /// Supervised pretraining.
    Pretrain,
    /// t-SNE fine-tuning.
    Finetune,
}

impl Stage {
    /// Lower-case name for logs.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Affinities => "affinities",
            Stage::Pretrain => "pretrain",
            Stage::Finetune => "finetune",
        }
    }

    /// What the stage does, for sentences: `"pretraining"`, `"fine-tuning"`, `"computing the
    /// affinities"`.
    pub fn describe(self) -> &'static str {
        match self {
            Stage::Affinities => "computing the affinities",
            Stage::Pretrain => "pretraining",
            Stage::Finetune => "fine-tuning",
        }
    }
}

/// Summary of one epoch (or, for step-based schemes, one reporting period).
#[derive(Debug, Clone, PartialEq)]
pub struct EpochSummary {
    /// The stage.
    pub stage: Stage,
    /// Epoch (period) index from 0.
    pub epoch: usize,
    /// Mean training loss over the period.
    pub loss: f64,
    /// Training accuracy of the classifier over the period, when labelled.
    pub accuracy: Option<f64>,
    /// Held-out accuracy, when a validation set was given.
    pub val_accuracy: Option<f64>,
    /// Mean t-SNE KL over the period's batches (batch schemes).
    pub kl: Option<f64>,
    /// Seconds since the stage began.
    pub seconds: f64,
}

/// Receives training progress. Every method has a no-op default.
pub trait TrainObserver {
    /// A stage begins with `total` units of work (steps).
    fn stage_started(&mut self, _stage: Stage, _total: usize) {}
    /// `done` units of the stage's work are complete.
    fn progress(&mut self, _stage: Stage, _done: usize) {}
    /// An epoch or reporting period ended.
    fn epoch_finished(&mut self, _summary: &EpochSummary) {}
    /// An edge-sampling fine-tuning run takes `steps_per_epoch` steps for each pass over the kNN
    /// graph (reported once, after its stage started), so progress can be shown in epochs.
    fn graph_epoch_steps(&mut self, _steps_per_epoch: f64) {}
    /// The perplexity search left some rows unconverged.
    fn unconverged_rows(&mut self, _n_rows: usize, _n_total: usize) {}
    /// The global P's neighbours were found by the approximate search, whose recall of the
    /// exact neighbours on `sample_rows` sampled rows is `recall` (1 = all found).
    fn knn_recall(&mut self, _recall: f64, _sample_rows: usize) {}
    /// A stage ended.
    fn stage_finished(&mut self, _stage: Stage) {}
    /// Asked after every unit of work: `true` stops training there with
    /// [`ModelError::Interrupted`]. Nothing is kept beyond the checkpoints already taken, so a
    /// checkpointed run continues from its last one. `false` by default.
    fn should_stop(&mut self) -> bool {
        false
    }
}

/// Reports that `done` of the stage's `total` units are complete, then stops with
/// [`ModelError::Interrupted`] if the observer asks to.
pub(crate) fn step_done(observer: &mut dyn TrainObserver, stage: Stage, done: usize, total: usize) -> Result<()> {
    observer.progress(stage, done);
    if observer.should_stop() {
        return Err(ModelError::Interrupted { stage, done, total });
    }
    Ok(())
}

/// An observer that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl TrainObserver for Silent {}
