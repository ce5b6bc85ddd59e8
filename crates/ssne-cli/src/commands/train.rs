//! `salient-sne train`: pretrain (when the data has labels) and fine-tune, then write the model and its log.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use clap::Args;
use serde_json::json;
use ssne_model::{
    Adaptation, Checkpointing, DataSummary, ModelError, ParametricTsne, TrainConfig, TrainReport, TrainingState,
};

use super::{figure, save_model, scale_training_data};
use crate::data_args::{DataArgs, Loaded, TrainingData};
use crate::interrupt::{self, Interrupted};
use crate::output;
use crate::progress::{TrainProgress, Ui};
use crate::train_args::{TrainArgs, flag};
use ssne_data::Features;

const EXAMPLES: &str = "\
Examples:
  salient-sne train --rows 0..8000 --model m.ssne
  salient-sne train --data data/mnist --model mnist.ssne --threads 2
  salient-sne train --data points.csv --label-column class --model p.ssne --scaling standardize
  salient-sne train --rows 0..8000 --preset paper --model paper.ssne       # the exact method of the paper
  salient-sne train --rows 0..2000 --scheme fixed --batch-size 500 --finetune-epochs 20 --model m.ssne
  salient-sne train --rows 0..8000 --model m.ssne --checkpoint m.state               # keep the state after every epoch
  salient-sne train --rows 0..8000 --model m.ssne --checkpoint m.state --resume m.state  # continue it after an interruption
  salient-sne train --rows 0..8000 --model m.ssne --ensemble 5   # seeds 42..46 into m.ssne, m.1.ssne .. m.4.ssne";

/// `train` flags.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct TrainCmdArgs {
    /// Where to write the model file
    #[arg(long, value_name = "FILE")]
    model: PathBuf,
    /// The training log, one JSON object per epoch [default: beside the model, NAME.log.jsonl]
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// Keep the training state in FILE after every epoch (replaced atomically), so an interrupted run can be resumed
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<PathBuf>,
    /// Continue the run whose state is in FILE; give the same data and training flags as the interrupted run
    #[arg(long, value_name = "FILE")]
    resume: Option<PathBuf>,
    /// Replace an existing file at the output path even when it is not a model file
    #[arg(long)]
    force: bool,
    /// Train N models, member k with seed --seed + k, into --model (k = 0) and NAME.k.EXT
    /// (m.ssne, m.1.ssne, ...), each with its log; all are written after the last one trained, for
    /// `saliency --model m.ssne --ensemble m.1.ssne ...`
    #[arg(long, value_name = "N", conflicts_with_all = ["checkpoint", "resume", "log"],
          value_parser = clap::value_parser!(u16).range(1..=1000))]
    ensemble: Option<u16>,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    train: TrainArgs,
}

pub(crate) fn run(args: &TrainCmdArgs, ui: &Ui) -> anyhow::Result<()> {
    if let Some(n) = args.ensemble {
        let paths = ensemble_paths(&args.model, n.into());
        for path in &paths {
            output::check_model_output(
                path,
                &super::default_log_path(path),
                &args.data.input_paths(),
                args.force,
            )?;
        }
        return match load_training(args, ui)? {
            TrainingData::Floats(loaded) => run_ensemble(args, loaded, &paths, ui),
            TrainingData::Bytes(loaded) => run_ensemble(args, loaded, &paths, ui),
        };
    }
    output::check_model_output(
        &args.model,
        &args.log.clone().unwrap_or_else(|| super::default_log_path(&args.model)),
        &args.data.input_paths(),
        args.force,
    )?;
    match load_training(args, ui)? {
        TrainingData::Floats(loaded) => train_loaded(args, loaded, ui),
        TrainingData::Bytes(loaded) => train_loaded(args, loaded, ui),
    }
}

/// The training rows, `u8` codes where the data holds `u8` values, saying so.
fn load_training(args: &TrainCmdArgs, ui: &Ui) -> anyhow::Result<TrainingData> {
    let training = args.data.load_training(ui)?;
    if let TrainingData::Bytes(loaded) = &training {
        let values = loaded.data.n_points() as u64 * loaded.data.n_features() as u64;
        ui.note(format!(
            "keeping the inputs as u8 ({}, not {} as f32), decoded and scaled per batch",
            output::bytes_text(values),
            output::bytes_text(values * 4)
        ));
    }
    Ok(training)
}

