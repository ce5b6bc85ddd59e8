//! Full coupling: edges sampled from the global kNN P, log Z estimated in-batch.

use ssne_affinity::SparseP;

use super::batches::resume_loop;
use super::mid_near::draw_mid_near;
use super::{EdgeSampler, FinetuneReport, FinetuneRngs, StepLoss, Stepper, TrainingPoints, check_trainable};
use crate::config::{FinetuneConfig, Scheme};
use crate::network::Network;
use crate::observer::{EpochSummary, Stage, TrainObserver, step_done};
use crate::row_batches::gather_rows;
use crate::training_state::LoopControl;
use crate::{ModelError, Result};

/// Steps between two progress summaries.
const REPORT_EVERY: usize = 100;

/// The global P and the length of a full-coupling run (`steps` unless
/// `FinetuneConfig::graph_epochs` is set).
pub(super) struct CoupledRun<'a> {
    pub(super) global: &'a SparseP<f32>,
    pub(super) steps: usize,
    pub(super) edges_per_step: usize,
    /// Negative sampling instead of the in-batch `ln Z`: negatives per edge and `Z̄`.
    pub(super) negatives: Option<(usize, f64)>,
}

/// Full coupling; a checkpoint is taken after every reporting period of
/// [`REPORT_EVERY`] steps (and after the last step).
pub(super) fn run(
    network: &mut Network,
    points: TrainingPoints<'_>,
    config: &FinetuneConfig,
    run: CoupledRun<'_>,
    rngs: &mut FinetuneRngs,
    observer: &mut dyn TrainObserver,
    mut control: LoopControl<'_>,
) -> Result<FinetuneReport> {
    let CoupledRun {
        global,
        steps,
        edges_per_step,
        negatives,
    } = run;
    check_trainable(config.trainable)?;
    let sampler = EdgeSampler::new(global).ok_or(ModelError::TooFewPoints {
        what: "full coupling (the kNN graph has no edge)",
        needed: 2,
        found: points.x.nrows(),
    })?;
    let steps_per_epoch = Scheme::graph_epoch_steps(sampler.n_edges(), edges_per_step);
    let steps = match config.graph_epochs {
        Some(epochs) => Scheme::steps_for_graph_epochs(epochs, sampler.n_edges(), edges_per_step)?,
        None => steps,
    };
    let mut stepper = Stepper::new(network, config, steps, &points, rngs);
    stepper.steps_per_epoch = steps_per_epoch;
    observer.stage_started(Stage::Finetune, steps);
    observer.graph_epoch_steps(steps_per_epoch);
    let mut indices = vec![0usize; 2 * edges_per_step];
    // Row k of the step's batch is the head of edge k; row E + k its tail.
    let edges: Vec<(u32, u32)> = (0..edges_per_step as u32)
        .map(|k| (k, edges_per_step as u32 + k))
        .collect();
    let mut negative_pairs = Vec::new();
    let mut mid_near_pairs = Vec::new();
    let (mut period_loss, mut period_steps, mut final_loss) = (0.0, 0usize, f64::NAN);
    let periods_done = resume_loop(&mut stepper, &mut control, &mut rngs.edges, &mut final_loss, observer)?;
    for step in stepper.step..steps {
        for k in 0..edges_per_step {
            let (i, j) = sampler.sample(&mut rngs.edges);
            indices[k] = i as usize;
            indices[edges_per_step + k] = j as usize;
        }
        let xb = gather_rows(points.x, &indices)?;
        let labels: Option<Vec<u32>> = points.labels.map(|l| indices.iter().map(|&i| l[i]).collect());
        let loss = match negatives {
            None => StepLoss::Coupled(&edges),
            Some((per_edge, z_bar)) => {
                draw_negatives(&mut negative_pairs, edges_per_step, per_edge, &mut rngs.edges);
                StepLoss::Negative(&edges, &negative_pairs, z_bar)
            }
        };
        // After the negatives, so that a run without mid-near pairs draws what it always drew.
        if let Some(repulsion) = config.mid_near {
            draw_mid_near(
                &mut mid_near_pairs,
                xb.view(),
                &indices,
                repulsion.pairs_per_point,
                &mut rngs.edges,
            );
        }
        let stats = stepper.step_repelling(xb, labels.as_deref(), loss, &mid_near_pairs)?;
        period_loss += stats.loss;
        period_steps += 1;
        step_done(observer, Stage::Finetune, step + 1, steps)?;
        if period_steps == REPORT_EVERY || step + 1 == steps {
            final_loss = period_loss / period_steps as f64;
            observer.epoch_finished(&EpochSummary {
                stage: Stage::Finetune,
                epoch: step / REPORT_EVERY,
                loss: final_loss,
                accuracy: None,
                val_accuracy: None,
                kl: None,
                seconds: stepper.started.elapsed().as_secs_f64(),
            });
            period_loss = 0.0;
            period_steps = 0;
            let periods = (step / REPORT_EVERY) + 1;
            debug_assert!(periods > periods_done);
            control.epoch_done(stepper.network, || {
                stepper.loop_state(periods, rngs.edges.get_word_pos(), final_loss)
            })?;
        }
    }
    observer.stage_finished(Stage::Finetune);
    Ok(FinetuneReport {
        scheme: config.scheme.name().into(),
        steps: stepper.step,
        final_loss,
        unconverged_rows: global.unconverged.len(),
    })
}

/// For each edge head (row `k` of the step), `per_edge` negatives drawn
/// uniformly from the step's other rows: the points of a step are drawn in
/// proportion to their degree in P, the noise distribution of Neg-t-SNE.
fn draw_negatives(out: &mut Vec<(u32, u32)>, edges: usize, per_edge: usize, rng: &mut rand_chacha::ChaCha8Rng) {
    use rand::Rng;
    let rows = 2 * edges as u32;
    out.clear();
    for head in 0..edges as u32 {
        for _ in 0..per_edge {
            let other = rng.random_range(0..rows - 1);
            out.push((head, if other >= head { other + 1 } else { other }));
        }
    }
}
