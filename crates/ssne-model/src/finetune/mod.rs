//! Fine-tuning the whole map with a t-SNE loss: the paper's fixed batches,
//! re-drawn batches, and full coupling through sampled edges.

mod batches;
mod coupled;
mod mid_near;
mod sampler;

use std::time::Instant;

use rand::RngCore;
use rand_chacha::ChaCha8Rng;
use ssne_affinity::{NnDescentOptions, Perplexity, SearchOptions, SparseP};
use ssne_autodiff::{StudentT, Tape, Var};
use ssne_data::FeatureRows;
use ssne_tensor::ndarray::{Array2, CowArray};

use crate::ReferenceSpace;
use crate::config::{FinetuneConfig, Scheme};
use crate::network::{Network, Trainable};
use crate::observer::{Stage, TrainObserver, step_done};
use crate::optim::Adam;
use crate::pca::Pca;
use crate::training_state::{LoopControl, LoopState};
use crate::{ModelError, Result};

pub use sampler::EdgeSampler;

/// Unlabelled or labelled training points for fine-tuning.
#[derive(Debug, Clone, Copy)]
pub struct TrainingPoints<'a> {
    /// Features `[n, d]`, already scaled as the model expects: `f32` rows or `u8` codes
    /// (`view.into()` for an `f32` matrix).
    pub x: FeatureRows<'a>,
    /// Labels (used only by a cross-entropy term).
    pub labels: Option<&'a [u32]>,
    /// `[height, width]` when the rows are images (needed by `shift_pixels`).
    pub image_shape: Option<[usize; 2]>,
}

/// What fine-tuning achieved.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FinetuneReport {
    /// Scheme that ran.
    pub scheme: String,
    /// Optimiser steps taken.
    pub steps: usize,
    /// Mean loss over the last reporting period.
    pub final_loss: f64,
    /// Rows of the input affinities whose perplexity search did not converge.
    pub unconverged_rows: usize,
}

/// Fine-tunes `network` (its layers and head, as `config.trainable` says) with
/// the t-SNE loss of `config.scheme`.
///
/// # Errors
/// Affinity errors (e.g. perplexity too large for the data), a label without
/// an output unit when `ce_weight > 0`, or [`ModelError::Diverged`].
pub fn finetune(
    network: &mut Network,
    points: TrainingPoints<'_>,
    config: &FinetuneConfig,
    rng: &mut FinetuneRngs,
    observer: &mut dyn TrainObserver,
) -> Result<FinetuneReport> {
    finetune_with(network, points, config, rng, observer, LoopControl::none())
}

/// [`finetune`], continuing from `control.resume` and handing the loop's state
/// on after every epoch (reporting period, for full coupling).
pub(crate) fn finetune_with(
    network: &mut Network,
    points: TrainingPoints<'_>,
    config: &FinetuneConfig,
    rng: &mut FinetuneRngs,
    observer: &mut dyn TrainObserver,
    control: LoopControl<'_>,
) -> Result<FinetuneReport> {
    network.check_features(points.x.ncols())?;
    if config.ce_weight > 0.0 {
        let labels = points.labels.ok_or(ModelError::NoLabels {
            what: "a cross-entropy weight during fine-tuning",
        })?;
        crate::pretrain::check_labels(labels, network.spec.n_outputs())?;
    }
    if let (1.., Some(shape)) = (config.shift_pixels, points.image_shape)
        && shape[0] * shape[1] != points.x.ncols()
    {
        return Err(ModelError::FeatureCount {
            expected: shape[0] * shape[1],
            found: points.x.ncols(),
        });
    }
    let perplexity = Perplexity::new(config.perplexity)?;
    match config.scheme {
        Scheme::FixedBatches { epochs } => {
            batches::run_fixed(network, points, config, perplexity, epochs, rng, observer, control)
        }
        Scheme::RedrawnBatches { epochs } => {
            let global = global_affinities(points.x, perplexity, config, rng, observer)?;
            batches::run_redrawn(network, points, config, &global, epochs, rng, observer, control)
        }
        Scheme::Coupled { steps, edges_per_step } => {
            let global = global_affinities(points.x, perplexity, config, rng, observer)?;
            let run = coupled::CoupledRun {
                global: &global,
                steps,
                edges_per_step,
                negatives: None,
            };
            coupled::run(network, points, config, run, rng, observer, control)
        }
        Scheme::NegativeSampling {
            steps,
            edges_per_step,
            negatives_per_edge,
            z_bar,
        } => {
            let global = global_affinities(points.x, perplexity, config, rng, observer)?;
            let run = coupled::CoupledRun {
                global: &global,
                steps,
                edges_per_step,
                negatives: Some((negatives_per_edge, z_bar)),
            };
            coupled::run(network, points, config, run, rng, observer, control)
        }
    }
}

