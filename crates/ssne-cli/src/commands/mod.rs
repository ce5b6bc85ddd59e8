//! One module per command, and the steps several commands share (loading a model, embedding in
//! batches under a bar, saving a model with its log).

pub(crate) mod demo;
pub(crate) mod embed;
pub(crate) mod eval;
pub(crate) mod export;
pub(crate) mod finetune;
pub(crate) mod plot;
pub(crate) mod pretrain;
pub(crate) mod refine_args;
pub(crate) mod report;
pub(crate) mod saliency;
pub(crate) mod train;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use ssne_data::ndarray::{Array2, ArrayView2, Axis};
use ssne_data::{Dataset, ScalingKind};
use ssne_model::{ModelStage, ParametricTsne, model_file};

use crate::data_args::Loaded;
use crate::output;
use crate::progress::{TrainProgress, Ui};

/// Rows embedded per step of the progress bar: large enough for fast GEMMs, small enough that
/// the bar moves on big files.
pub(crate) const EMBED_BATCH_ROWS: usize = 8192;

// Streamed and whole embeddings agree bit for bit only when batches start on the model's blocks.
const _: () = assert!(EMBED_BATCH_ROWS.is_multiple_of(ssne_model::EMBED_BLOCK_ROWS));

/// Reads a model file under a spinner.
pub(crate) fn load_model(path: &Path, ui: &Ui) -> anyhow::Result<ParametricTsne> {
    ui.step(format!("loading the model {}", path.display()), || {
        model_file::load(path)
    })
    .context("loading the model")
}

/// Reads a model file that must be fine-tuned (embedding, evaluation, plots, saliency).
pub(crate) fn load_finetuned_model(path: &Path, ui: &Ui) -> anyhow::Result<ParametricTsne> {
    let model = load_model(path, ui)?;
    anyhow::ensure!(
        model.stage == ModelStage::Finetuned,
        "{} is only pretrained; fine-tune it first with `salient-sne finetune --model {} --out MODEL`",
        path.display(),
        path.display()
    );
    Ok(model)
}

/// Applies the model's input scaling to new data and checks its width.
pub(crate) fn prepare(model: &ParametricTsne, loaded: &mut Loaded, model_path: &Path) -> anyhow::Result<()> {
    model
        .prepare(&mut loaded.data)
        .with_context(|| format!("{} does not fit the model {}", loaded.description, model_path.display()))
}

/// [`prepare`], then renumbers the data's labels as the model's classes (matched by the user's
/// label values), for the commands that compare labels with the model's: `eval`, `plot`, `saliency`.
pub(crate) fn prepare_labelled(model: &ParametricTsne, loaded: &mut Loaded, model_path: &Path) -> anyhow::Result<()> {
    prepare(model, loaded, model_path)?;
    model.align_labels(&mut loaded.data).with_context(|| {
        format!(
            "the labels of {} are not those of the model {}",
            loaded.description,
            model_path.display()
        )
    })
}

/// Maps every row to 2-D, batch by batch under a progress bar.
pub(crate) fn embed_batched(model: &ParametricTsne, x: ArrayView2<'_, f32>, ui: &Ui) -> anyhow::Result<Array2<f32>> {
    let bar = ui.bar(x.nrows() as u64, "embedding");
    let mut out = Array2::zeros((x.nrows(), 2));
    for (chunk, mut target) in x
        .axis_chunks_iter(Axis(0), EMBED_BATCH_ROWS)
        .zip(out.axis_chunks_iter_mut(Axis(0), EMBED_BATCH_ROWS))
    {
        let mapped = model.embed(chunk).context("embedding the points")?;
        anyhow::ensure!(
            mapped.dim() == target.dim(),
            "the model maps to {} dimensions, not 2",
            mapped.ncols()
        );
        target.assign(&mapped);
        bar.inc(chunk.nrows() as u64);
    }
    bar.finish_and_clear();
    Ok(out)
}

/// Fits the requested per-feature scaling on the training rows and applies it (the model stores it).
pub(crate) fn scale_training_data<F: ssne_data::Features>(
    data: &mut Dataset<F>,
    kind: ScalingKind,
) -> anyhow::Result<()> {
    if kind != ScalingKind::None {
        let scaling = data.fit_scaling(kind);
        data.apply_scaling(&scaling).context("scaling the training data")?;
    }
    Ok(())
}

/// The training log beside the model: `out/m.ssne` -> `out/m.log.jsonl`.
pub(crate) fn default_log_path(model: &Path) -> PathBuf {
    let stem = model
        .file_stem()
        .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
    model.with_file_name(format!("{stem}.log.jsonl"))
}

/// Writes the model, then its training log; returns the log's path.
pub(crate) fn save_model(
    model: &ParametricTsne,
    path: &Path,
    log: Option<&Path>,
    progress: &TrainProgress<'_>,
    ui: &Ui,
) -> anyhow::Result<PathBuf> {
    output::ensure_parent(path)?;
    ui.step(format!("writing {}", path.display()), || model_file::save(model, path))
        .context("writing the model")?;
    let log_path = log.map_or_else(|| default_log_path(path), Path::to_path_buf);
    output::ensure_parent(&log_path)?;
    progress.write_log(&log_path)?;
    Ok(log_path)
}

/// The name of a label for messages: the model's class name, or the number.
pub(crate) fn label_name(names: Option<&[String]>, label: u32) -> String {
    names
        .and_then(|names| names.get(label as usize))
        .cloned()
        .unwrap_or_else(|| label.to_string())
}

/// A figure for a table: four decimals, or a dash where it does not apply.
pub(crate) fn figure(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.4}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_sits_beside_the_model() {
        assert_eq!(
            default_log_path(Path::new("out/m.ssne")),
            PathBuf::from("out/m.log.jsonl")
        );
        assert_eq!(default_log_path(Path::new("m")), PathBuf::from("m.log.jsonl"));
    }
}
