//! The batch schemes: the paper's fixed batches with per-batch P, and batches
//! re-drawn every epoch with P cut from one global kNN P.

use rand::seq::SliceRandom;
use ssne_affinity::{Perplexity, SearchOptions, SparseP};
use ssne_tensor::ndarray::Array2;

use super::{FinetuneReport, FinetuneRngs, StepLoss, Stepper, TrainingPoints, check_trainable};
use crate::Result;
use crate::config::FinetuneConfig;
use crate::network::Network;
use crate::observer::{EpochSummary, Stage, TrainObserver, step_done};
use crate::row_batches::{even_batches, gather_rows, permutation};
use crate::training_state::LoopControl;

struct Batch {
    indices: Vec<usize>,
    p: Array2<f32>,
}

fn labels_of(points: &TrainingPoints<'_>, indices: &[usize]) -> Option<Vec<u32>> {
    points.labels.map(|l| indices.iter().map(|&i| l[i]).collect())
}

/// The paper's scheme: batches cut once, each with its own dense P, reused every epoch.
#[allow(clippy::too_many_arguments)]
pub(super) fn run_fixed(
    network: &mut Network,
    points: TrainingPoints<'_>,
    config: &FinetuneConfig,
    perplexity: Perplexity,
    epochs: usize,
    rngs: &mut FinetuneRngs,
    observer: &mut dyn TrainObserver,
    mut control: LoopControl<'_>,
) -> Result<FinetuneReport> {
    check_trainable(config.trainable)?;
    let n = points.x.nrows();
    config.check_training_rows(n)?;
    // The cut is redrawn from the seed on resume: same stream, same batches, same P.
    let order = permutation(n, &mut rngs.batches);
    let index_batches = even_batches(&order, config.batch_size);
    let n_batches = index_batches.len();
    observer.stage_started(Stage::Affinities, n_batches);
    let mut batches = Vec::with_capacity(index_batches.len());
    let mut unconverged = 0;
    for (b, indices) in index_batches.into_iter().enumerate() {
        let xb = gather_rows(points.x, &indices)?;
        let dense = ssne_affinity::joint_dense(xb.view(), perplexity, &SearchOptions::default())?;
        unconverged += dense.unconverged.len();
        batches.push(Batch { indices, p: dense.p });
        step_done(observer, Stage::Affinities, b + 1, n_batches)?;
    }
    if unconverged > 0 {
        observer.unconverged_rows(unconverged, n);
    }
    observer.stage_finished(Stage::Affinities);
    let total = epochs * batches.len();
    let mut stepper = Stepper::new(network, config, total, &points, rngs);
    observer.stage_started(Stage::Finetune, total);
    let mut final_loss = f64::NAN;
    let first_epoch = resume_loop(&mut stepper, &mut control, &mut rngs.order, &mut final_loss, observer)?;
    let mut visit: Vec<usize> = (0..batches.len()).collect();
    for epoch in first_epoch..epochs {
        // The visiting order restarts from identity each epoch so that a resumed
        // run, which has only the stream's position, shuffles the same way.
        visit.iter_mut().enumerate().for_each(|(i, v)| *v = i);
        visit.shuffle(&mut rngs.order);
        let (mut loss_sum, mut kl_sum) = (0.0, 0.0);
        for &b in &visit {
            let batch = &batches[b];
            let xb = gather_rows(points.x, &batch.indices)?;
            let labels = labels_of(&points, &batch.indices);
            let stats = stepper.step(xb, labels.as_deref(), StepLoss::Kl(&batch.p))?;
            loss_sum += stats.loss;
            kl_sum += stats.tsne;
            step_done(observer, Stage::Finetune, stepper.step, total)?;
        }
        final_loss = loss_sum / batches.len() as f64;
        observer.epoch_finished(&EpochSummary {
            stage: Stage::Finetune,
            epoch,
            loss: final_loss,
            accuracy: None,
            val_accuracy: None,
            kl: Some(kl_sum / batches.len() as f64),
            seconds: stepper.started.elapsed().as_secs_f64(),
        });
        control.epoch_done(stepper.network, || {
            stepper.loop_state(epoch + 1, rngs.order.get_word_pos(), final_loss)
        })?;
    }
    observer.stage_finished(Stage::Finetune);
    Ok(FinetuneReport {
        scheme: config.scheme.name().into(),
        steps: stepper.step,
        final_loss,
        unconverged_rows: unconverged,
    })
}