/// The random streams fine-tuning draws from.
#[derive(Debug, Clone)]
pub struct FinetuneRngs {
    /// Cutting the data into batches.
    pub batches: ChaCha8Rng,
    /// The order of batches within an epoch.
    pub order: ChaCha8Rng,
    /// Sampling edges of the global P (and negatives).
    pub edges: ChaCha8Rng,
    /// Random shifts of image inputs; each step reads its own stretch of the
    /// stream (see `Stepper::step`), so it has no position to checkpoint.
    pub augment: ChaCha8Rng,
}

impl FinetuneRngs {
    /// The streams derived from `seed`.
    pub fn from_seed(seed: u64) -> Self {
        use crate::random_streams::{RngStream, rng_for};
        FinetuneRngs {
            batches: rng_for(seed, RngStream::FinetuneBatches),
            order: rng_for(seed, RngStream::FinetuneOrder),
            edges: rng_for(seed, RngStream::EdgeSampling),
            augment: rng_for(seed, RngStream::Augment),
        }
    }
}

/// Rows whose recall the approximate search reports (evenly spaced): enough for a figure to
/// two decimals, and a brute-force pass over them costs little beside the search.
const RECALL_SAMPLE: usize = 200;

/// The global P over each point's `3 * perplexity` neighbours, found as `config.knn` and
/// `config.knn_space` say; progress in rounds of the approximate search.
fn global_affinities(
    x: FeatureRows<'_>,
    perplexity: Perplexity,
    config: &FinetuneConfig,
    rng: &FinetuneRngs,
    observer: &mut dyn TrainObserver,
) -> Result<SparseP<f32>> {
    let n = x.nrows();
    let k = ssne_affinity::knn_neighbour_count(perplexity, n)?;
    // A clone: the search's seed comes from the training seed without moving the edge stream.
    let seed = rng.edges.clone().next_u64();
    let approximate = config.knn.is_approximate(n);
    let nn_options = NnDescentOptions::for_points(n, seed);
    let total = if approximate { nn_options.n_iters + 2 } else { 1 };
    observer.stage_started(Stage::Affinities, total);
    // The search needs all rows at once: their projection, or (raw space) every row as f32.
    let space = match config.knn_space {
        ReferenceSpace::Pca { components } if components > 0 && components < x.ncols() => {
            let pca = Pca::fit_rows(x, components.min(n), seed, crate::pca::PcaOptions::default())?;
            CowArray::from(pca.transform_rows(x)?)
        }
        _ => x.to_f32(),
    };
    let space = space.view();
    let nn = if approximate {
        let nn = ssne_affinity::nn_descent_observed(space, k, &nn_options, &mut |r| {
            observer.progress(Stage::Affinities, r.round + 1);
        })?;
        let sample: Vec<usize> = (0..n).step_by(n.div_ceil(RECALL_SAMPLE).max(1)).collect();
        observer.knn_recall(ssne_affinity::knn_recall(space, &nn, &sample)?, sample.len());
        nn
    } else {
        ssne_affinity::knn(space, k)?
    };
    let p = ssne_affinity::joint_knn_from(&nn, perplexity, &SearchOptions::default())?;
    if !p.unconverged.is_empty() {
        observer.unconverged_rows(p.unconverged.len(), n);
    }
    step_done(observer, Stage::Affinities, total, total)?;
    observer.stage_finished(Stage::Affinities);
    Ok(p)
}

