//! `salient-sne report`: one self-contained interactive HTML page of a model's map with points
//! embedded over it (`ssne-report` builds it; this module loads, evaluates and writes).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use ssne_data::Dataset;
use ssne_data::ndarray::{ArrayView2, s};
use ssne_model::ParametricTsne;
use ssne_report::{MetricsTable, ReportInput};

use super::eval::{Metrics, evaluate};
use super::refine_args::RefineArgs;
use super::{embed_batched, load_finetuned_model, prepare};
use crate::data_args::{DataArgs, Loaded, RowRange};
use crate::output;
use crate::progress::Ui;

const EXAMPLES: &str = "\
The page needs no network: open it offline in any browser. Hover or tap a point for its image,
prediction, neighbours and saliency; draw a digit on the pad; click a cluster's label for its
directional maps. --train-rows adds the training rows' images (the neighbours' pictures).

Examples:
  salient-sne report --model m.ssne --rows 8000..10000 --train-rows 0..8000 --out report.html
  salient-sne report --model m.ssne --rows 8000..10000 --refine --out report.html
  salient-sne report --model m.ssne --data points.npy --out report.html";

/// Rows on which the KL of the metrics table is measured (dense affinities).
const KL_POINTS: usize = 2000;
/// Rows on which the rest of the metrics table is measured (trustworthiness is quadratic).
const METRIC_POINTS: usize = 10_000;

/// `report` flags.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct ReportArgs {
    /// The trained model file
    #[arg(long, value_name = "FILE")]
    model: PathBuf,
    /// The HTML file to write (replaced atomically)
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// The rows of --data the model was trained on, for the neighbours' images and the cluster-pair maps
    #[arg(long, value_name = "A..B")]
    train_rows: Option<RowRange>,
    /// The page's title [default: the data's description]
    #[arg(long, value_name = "TEXT")]
    title: Option<String>,
    #[command(flatten)]
    refine: RefineArgs,
    #[command(flatten)]
    data: DataArgs,
}

pub(crate) fn run(args: &ReportArgs, ui: &Ui) -> anyhow::Result<()> {
    let mut inputs = args.data.input_paths();
    inputs.push(args.model.clone());
    output::check_not_input("the report", &args.out, &inputs)?;
    let model = load_finetuned_model(&args.model, ui)?;
    let mut loaded = args.data.load(ui)?;
    model.align_labels(&mut loaded.data).with_context(|| {
        format!(
            "the labels of {} are not those of the model {}",
            loaded.description,
            args.model.display()
        )
    })?;
    let raw = loaded.data.clone();
    let training = match args.train_rows {
        Some(rows) => {
            let mut source = args.data.clone();
            source.rows = Some(rows);
            let mut training = source.load(ui)?;
            model.align_labels(&mut training.data)?;
            Some(training.data)
        }
        None => None,
    };
    prepare(&model, &mut loaded, &args.model)?;
    let network_output = embed_batched(&model, loaded.data.features.view(), ui)?;
    let placed = args
        .refine
        .place(&model, loaded.data.features.view(), network_output.clone(), ui)?;
    // Trustworthiness costs n^2 d: above METRIC_POINTS rows the table measures the first ones.
    let measured = loaded.data.n_points().min(METRIC_POINTS);
    if measured < loaded.data.n_points() {
        ui.note(format!(
            "the metrics table measures the first {measured} of the {} points",
            loaded.data.n_points()
        ));
    }
    let sample = Loaded {
        data: loaded.data.rows(0..measured)?,
        description: loaded.description.clone(),
        missing_labels: loaded.missing_labels.clone(),
    };
    let first = s![..measured, ..];
    let network_metrics = evaluate(&model, &sample, network_output.slice(first), KL_POINTS, ui)?;
    let refined = placed.shifts.is_some().then_some(placed.positions.view());
    let refined_metrics = match refined {
        Some(positions) => Some(evaluate(&model, &sample, positions.slice(first), KL_POINTS, ui)?),
        None => None,
    };
    let title = args
        .title
        .clone()
        .unwrap_or_else(|| format!("salient-sne: {}", loaded.description));
    let page = build(
        &model,
        &raw,
        training.as_ref(),
        refined,
        metrics_table(&network_metrics, refined_metrics.as_ref()),
        title,
        ui,
    )
    .with_context(|| format!("making the report of {}", loaded.description))?;
    output::ensure_parent(&args.out)?;
    output::write_bytes(&args.out, page.as_bytes())?;
    if ui.json() {
        output::print_json(&serde_json::json!({
            "out": args.out.display().to_string(),
            "bytes": page.len(),
            "points": raw.n_points(),
        }));
    } else {
        println!(
            "report of {} ({} points, {:.1} MB) written to {}",
            loaded.description,
            raw.n_points(),
            page.len() as f64 / 1e6,
            args.out.display()
        );
    }
    Ok(())
}

/// The page, under a spinner (`demo` calls it too).
pub(crate) fn build(
    model: &ParametricTsne,
    points: &Dataset,
    training: Option<&Dataset>,
    refined: Option<ArrayView2<'_, f32>>,
    metrics: MetricsTable,
    title: String,
    ui: &Ui,
) -> anyhow::Result<String> {
    let mut input = ReportInput::new(model, points, title).with_metrics(metrics);
    if let Some(training) = training {
        input = input.with_training(training);
    }
    if let Some(refined) = refined {
        input = input.with_refined(refined);
    }
    ui.step("making the HTML report", || ssne_report::render(&input))
        .context("making the HTML report")
}

/// The metrics table of the page: the network's figures, and the refined ones beside them.
pub(crate) fn metrics_table(network: &Metrics, refined: Option<&Metrics>) -> MetricsTable {
    let mut columns = vec!["network".to_owned()];
    let refined_rows = refined.map(Metrics::table);
    if refined_rows.is_some() {
        columns.push("refined".to_owned());
    }
    let rows = network
        .table()
        .into_iter()
        .enumerate()
        .map(|(i, (name, value))| {
            let mut values = vec![value];
            if let Some(refined) = &refined_rows {
                values.push(refined.get(i).map_or_else(|| "-".to_owned(), |(_, v)| v.clone()));
            }
            (name, values)
        })
        .collect();
    MetricsTable { columns, rows }
}