/// `train` of one model on loaded rows in either storage.
fn train_loaded<F: Features>(args: &TrainCmdArgs, mut loaded: Loaded<F>, ui: &Ui) -> anyhow::Result<()> {
    let (config, adapted) = prepare_adapted(&mut loaded, &args.train, ui)?;
    let resume = match &args.resume {
        Some(path) => {
            let state = TrainingState::load(path).context("reading the training state to resume")?;
            ui.note(format!(
                "resuming {} of the run in {}",
                state.describe(),
                path.display()
            ));
            Some(state)
        }
        None => None,
    };
    // The description of the last state kept, to say what a resume continues from.
    let mut kept: Option<String> = None;
    let mut sink = args.checkpoint.as_ref().map(|path| {
        let kept = &mut kept;
        // As ssne_model::TrainingStateFile keeps it (atomically replaced), remembering what it kept.
        move |state: &TrainingState| -> ssne_model::Result<()> {
            state.save(path)?;
            *kept = Some(state.describe());
            Ok(())
        }
    });
    let checkpoints = Checkpointing {
        resume,
        sink: sink.as_mut().map(|f| f as _),
    };
    let mut progress = TrainProgress::new(ui);
    let started = Instant::now();
    let fitted =
        interrupt::stoppable(|| ParametricTsne::fit_with(&loaded.data, None, &config, &mut progress, checkpoints));
    let model = match fitted {
        Err(err @ ModelError::Interrupted { .. }) => return Err(interrupted(&err, args, kept).into()),
        fitted => fitted.with_context(|| format!("training on {}", loaded.description))?,
    };
    let seconds = started.elapsed().as_secs_f64();
    let log = save_model(&model, &args.model, args.log.as_deref(), &progress, ui)?;
    report(
        &model.report,
        seconds,
        Trained::Both(&adapted),
        &args.model,
        &log,
        &loaded,
        ui,
    );
    Ok(())
}

/// The model files of an ensemble of `n` members: `model` itself, then `NAME.k.EXT` beside it
/// (`m.ssne` -> `m.1.ssne`, `m.2.ssne`, ...).
pub(crate) fn ensemble_paths(model: &std::path::Path, n: usize) -> Vec<PathBuf> {
    let stem = model
        .file_stem()
        .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
    let extension = model.extension().map(|e| e.to_string_lossy().into_owned());
    std::iter::once(model.to_path_buf())
        .chain((1..n).map(|k| {
            let name = match &extension {
                Some(ext) => format!("{stem}.{k}.{ext}"),
                None => format!("{stem}.{k}"),
            };
            model.with_file_name(name)
        }))
        .collect()
}