/// The loss of one step, on the embedding of the step's points.
pub(crate) enum StepLoss<'a> {
    /// KL(P || Q) with a dense P over the batch.
    Kl(&'a Array2<f32>),
    /// Full coupling over sampled edges between rows of the batch.
    Coupled(&'a [(u32, u32)]),
    /// Negative sampling: edges, negative pairs and the fixed normalisation `Z̄`.
    Negative(&'a [(u32, u32)], &'a [(u32, u32)], f64),
}

/// The optimisation state shared by every scheme: one step = forward, loss, backward, Adam.
pub(crate) struct Stepper<'n> {
    pub(crate) network: &'n mut Network,
    adam: Adam,
    tape: Tape<f32>,
    kernel: StudentT,
    config: FinetuneConfig,
    augment: Option<(ChaCha8Rng, [usize; 2])>,
    pub(crate) total_steps: usize,
    /// Steps of one epoch, the unit of `exaggeration_epochs`: a pass over the data for the batch
    /// schemes, over the kNN graph for the edge-sampling ones (set by their loop).
    pub(crate) steps_per_epoch: f64,
    pub(crate) step: usize,
    pub(crate) started: Instant,
}

/// Loss values of one step.
pub(crate) struct StepStats {
    pub(crate) loss: f64,
    pub(crate) tsne: f64,
}

impl<'n> Stepper<'n> {
    pub(crate) fn new(
        network: &'n mut Network,
        config: &FinetuneConfig,
        total_steps: usize,
        points: &TrainingPoints<'_>,
        rngs: &FinetuneRngs,
    ) -> Self {
        let shapes: Vec<(usize, usize)> = network.parameters_mut().iter().map(|p| p.dim()).collect();
        Stepper {
            network,
            adam: Adam::new(config.adam, &shapes),
            tape: Tape::new(),
            kernel: StudentT { dof: config.dof },
            config: config.clone(),
            augment: match (config.shift_pixels, points.image_shape) {
                (0, _) | (_, None) => None,
                (_, Some(shape)) => Some((rngs.augment.clone(), shape)),
            },
            total_steps,
            steps_per_epoch: match config.scheme {
                Scheme::FixedBatches { epochs } | Scheme::RedrawnBatches { epochs } => {
                    total_steps as f64 / epochs.max(1) as f64
                }
                // The edge-sampling loop sets the graph's epoch once it has the graph.
                _ => total_steps as f64,
            },
            step: 0,
            started: Instant::now(),
        }
    }

    /// Continues from a checkpointed loop state: Adam's moments and the step count
    /// (which also drives the schedule and the exaggeration phase).
    pub(crate) fn resume(&mut self, state: &LoopState) -> Result<()> {
        let shapes: Vec<(usize, usize)> = self.network.parameters_mut().iter().map(|p| p.dim()).collect();
        self.adam = Adam::from_state(self.config.adam, state.adam.clone(), &shapes)?;
        self.step = state.step;
        Ok(())
    }

    /// The loop state after `epochs_done` epochs, with the loop's random stream at `rng_word_pos`.
    pub(crate) fn loop_state(&self, epochs_done: usize, rng_word_pos: u128, last_loss: f64) -> LoopState {
        LoopState {
            epochs_done,
            step: self.step,
            adam: self.adam.state(),
            rng_word_pos,
            last_loss,
            pretrain: None,
        }
    }

    fn attraction_weight(&self) -> f32 {
        if self.step < exaggerated_steps(&self.config, self.steps_per_epoch, self.total_steps) {
            self.config.exaggeration
        } else {
            1.0
        }
    }

    pub(crate) fn step(&mut self, xb: Array2<f32>, labels: Option<&[u32]>, loss: StepLoss<'_>) -> Result<StepStats> {
        self.step_repelling(xb, labels, loss, &[])
    }

