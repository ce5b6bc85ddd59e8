//! The top-level flags and the list of commands; [`Cli::run`] sets up threads and output, then dispatches.

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

use crate::commands::{demo, embed, eval, export, finetune, plot, pretrain, report, saliency, train};
use crate::progress::Ui;

const AFTER_HELP: &str = "\
Data: --data is `bundled` (the 10,000 MNIST digits compiled into the binary, the default),
an IDX images file (labels found beside it), an MNIST-style folder, an .npy or a .csv file.

Examples:
  salient-sne demo                                     # everything on the bundled sample, into out/demo
  salient-sne train --rows 0..8000 --model m.ssne      # train on the bundled sample
  salient-sne embed --model m.ssne --rows 8000..10000 --out test.csv
  salient-sne eval --model m.ssne --rows 8000..10000
  salient-sne plot --model m.ssne --rows 8000..10000 --out map.png
  salient-sne saliency --model m.ssne --rows 8000..10000 --pairs auto --out maps/";

/// Learn a parametric t-SNE map with a small neural network and explain it with saliency maps.
#[derive(Debug, Parser)]
#[command(name = "salient-sne", version, about, after_help = AFTER_HELP, propagate_version = true)]
pub(crate) struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Flags every command accepts.
#[derive(Debug, Clone, Args)]
pub(crate) struct GlobalArgs {
    /// Worker threads for the one rayon pool (default: all cores)
    #[arg(long, global = true, value_name = "N")]
    pub(crate) threads: Option<usize>,
    /// No progress bars and no notes on stderr (errors are still printed)
    #[arg(long, short, global = true)]
    pub(crate) quiet: bool,
    /// Print a machine-readable JSON summary on stdout instead of the human one
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The whole method on the bundled MNIST sample: train, embed held-out digits, evaluate, plot, explain
    Demo(demo::DemoArgs),
    /// Pretrain the classifier (when the data has labels) and fine-tune the map; writes the model
    Train(train::TrainCmdArgs),
    /// Only the supervised pretraining; `finetune` continues from the model file
    Pretrain(pretrain::PretrainCmdArgs),
    /// Fine-tune the map of a (pretrained) model file with the t-SNE loss
    Finetune(finetune::FinetuneCmdArgs),
    /// Map points to 2-D with a trained model (CSV or NPY output)
    Embed(embed::EmbedArgs),
    /// Saliency maps: class, Jacobian or directional (cluster A towards cluster B); PNG and NPY
    Saliency(saliency::SaliencyArgs),
    /// Quality of a model on a data set: k-NN accuracy, trustworthiness, KL, classifier accuracy
    Eval(eval::EvalArgs),
    /// Scatter plot (PNG) of a model's map, optionally with other points embedded over it
    Plot(plot::PlotArgs),
    /// Write the map (and optionally the classifier's probabilities) as an ONNX model
    Export(export::ExportArgs),
    /// One self-contained interactive HTML page: hover a point for its image, prediction and saliency
    Report(report::ReportArgs),
}

impl Cli {
    /// Builds the thread pool and the progress display, then runs the command.
    pub(crate) fn run(self) -> anyhow::Result<()> {
        let mut pool = rayon::ThreadPoolBuilder::new();
        if let Some(threads) = self.global.threads {
            anyhow::ensure!(
                threads > 0,
                "--threads 0 is not a thread count; give 1 or more, or leave it out for all cores"
            );
            pool = pool.num_threads(threads);
        }
        // The only pool of the process: the libraries run on rayon's global pool.
        pool.build_global().context("starting the worker threads")?;
        let ui = Ui::new(&self.global);
        crate::interrupt::install(self.global.quiet);
        match self.command {
            Command::Demo(args) => demo::run(&args, &ui),
            Command::Train(args) => train::run(&args, &ui),
            Command::Pretrain(args) => pretrain::run(&args, &ui),
            Command::Finetune(args) => finetune::run(&args, &ui),
            Command::Embed(args) => embed::run(&args, &ui),
            Command::Saliency(args) => saliency::run(&args, &ui),
            Command::Eval(args) => eval::run(&args, &ui),
            Command::Plot(args) => plot::run(&args, &ui),
            Command::Export(args) => export::run(&args, &ui),
            Command::Report(args) => report::run(&args, &ui),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_flag_definitions_are_consistent() {
        // clap checks conflicting names, missing value names and bad defaults here, not at run time.
        super::Cli::command().debug_assert();
    }
}
