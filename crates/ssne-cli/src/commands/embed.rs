//! `salient-sne embed`: map points to 2-D with a trained model, batch by batch, into CSV or NPY.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::{embed_batched, load_finetuned_model, prepare};
use crate::data_args::DataArgs;
use crate::output::{self, TableFormat};
use crate::progress::Ui;

const EXAMPLES: &str = "\
The output format follows the extension: .csv gets a header `x,y` (plus `label` when the data
has labels), .npy an n x 2 float32 array.

Examples:
  salient-sne embed --model m.ssne --rows 8000..10000 --out test.csv
  salient-sne embed --model m.ssne --data data/mnist --split test --out mnist-test.npy
  salient-sne embed --model m.ssne --data new.npy --out new-map.csv";

/// `embed` flags.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct EmbedArgs {
    /// The trained model file
    #[arg(long, value_name = "FILE")]
    model: PathBuf,
    /// Where to write the coordinates (.csv or .npy)
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    #[command(flatten)]
    data: DataArgs,
}

pub(crate) fn run(args: &EmbedArgs, ui: &Ui) -> anyhow::Result<()> {
    // Refuse an unknown extension before any work.
    TableFormat::from_path(&args.out)?;
    let model = load_finetuned_model(&args.model, ui)?;
    let mut loaded = args.data.load(ui)?;
    prepare(&model, &mut loaded, &args.model)?;
    let embedding = embed_batched(&model, loaded.data.features.view(), ui)?;
    output::write_embedding(&args.out, embedding.view(), loaded.data.labels.as_deref())?;
    if ui.json() {
        output::print_json(&json!({
            "out": args.out.display().to_string(),
            "n_points": embedding.nrows(),
            "labels": loaded.data.labels.is_some(),
        }));
    } else {
        println!(
            "wrote {} points of {} to {}",
            embedding.nrows(),
            loaded.description,
            args.out.display()
        );
    }
    Ok(())
}