    /// [`Stepper::step`] with the loss of `config.mid_near` on the step's `mid_near` pairs added
    /// (nothing when there are none or it is off).
    pub(crate) fn step_repelling(
        &mut self,
        mut xb: Array2<f32>,
        labels: Option<&[u32]>,
        loss: StepLoss<'_>,
        mid_near: &[(u32, u32)],
    ) -> Result<StepStats> {
        let attraction = self.attraction_weight();
        if let Some((stream, shape)) = &self.augment {
            // Step s reads words from s * 2^32 on: no state beyond the step count.
            let mut rng = stream.clone();
            rng.set_word_pos((self.step as u128) << 32);
            crate::augment::shift_rows(&mut xb, *shape, usize::from(self.config.shift_pixels), &mut rng);
        }
        let tape = &mut self.tape;
        tape.clear();
        let bound = self.network.bind(tape, self.config.trainable);
        let xv = tape.constant(xb);
        let fwd = self.network.forward_on(tape, &bound, xv)?;
        let tsne: Var = match loss {
            StepLoss::Kl(p) => tape.tsne_kl_exaggerated(fwd.embedding, p.view(), self.kernel, attraction)?,
            StepLoss::Coupled(edges) => tape.tsne_coupled(fwd.embedding, edges, self.kernel, attraction)?,
            StepLoss::Negative(edges, negatives, z_bar) => {
                tape.tsne_negative(fwd.embedding, edges, negatives, self.kernel, z_bar, attraction)?
            }
        };
        let tsne = match self.config.mid_near {
            Some(repulsion) if !mid_near.is_empty() => {
                let term = tape.log_mean_kernel(fwd.embedding, mid_near, self.kernel)?;
                let weighted = tape.scale(term, repulsion.weight)?;
                tape.add(tsne, weighted)?
            }
            _ => tsne,
        };
        let tsne_value = f64::from(tape.value(tsne)?[[0, 0]]);
        let mut total = tsne;
        if let (true, Some(labels)) = (self.config.ce_weight > 0.0, labels) {
            let ce = tape.softmax_cross_entropy(fwd.logits, labels)?;
            let weighted = tape.scale(ce, self.config.ce_weight)?;
            total = tape.add(total, weighted)?;
        }
        let loss_value = f64::from(tape.value(total)?[[0, 0]]);
        if !loss_value.is_finite() {
            return Err(ModelError::Diverged {
                stage: "fine-tuning",
                step: self.step,
                loss: loss_value,
            });
        }
        let grads = tape.backward(total)?;
        let lr = self.config.adam.lr * self.config.adam.schedule.factor(self.step, self.total_steps);
        self.network.apply_gradients(&bound, &grads, &mut self.adam, lr);
        tape.recycle(grads);
        self.step += 1;
        Ok(StepStats {
            loss: loss_value,
            tsne: tsne_value,
        })
    }
}

/// The steps of the early-exaggeration phase of a run of `total_steps` with `steps_per_epoch`
/// steps an epoch: `exaggeration_epochs` epochs when set, else `exaggeration_fraction` of the run.
fn exaggerated_steps(config: &FinetuneConfig, steps_per_epoch: f64, total_steps: usize) -> usize {
    let steps = match config.exaggeration_epochs {
        Some(epochs) => epochs * steps_per_epoch,
        None => f64::from(config.exaggeration_fraction) * total_steps as f64,
    };
    steps.round().min(usize::MAX as f64) as usize
}

/// Whether fine-tuning binds anything trainable.
pub(crate) fn check_trainable(trainable: Trainable) -> Result<()> {
    if trainable == Trainable::None {
        return Err(crate::error::config_error(
            "finetune.trainable",
            "none",
            "all, head-only or classifier",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::exaggerated_steps;
    use crate::{Preset, TrainConfig};

    #[test]
    fn the_exaggerated_phase_counts_epochs_when_they_are_set() {
        let mut config = TrainConfig::preset(Preset::Default, 1).finetune;
        config.exaggeration_fraction = 0.25;
        // A fraction of the run: a quarter of 6000 steps, whatever an epoch is.
        assert_eq!(exaggerated_steps(&config, 1021.0, 6000), 1500);
        assert_eq!(exaggerated_steps(&config, 6506.3, 6000), 1500);
        // Epochs replace the fraction: 1.5 epochs of 1021 steps, or of 6506.3 steps.
        config.exaggeration_epochs = Some(1.5);
        assert_eq!(exaggerated_steps(&config, 1021.0, 6000), 1532);
        assert_eq!(exaggerated_steps(&config, 6506.3, 6000), 9759);
        config.exaggeration_epochs = Some(0.0);
        assert_eq!(exaggerated_steps(&config, 1021.0, 6000), 0);
    }
}
