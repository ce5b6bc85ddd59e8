//! `salient-sne embed`: map points to 2-D with a trained model, batch by batch, into CSV or NPY.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::refine_args::{RefineArgs, describe, insert_summary};
use super::{embed_batched, load_finetuned_model, prepare};
use crate::data_args::DataArgs;
use crate::output::{self, TableFormat};
use crate::progress::Ui;

const EXAMPLES: &str = "\
The output format follows the extension: .csv gets a header `x,y` (plus `label`, as the data
writes its labels, when it has them), .npy an n x 2 float32 array (with the labels, one per line,
in a .labels.txt file beside it: test.npy -> test.labels.txt).

Examples:
  salient-sne embed --model m.ssne --rows 8000..10000 --out test.csv
  salient-sne embed --model m.ssne --data data/mnist --split test --out mnist-test.npy
  salient-sne embed --model m.ssne --data new.npy --out new-map.csv
  salient-sne embed --model m.ssne --rows 8000..10000 --refine --out refined.csv --shifts shifts.csv

With --refine the CSV output also has a `shift` column: how far refinement moved each point from
the network's output, in units of the map's spread (saliency maps explain the network's output).";

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
    /// With --refine: also write each point's shift (.csv or .npy)
    #[arg(long, value_name = "FILE", requires = "refine")]
    shifts: Option<PathBuf>,
    #[command(flatten)]
    refine: RefineArgs,
    #[command(flatten)]
    data: DataArgs,
}

pub(crate) fn run(args: &EmbedArgs, ui: &Ui) -> anyhow::Result<()> {
    // Refuse an unknown extension before any work.
    TableFormat::from_path(&args.out)?;
    let model = load_finetuned_model(&args.model, ui)?;
    let mut loaded = args.data.load(ui)?;
    prepare(&model, &mut loaded, &args.model)?;
    if let Some(path) = &args.shifts {
        TableFormat::from_path(path)?;
    }
    let network_output = embed_batched(&model, loaded.data.features.view(), ui)?;
    let placed = args
        .refine
        .place(&model, loaded.data.features.view(), network_output, ui)?;
    let embedding = placed.positions;
    output::write_embedding(
        &args.out,
        embedding.view(),
        loaded.data.shown_labels().as_deref(),
        placed.shifts.as_deref(),
    )?;
    if let (Some(path), Some(shifts)) = (&args.shifts, &placed.shifts) {
        output::write_column(path, "shift", shifts)?;
    }
    if ui.json() {
        let mut summary = serde_json::Map::new();
        summary.insert("out".into(), json!(args.out.display().to_string()));
        summary.insert("n_points".into(), json!(embedding.nrows()));
        summary.insert("labels".into(), json!(loaded.data.labels.is_some()));
        if loaded.data.labels.is_some() && TableFormat::from_path(&args.out)? == TableFormat::Npy {
            let beside = output::labels_path_beside(&args.out);
            summary.insert("labels_file".into(), json!(beside.display().to_string()));
        }
        insert_summary(&mut summary, placed.summary.as_ref());
        output::print_json(&serde_json::Value::Object(summary));
    } else {
        if let Some(summary) = &placed.summary {
            println!("{}", describe(summary));
        }
        println!(
            "wrote {} points of {} to {}",
            embedding.nrows(),
            loaded.description,
            args.out.display()
        );
    }
    Ok(())
}
