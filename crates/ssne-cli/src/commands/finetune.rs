//! `salient-sne finetune`: continue a model file with the t-SNE loss; its stored configuration,
//! overridden by the flags given, decides how.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use clap::Args;

use crate::output;

use super::{load_model, prepare, save_model, train};
use crate::data_args::DataArgs;
use crate::progress::{TrainProgress, Ui};
use crate::train_args::FinetuneArgs;

const EXAMPLES: &str = "\
Use the same data (and --rows) as for `pretrain`: the reference map is made of these points.

Examples:
  salient-sne finetune --model pre.ssne --rows 0..8000 --out m.ssne
  salient-sne finetune --model pre.ssne --rows 0..8000 --scheme fixed --finetune-epochs 50 --out m.ssne";

/// `finetune` flags.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct FinetuneCmdArgs {
    /// The (pretrained) model file to start from
    #[arg(long, value_name = "FILE")]
    model: PathBuf,
    /// Where to write the fine-tuned model (may be the same file; it is replaced atomically)
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// The training log, one JSON object per period [default: beside --out, NAME.log.jsonl]
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// Seed of the fine-tuning draws [default: the model's]
    #[arg(long)]
    seed: Option<u64>,
    /// Replace an existing file at the output path even when it is not a model file
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    finetune: FinetuneArgs,
}

pub(crate) fn run(args: &FinetuneCmdArgs, ui: &Ui) -> anyhow::Result<()> {
    output::check_model_output(
        &args.out,
        &args.log.clone().unwrap_or_else(|| super::default_log_path(&args.out)),
        &args.data.input_paths(),
        args.force,
    )?;
    let mut model = load_model(&args.model, ui)?;
    let mut loaded = args.data.load(ui)?;
    prepare(&model, &mut loaded, &args.model)?;
    args.finetune.apply(&mut model.config.finetune)?;
    if let Some(seed) = args.seed {
        model.config.seed = seed;
    }
    model.config.validate().context("checking the fine-tuning flags")?;
    train::announce(&loaded, &model.config, false, ui);
    let mut progress = TrainProgress::new(ui);
    let started = Instant::now();
    crate::interrupt::stoppable(|| model.finetune(&loaded.data, &mut progress))
        .with_context(|| format!("fine-tuning on {}", loaded.description))?;
    let seconds = started.elapsed().as_secs_f64();
    let log = save_model(&model, &args.out, args.log.as_deref(), &progress, ui)?;
    train::report(
        &model.report,
        seconds,
        train::Trained::FineTuning,
        &args.out,
        &log,
        &loaded,
        ui,
    );
    Ok(())
}
