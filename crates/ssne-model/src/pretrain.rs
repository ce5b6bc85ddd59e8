//! Supervised pretraining of the classifier with softmax cross-entropy.

use std::time::Instant;

use rand_chacha::ChaCha8Rng;
use ssne_autodiff::Tape;
use ssne_tensor::ndarray::{Array2, ArrayView2};

use crate::config::PretrainConfig;
use crate::network::{Network, Trainable};
use crate::observer::{EpochSummary, Stage, TrainObserver, step_done};
use crate::optim::Adam;
use crate::row_batches::{for_chunks, gather_rows, permutation};
use crate::training_state::{LoopControl, LoopState};
use crate::{ModelError, Result};
use ssne_data::FeatureRows;
use ssne_tensor::argmax_rows;

/// Labelled points: features `[n, d]` and one label per row.
#[derive(Debug, Clone, Copy)]
pub struct Labelled<'a> {
    /// Features, `f32` rows or `u8` codes (`view.into()` for an `f32` matrix).
    pub x: FeatureRows<'a>,
    /// Labels, one per row.
    pub labels: &'a [u32],
}

/// What pretraining achieved.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PretrainReport {
    /// Training accuracy in the last epoch.
    pub train_accuracy: f64,
    /// Held-out accuracy after the last epoch, when a validation set was given.
    pub val_accuracy: Option<f64>,
    /// Mean loss of the last epoch.
    pub final_loss: f64,
}

/// Trains the classifier layers of `network` on `train` (the head is untouched).
///
/// # Errors
/// [`ModelError::LabelOutOfRange`] for a label without an output unit,
/// [`ModelError::Diverged`] if the loss becomes non-finite.
pub fn pretrain(
    network: &mut Network,
    train: Labelled<'_>,
    validation: Option<Labelled<'_>>,
    config: &PretrainConfig,
    rng: &mut ChaCha8Rng,
    observer: &mut dyn TrainObserver,
) -> Result<PretrainReport> {
    pretrain_with(network, train, validation, config, rng, observer, LoopControl::none())
}

/// [`pretrain`], continuing from `control.resume` and handing the loop's state
/// on after every epoch.
pub(crate) fn pretrain_with(
    network: &mut Network,
    train: Labelled<'_>,
    validation: Option<Labelled<'_>>,
    config: &PretrainConfig,
    rng: &mut ChaCha8Rng,
    observer: &mut dyn TrainObserver,
    mut control: LoopControl<'_>,
) -> Result<PretrainReport> {
    network.check_features(train.x.ncols())?;
    check_labels(train.labels, network.spec.n_outputs())?;
    let n = train.x.nrows();
    if train.labels.len() != n {
        return Err(ModelError::TooFewPoints {
            what: "labels for pretraining",
            needed: n,
            found: train.labels.len(),
        });
    }
    let batch_size = config.batch_size.max(1);
    let steps_per_epoch = n.div_ceil(batch_size);
    let total = steps_per_epoch * config.epochs;
    observer.stage_started(Stage::Pretrain, total);
    let shapes: Vec<(usize, usize)> = network.parameters_mut().iter().map(|p| p.dim()).collect();
    let mut report = PretrainReport {
        train_accuracy: 0.0,
        val_accuracy: None,
        final_loss: f64::NAN,
    };
    let (mut adam, mut step, first_epoch) = match control.resume.take() {
        Some(state) => {
            rng.set_word_pos(state.rng_word_pos);
            if let Some(so_far) = state.pretrain {
                report = so_far;
            }
            observer.progress(Stage::Pretrain, state.step);
            (
                Adam::from_state(config.adam, state.adam, &shapes)?,
                state.step,
                state.epochs_done,
            )
        }
        None => (Adam::new(config.adam, &shapes), 0usize, 0),
    };
    let mut tape = Tape::<f32>::new();
    let started = Instant::now();
    for epoch in first_epoch..config.epochs {
        let order = permutation(n, rng);
        let (mut loss_sum, mut correct) = (0.0_f64, 0usize);
        let batches: Vec<&[usize]> = order.chunks(batch_size).collect();
        let mut xb = batches.first().map(|batch| gather_rows(train.x, batch)).transpose()?;
        for (b, batch) in batches.iter().enumerate() {
            let lr = config.adam.lr * config.adam.schedule.factor(step, total);
            let Some(x_batch) = xb.take() else { break };
            // The step runs on a worker of the rayon pool: its parallel kernels
            // then split work among the workers directly, instead of each one
            // handing its work to the pool and putting the calling thread to
            // sleep until a worker has finished it (several times per step).
            // Meanwhile the next batch's rows are gathered: random rows of the
            // training set come from memory at the pace of its latency, which
            // the step's arithmetic hides.
            let tape = &mut tape;
            let network = &mut *network;
            let adam = &mut adam;
            let labels: Vec<u32> = batch.iter().map(|&i| train.labels[i]).collect();
            let (result, next) = rayon::join(
                || train_step(network, tape, adam, x_batch, &labels, lr, step),
                || batches.get(b + 1).map(|next| gather_rows(train.x, next)),
            );
            let (loss_value, batch_correct) = result?;
            xb = next.transpose()?;
            correct += batch_correct;
            loss_sum += loss_value * batch.len() as f64;
            step += 1;
            step_done(observer, Stage::Pretrain, step, total)?;
        }
        report.train_accuracy = correct as f64 / n as f64;
        report.final_loss = loss_sum / n as f64;
        report.val_accuracy = match validation {
            Some(v) => Some(accuracy_rows(network, v.x, v.labels)?),
            None => None,
        };
        observer.epoch_finished(&EpochSummary {
            stage: Stage::Pretrain,
            epoch,
            loss: report.final_loss,
            accuracy: Some(report.train_accuracy),
            val_accuracy: report.val_accuracy,
            kl: None,
            seconds: started.elapsed().as_secs_f64(),
        });
        control.epoch_done(network, || LoopState {
            epochs_done: epoch + 1,
            step,
            adam: adam.state(),
            rng_word_pos: rng.get_word_pos(),
            last_loss: report.final_loss,
            pretrain: Some(report.clone()),
        })?;
    }
    observer.stage_finished(Stage::Pretrain);
    Ok(report)
}

