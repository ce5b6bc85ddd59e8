//! `salient-sne plot`: a scatter PNG of a model's training map coloured by label, with the
//! cluster centres marked, optionally with other points embedded over it.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use serde_json::json;
use ssne_data::ndarray::Array2;
use ssne_model::ParametricTsne;
use ssne_model::clusters;

use super::{embed_batched, load_finetuned_model, prepare_labelled};
use crate::data_args::{DataArgs, Loaded};
use crate::output;
use crate::plot::{PointSet, Scatter};
use crate::progress::Ui;

const EXAMPLES: &str = "\
Without --data or --rows the plot shows the model's training map alone; with them, those points
are embedded and drawn over it.

Examples:
  salient-sne plot --model m.ssne --out map.png
  salient-sne plot --model m.ssne --rows 8000..10000 --out test-over-train.png
  salient-sne plot --model m.ssne --data data/mnist --split test --out mnist-test.png --title \"MNIST test\"";

/// `plot` flags.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct PlotArgs {
    /// The trained model file
    #[arg(long, value_name = "FILE")]
    model: PathBuf,
    /// Where to write the PNG
    #[arg(long, value_name = "FILE.png")]
    out: PathBuf,
    /// The title [default: the model's file name]
    #[arg(long)]
    title: Option<String>,
    /// Width of the image in pixels
    #[arg(long, default_value_t = 1200, value_parser = clap::value_parser!(u32).range(400..=8000))]
    width: u32,
    /// Height of the image in pixels
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(300..=8000))]
    height: u32,
    #[command(flatten)]
    data: DataArgs,
}

pub(crate) fn run(args: &PlotArgs, ui: &Ui) -> anyhow::Result<()> {
    check_png_name(&args.out)?;
    let model = load_finetuned_model(&args.model, ui)?;
    let overlay = if args.data.is_given() {
        let mut loaded = args.data.load(ui)?;
        prepare_labelled(&model, &mut loaded, &args.model)?;
        let embedding = embed_batched(&model, loaded.data.features.view(), ui)?;
        Some((loaded, embedding))
    } else {
        None
    };
    let title = args.title.clone().unwrap_or_else(|| {
        let name = args
            .model
            .file_stem()
            .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
        format!("parametric t-SNE map: {name}")
    });
    let overlay_ref = overlay.as_ref().map(|(loaded, embedding)| (loaded, embedding));
    let png = render_map(&model, overlay_ref, title, args.width, args.height, ui)?;
    output::write_bytes(&args.out, &png)?;
    if ui.json() {
        output::print_json(&json!({
            "out": args.out.display().to_string(),
            "reference_points": model.reference.embedding.nrows(),
            "overlay_points": overlay.as_ref().map(|(l, _)| l.data.n_points()),
        }));
    } else {
        println!("wrote {}", args.out.display());
    }
    Ok(())
}

/// Refuses an output name that would not hold a PNG, before any work.
pub(crate) fn check_png_name(path: &Path) -> anyhow::Result<()> {
    let is_png = path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("png"));
    anyhow::ensure!(is_png, "{}: plots are PNG images; end the name in .png", path.display());
    Ok(())
}

/// Draws the model's reference map, with `overlay` (points and their embedding) over it.
pub(crate) fn render_map(
    model: &ParametricTsne,
    overlay: Option<(&Loaded, &Array2<f32>)>,
    title: String,
    width: u32,
    height: u32,
    ui: &Ui,
) -> anyhow::Result<Vec<u8>> {
    let reference = &model.reference;
    let centres = match &reference.labels {
        Some(labels) => clusters::map_centres(reference.embedding.view(), labels).context("cluster centres")?,
        None => Vec::new(),
    };
    let label_names = model.label_names.clone().unwrap_or_default();
    let subtitle = match overlay {
        Some((loaded, _)) => format!(
            "{} training points (faint) with {} points of {} embedded over them",
            reference.embedding.nrows(),
            loaded.data.n_points(),
            loaded.description
        ),
        None => format!(
            "{} training points; circles mark the cluster centres",
            reference.embedding.nrows()
        ),
    };
    let scatter = Scatter {
        title,
        subtitle,
        reference: PointSet {
            points: reference.embedding.view(),
            labels: reference.labels.as_deref(),
        },
        overlay: overlay.map(|(loaded, embedding)| PointSet {
            points: embedding.view(),
            labels: loaded.data.labels.as_deref(),
        }),
        centres,
        label_names,
    };
    ui.step("drawing the map", || scatter.render_png(width, height))
}
