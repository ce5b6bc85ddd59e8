//! `salient-sne pretrain`: only the supervised pretraining; the model file records the whole
//! configuration, so `finetune` continues with it.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use clap::Args;
use ssne_model::ParametricTsne;

use crate::output;

use super::{save_model, train};
use crate::data_args::DataArgs;
use crate::progress::{TrainProgress, Ui};
use crate::train_args::TrainArgs;

const EXAMPLES: &str = "\
The fine-tuning flags given here are stored in the model and used by `finetune` unless it
overrides them.

Examples:
  salient-sne pretrain --rows 0..8000 --model pre.ssne
  salient-sne finetune --model pre.ssne --rows 0..8000 --out m.ssne
  salient-sne pretrain --data data/mnist --pretrain-epochs 20 --lr 0.0005 --model pre.ssne";

/// `pretrain` flags.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct PretrainCmdArgs {
    /// Where to write the pretrained model file
    #[arg(long, value_name = "FILE")]
    model: PathBuf,
    /// The training log, one JSON object per epoch [default: beside the model, NAME.log.jsonl]
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// Replace an existing file at the output path even when it is not a model file
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    train: TrainArgs,
}

pub(crate) fn run(args: &PretrainCmdArgs, ui: &Ui) -> anyhow::Result<()> {
    output::check_model_output(
        &args.model,
        &args.log.clone().unwrap_or_else(|| super::default_log_path(&args.model)),
        &args.data.input_paths(),
        args.force,
    )?;
    let mut loaded = args.data.load(ui)?;
    let (config, adapted) = train::prepare_adapted(&mut loaded, &args.train, ui)?;
    let mut progress = TrainProgress::new(ui);
    let started = Instant::now();
    let model = crate::interrupt::stoppable(|| ParametricTsne::pretrained(&loaded.data, None, &config, &mut progress))
        .with_context(|| format!("pretraining on {}", loaded.description))?;
    let seconds = started.elapsed().as_secs_f64();
    let log = save_model(&model, &args.model, args.log.as_deref(), &progress, ui)?;
    train::report(
        &model.report,
        seconds,
        train::Trained::Pretraining(&adapted),
        &args.model,
        &log,
        &loaded,
        ui,
    );
    Ok(())
}