/// One optimiser step on the rows `xb` with labels `yb`: forward pass, softmax
/// cross-entropy, backward pass, Adam at `lr`. Returns the mean loss and the
/// number of rows classified correctly (before the update).
fn train_step(
    network: &mut Network,
    tape: &mut Tape<f32>,
    adam: &mut Adam,
    xb: Array2<f32>,
    yb: &[u32],
    lr: f32,
    step: usize,
) -> Result<(f64, usize)> {
    tape.clear();
    let bound = network.bind(tape, Trainable::Classifier);
    let xv = tape.constant(xb);
    let fwd = network.forward_on(tape, &bound, xv)?;
    let loss = tape.softmax_cross_entropy(fwd.logits, yb)?;
    let loss_value = f64::from(tape.value(loss)?[[0, 0]]);
    if !loss_value.is_finite() {
        return Err(ModelError::Diverged {
            stage: "pretraining",
            step,
            loss: loss_value,
        });
    }
    let predicted = argmax_rows(tape.value(fwd.logits)?);
    let correct = predicted.iter().zip(yb).filter(|(p, y)| p == y).count();
    let grads = tape.backward(loss)?;
    network.apply_gradients(&bound, &grads, adam, lr);
    tape.recycle(grads);
    Ok((loss_value, correct))
}

/// Classification accuracy of `network`'s logits on labelled points.
///
/// # Errors
/// [`ModelError::FeatureCount`] for data of the wrong width.
pub fn accuracy(network: &Network, x: ArrayView2<'_, f32>, labels: &[u32]) -> Result<f64> {
    if x.nrows() == 0 {
        return Ok(f64::NAN);
    }
    let (logits, _) = network.infer(x)?;
    let correct = argmax_rows(logits.view())
        .iter()
        .zip(labels)
        .filter(|&(p, l)| p == l)
        .count();
    Ok(correct as f64 / x.nrows() as f64)
}

/// [`accuracy`] on rows in either storage, a chunk of rows at a time.
///
/// # Errors
/// As [`accuracy`].
pub(crate) fn accuracy_rows(network: &Network, x: FeatureRows<'_>, labels: &[u32]) -> Result<f64> {
    if x.nrows() == 0 {
        return Ok(f64::NAN);
    }
    let mut correct = 0usize;
    for_chunks(x, |start, chunk| {
        let (logits, _) = network.infer(chunk)?;
        correct += argmax_rows(logits.view())
            .iter()
            .zip(&labels[start.min(labels.len())..])
            .filter(|&(p, l)| p == l)
            .count();
        Ok(())
    })?;
    Ok(correct as f64 / x.nrows() as f64)
}

pub(crate) fn check_labels(labels: &[u32], n_classes: usize) -> Result<()> {
    match labels.iter().enumerate().find(|&(_, &l)| l as usize >= n_classes) {
        Some((row, &label)) => Err(ModelError::LabelOutOfRange { label, row, n_classes }),
        None => Ok(()),
    }
}