/// `train --ensemble N`: the same data and flags with seeds `seed..seed + N`, every model kept in
/// memory until the last one is trained, then each written atomically with its log, so an error or
/// Ctrl-C during training writes none of them.
fn run_ensemble<F: Features>(
    args: &TrainCmdArgs,
    mut loaded: Loaded<F>,
    paths: &[PathBuf],
    ui: &Ui,
) -> anyhow::Result<()> {
    let n = paths.len();
    let (config, adapted) = prepare_adapted(&mut loaded, &args.train, ui)?;
    let mut trained = Vec::with_capacity(n);
    let started = Instant::now();
    for k in 0..n {
        let seed = config.seed.checked_add(k as u64).with_context(|| {
            format!(
                "--seed {} + {k} overflows: choose a smaller --seed for {n} members",
                config.seed
            )
        })?;
        let member = TrainConfig { seed, ..config.clone() };
        ui.note(format!("ensemble member {} of {n}: seed {seed}", k + 1));
        let mut progress = TrainProgress::new(ui);
        let member_started = Instant::now();
        let fitted = interrupt::stoppable(|| {
            ParametricTsne::fit_with(&loaded.data, None, &member, &mut progress, Checkpointing::default())
        });
        let model = match fitted {
            Err(err @ ModelError::Interrupted { .. }) => {
                return Err(Interrupted(format!(
                    "interrupted: {err} (ensemble member {} of {n}); no model was written",
                    k + 1
                ))
                .into());
            }
            fitted => {
                fitted.with_context(|| format!("training ensemble member {} on {}", k + 1, loaded.description))?
            }
        };
        trained.push((model, progress, member_started.elapsed().as_secs_f64()));
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut members = Vec::with_capacity(n);
    for ((model, progress, member_seconds), path) in trained.iter().zip(paths) {
        let log = save_model(model, path, None, progress, ui)?;
        members.push((model, path, log, *member_seconds));
    }
    let command = format!(
        "salient-sne saliency --model {}{} ...",
        paths[0].display(),
        if n > 1 {
            format!(
                " --ensemble {}",
                paths[1..]
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        } else {
            String::new()
        }
    );
    if ui.json() {
        output::print_json(&json!({
            "models": members.iter().map(|(model, path, log, member_seconds)| json!({
                "model": path.display().to_string(),
                "log": log.display().to_string(),
                "seed": model.config.seed,
                "classifier_train_accuracy": model.report.classifier_train_accuracy,
                "final_loss": model.report.finetune.as_ref().map(|f| f.final_loss),
                "seconds": member_seconds,
            })).collect::<Vec<_>>(),
            "n_points": loaded.data.n_points(),
            "seconds": seconds,
            "adapted_defaults": adapted_json(&adapted),
            "saliency": command,
        }));
        return Ok(());
    }
    for (model, path, log, member_seconds) in &members {
        println!("seed {}:", model.config.seed);
        report(
            &model.report,
            *member_seconds,
            Trained::Both(&adapted),
            path,
            log,
            &loaded,
            ui,
        );
    }
    println!("{n} models in {seconds:.2} s; their maps averaged: {command}");
    Ok(())
}

/// What to say when Ctrl-C stopped `train`: where, that nothing was written, and the command that
/// resumes the run from its checkpoint (`kept` describes the state written by this run, if any).
fn interrupted(err: &ModelError, args: &TrainCmdArgs, kept: Option<String>) -> Interrupted {
    let mut message = format!("interrupted: {err}; no model was written");
    let resumable = match (&args.checkpoint, kept, &args.resume) {
        (Some(checkpoint), Some(kept), _) => Some((checkpoint, kept)),
        // Nothing newer was kept: the state this run resumed from still continues it.
        (_, None, Some(resumed)) => Some((resumed, "as before this run".to_owned())),
        _ => None,
    };
    match (resumable, &args.checkpoint) {
        (Some((state, kept)), _) => message.push_str(&format!(
            "\nthe checkpoint {} holds the run {kept}; to resume it:\n  {}",
            state.display(),
            interrupt::resume_command(state)
        )),
        (None, Some(checkpoint)) => message.push_str(&format!(
            "\nno checkpoint was kept in {} yet (one is kept after every epoch); run the command again to start over",
            checkpoint.display()
        )),
        (None, None) => message.push_str("\ntrain with --checkpoint FILE to be able to resume an interrupted run"),
    }
    Interrupted(message)
}

/// Scales the training rows as the flags ask, builds and checks the training
/// configuration, and says what is about to be trained (shared by `train`,
/// `pretrain` and `demo`).
pub(crate) fn prepare_training<F: Features>(
    loaded: &mut Loaded<F>,
    train: &TrainArgs,
    ui: &Ui,
) -> anyhow::Result<TrainConfig> {
    prepare_adapted(loaded, train, ui).map(|(config, _)| config)
}

/// [`prepare_training`], also returning the defaults it adapted to the data (for `--json`).
pub(crate) fn prepare_adapted<F: Features>(
    loaded: &mut Loaded<F>,
    train: &TrainArgs,
    ui: &Ui,
) -> anyhow::Result<(TrainConfig, Vec<Adaptation>)> {
    if train.finetune.shifts_requested() && loaded.data.image_shape.is_none() {
        anyhow::bail!(
            "--shift-pixels shifts images, and {} has no image shape: give --image-shape HxW for a CSV or 2-D NPY file (IDX images, 3-D NPY arrays and the bundled sample have one)",
            loaded.description
        );
    }
    let data = &loaded.data;
    let summary = DataSummary::of(data);
    let training = train.to_training(&summary)?;
    scale_training_data(&mut loaded.data, training.scaling)?;
    let config = training.config;
    config.validate().context("checking the training flags")?;
    announce(loaded, &config, true, ui);
    for adaptation in &training.adapted {
        ui.note(format!(
            "adapted to the data: {} ({}); give the flag to choose otherwise",
            flag(adaptation.setting),
            adaptation.reason
        ));
    }
    Ok((config, training.adapted))
}

/// The `--json` form of the defaults adapted to the data.
fn adapted_json(adapted: &[Adaptation]) -> serde_json::Value {
    adapted
        .iter()
        .map(|a| json!({ "flag": flag(a.setting), "reason": a.reason }))
        .collect()
}

/// Says what is about to be trained.
pub(crate) fn announce<F: Features>(loaded: &Loaded<F>, config: &TrainConfig, pretraining: bool, ui: &Ui) {
    let data = &loaded.data;
    let classes = data
        .n_classes()
        .map_or_else(|| "no labels".to_owned(), |k| format!("{k} classes"));
    let points = match data.image_shape {
        Some([height, width]) => format!("{} images of {height} x {width}", data.n_points()),
        None => format!("{} points x {} features", data.n_points(), data.n_features()),
    };
    ui.note(format!(
        "training on {}: {points}, {classes}; fine-tuning scheme {}, perplexity {}",
        loaded.description,
        config.finetune.scheme.name(),
        config.finetune.perplexity
    ));
    if pretraining && data.labels.is_none() && config.pretrain.epochs > 0 {
        ui.note("the data has no labels: pretraining is skipped and the map learns from the t-SNE loss alone");
        if let Some(hint) = &loaded.missing_labels {
            ui.note(hint);
        }
    }
}

/// What a command trained, for the time line of its summary, with the defaults it adapted to the
/// data (`finetune` keeps the model's configuration and adapts none).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Trained<'a> {
    /// `train`: pretraining and fine-tuning.
    Both(&'a [Adaptation]),
    /// `pretrain`.
    Pretraining(&'a [Adaptation]),
    /// `finetune`.
    FineTuning,
}

/// Prints what training achieved: a short table, or one JSON object with `--json` (which lists the
/// defaults adapted to the data as `adapted_defaults`). `seconds` is
/// this command's training time, measured by the command: a model file stores no time, so the
/// model's own report cannot say how long this run took.
pub(crate) fn report<F: Features>(
    report: &TrainReport,
    seconds: f64,
    trained: Trained<'_>,
    model: &std::path::Path,
    log: &std::path::Path,
    loaded: &Loaded<F>,
    ui: &Ui,
) {
    let adapted = match trained {
        Trained::Both(adapted) | Trained::Pretraining(adapted) => adapted,
        Trained::FineTuning => &[],
    };
    let final_loss = report.finetune.as_ref().map(|f| f.final_loss);
    if ui.json() {
        output::print_json(&json!({
            "model": model.display().to_string(),
            "log": log.display().to_string(),
            "n_points": loaded.data.n_points(),
            "classifier_train_accuracy": report.classifier_train_accuracy,
            "finetuned_train_accuracy": report.finetuned_train_accuracy,
            "final_loss": final_loss,
            "seconds": seconds,
            "adapted_defaults": adapted_json(adapted),
        }));
        return;
    }
    let mut rows = vec![
        ("model".to_owned(), model.display().to_string()),
        ("training log".to_owned(), log.display().to_string()),
        (
            "training points".to_owned(),
            format!("{} ({})", loaded.data.n_points(), loaded.description),
        ),
    ];
    if report.classifier_train_accuracy.is_some() {
        rows.push((
            "classifier accuracy".to_owned(),
            format!("{} on the training rows", figure(report.classifier_train_accuracy)),
        ));
    }
    if report.finetune.is_some() {
        if report.finetuned_train_accuracy.is_some() {
            // The map's network keeps its logits layer, but fine-tuning is free to
            // repurpose it: a low figure here says nothing about the map.
            rows.push((
                "after fine-tuning".to_owned(),
                format!(
                    "{} (the map's network; fine-tuning may repurpose its logits)",
                    figure(report.finetuned_train_accuracy)
                ),
            ));
        }
        rows.push((
            "final t-SNE loss".to_owned(),
            format!(
                "{} (KL(P||Q) up to a constant, so it may be negative; lower is better)",
                figure(final_loss)
            ),
        ));
    }
    let label = match trained {
        Trained::Both(_) => "training time",
        Trained::Pretraining(_) => "pretraining time",
        Trained::FineTuning => "fine-tuning time",
    };
    rows.push((label.to_owned(), format!("{seconds:.2} s (this run)")));
    super::eval::print_table(&rows);
}
