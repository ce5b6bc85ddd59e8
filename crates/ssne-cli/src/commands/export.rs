//! `salient-sne export`: write a trained map as an ONNX model, for onnxruntime, Ray or Spark.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use serde_json::json;
use ssne_onnx::{ExportOptions, IR_VERSION, OPSET};

use super::load_finetuned_model;
use crate::output;
use crate::progress::Ui;

const EXAMPLES: &str = "\
The ONNX model (IR version 8, opset 17) takes the raw rows `salient-sne embed` reads, as input
`features` float32 [N, d]: the model's input scaling is part of the graph. Its output `embedding`
is float32 [N, 2]; with --probabilities a second output `probabilities` float32 [N, classes]
holds the pretrained classifier's softmax.

Examples:
  salient-sne export --model m.ssne --onnx m.onnx
  salient-sne export --model m.ssne --onnx m.onnx --probabilities";

/// `export` flags.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct ExportArgs {
    /// The trained model file
    #[arg(long, value_name = "FILE")]
    model: PathBuf,
    /// Where to write the ONNX model
    #[arg(long, value_name = "FILE")]
    onnx: PathBuf,
    /// Add a second output with the pretrained classifier's class probabilities
    #[arg(long)]
    probabilities: bool,
}

pub(crate) fn run(args: &ExportArgs, ui: &Ui) -> anyhow::Result<()> {
    // Before any work: the output must not be the model it is made from.
    if let (Ok(out), Ok(model)) = (std::fs::canonicalize(&args.onnx), std::fs::canonicalize(&args.model))
        && out == model
    {
        anyhow::bail!(
            "{}: this is the input model; writing the ONNX model there would destroy it. Choose another path",
            args.onnx.display()
        );
    }
    let model = load_finetuned_model(&args.model, ui)?;
    let options = ExportOptions {
        probabilities: args.probabilities,
    };
    let bytes = ssne_onnx::to_onnx(&model, &options)
        .with_context(|| format!("{} cannot be exported to ONNX", args.model.display()))?;
    output::write_bytes(&args.onnx, &bytes)?;
    let n_features = model.n_features();
    let classes = match (&model.classifier, args.probabilities) {
        (Some(classifier), true) => Some(classifier.spec.n_outputs()),
        _ => None,
    };
    if ui.json() {
        output::print_json(&json!({
            "onnx": args.onnx.display().to_string(),
            "bytes": bytes.len(),
            "ir_version": IR_VERSION,
            "opset": OPSET,
            "n_features": n_features,
            "embedding_dim": model.network.spec.embedding_dim,
            "classes": classes,
        }));
    } else {
        let extra = classes.map_or_else(String::new, |k| format!(", probabilities [N, {k}]"));
        println!(
            "wrote {} ({} bytes, ONNX IR {IR_VERSION}, opset {OPSET}): features [N, {n_features}] -> embedding [N, {}]{extra}",
            args.onnx.display(),
            bytes.len(),
            model.network.spec.embedding_dim,
        );
    }
    Ok(())
}