/// Batches re-drawn every epoch; each batch's P is the global P restricted to it, renormalised.
#[allow(clippy::too_many_arguments)]
pub(super) fn run_redrawn(
    network: &mut Network,
    points: TrainingPoints<'_>,
    config: &FinetuneConfig,
    global: &SparseP<f32>,
    epochs: usize,
    rngs: &mut FinetuneRngs,
    observer: &mut dyn TrainObserver,
    mut control: LoopControl<'_>,
) -> Result<FinetuneReport> {
    check_trainable(config.trainable)?;
    let n = points.x.nrows();
    config.check_training_rows(n)?;
    let n_batches = n.div_ceil(config.batch_size);
    let total = epochs * n_batches;
    let mut stepper = Stepper::new(network, config, total, &points, rngs);
    observer.stage_started(Stage::Finetune, total);
    let mut final_loss = f64::NAN;
    let first_epoch = resume_loop(&mut stepper, &mut control, &mut rngs.order, &mut final_loss, observer)?;
    for epoch in first_epoch..epochs {
        let order = permutation(n, &mut rngs.order);
        let (mut loss_sum, mut kl_sum, mut used) = (0.0, 0.0, 0usize);
        for indices in even_batches(&order, config.batch_size) {
            let mut p = global.submatrix(&indices)?;
            let mass: f64 = p.iter().map(|&v| f64::from(v)).sum();
            if mass <= 0.0 {
                // No kNN edge falls inside this batch: nothing to attract, skip it.
                continue;
            }
            p.mapv_inplace(|v| (f64::from(v) / mass) as f32);
            let xb = gather_rows(points.x, &indices)?;
            let labels = labels_of(&points, &indices);
            let stats = stepper.step(xb, labels.as_deref(), StepLoss::Kl(&p))?;
            loss_sum += stats.loss;
            kl_sum += stats.tsne;
            used += 1;
            step_done(observer, Stage::Finetune, stepper.step, total)?;
        }
        final_loss = loss_sum / used.max(1) as f64;
        observer.epoch_finished(&EpochSummary {
            stage: Stage::Finetune,
            epoch,
            loss: final_loss,
            accuracy: None,
            val_accuracy: None,
            kl: Some(kl_sum / used.max(1) as f64),
            seconds: stepper.started.elapsed().as_secs_f64(),
        });
        control.epoch_done(stepper.network, || {
            stepper.loop_state(epoch + 1, rngs.order.get_word_pos(), final_loss)
        })?;
    }
    observer.stage_finished(Stage::Finetune);
    Ok(FinetuneReport {
        scheme: config.scheme.name().into(),
        steps: stepper.step,
        final_loss,
        unconverged_rows: global.unconverged.len(),
    })
}

/// Applies `control.resume` to the stepper and the loop's random stream; returns
/// the first epoch still to run.
pub(super) fn resume_loop(
    stepper: &mut Stepper<'_>,
    control: &mut LoopControl<'_>,
    rng: &mut rand_chacha::ChaCha8Rng,
    final_loss: &mut f64,
    observer: &mut dyn TrainObserver,
) -> Result<usize> {
    let Some(state) = control.resume.take() else {
        return Ok(0);
    };
    stepper.resume(&state)?;
    rng.set_word_pos(state.rng_word_pos);
    *final_loss = state.last_loss;
    observer.progress(Stage::Finetune, state.step);
    Ok(state.epochs_done)
}
