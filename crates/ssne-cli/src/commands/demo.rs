//! `salient-sne demo`: the whole method on the bundled MNIST sample, from a fresh clone: train on
//! the first rows, embed the held-out rows, evaluate, plot, and draw the directional maps of the
//! clusters that are neighbours in the map; everything goes into one folder.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use clap::Args;
use serde_json::{Value, json};
use ssne_model::ParametricTsne;

use super::eval::{evaluate, print_table};
use super::plot::render_map;
use super::refine_args::{RefineArgs, describe, insert_summary};
use super::saliency::{ClassData, MethodArgs, auto_pairs, directional_maps, write_overview};
use super::{embed_batched, save_model, train};
use crate::data_args::Loaded;
use crate::output;
use crate::progress::{TrainProgress, Ui};
use crate::staged_folder::StagedFolder;
use crate::train_args::TrainArgs;

const EXAMPLES: &str = "\
Writes into --out: model.ssne, model.log.jsonl, test-embedding.csv, test-embedding-refined.csv
(the held-out rows refined against the training map, with each point's shift), metrics.json, map.png
(held-out digits over the training map), map-train.png, directional-overview.png,
saliency/directional-A-to-B.{png,npy} for every pair of neighbouring clusters, and report.html
(the interactive page: hover a digit for its image and saliency, draw one on the pad).

Examples:
  salient-sne demo                                # about half a minute on 2 cores (release)
  salient-sne demo --fast --out out/quick         # a small run: 1500 training digits, 300 steps
  salient-sne demo --preset paper --out out/paper # the paper's exact method
  salient-sne demo --json                         # the figures and the files as one JSON object";

/// The size of the bundled sample.
const SAMPLE_LEN: usize = ssne_data::bundled::MNIST_SAMPLE_LEN;

/// `demo` flags.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct DemoArgs {
    /// The folder for every output (built whole, then moved into place)
    #[arg(long, value_name = "DIR", default_value = "out/demo")]
    out: PathBuf,
    /// Replace the --out folder when it exists and is not empty
    #[arg(long)]
    force: bool,
    /// Train on rows 0..N of the bundled sample [default: 8000; --fast: 1500]
    #[arg(long, value_name = "N")]
    train_rows: Option<usize>,
    /// Hold out the next N rows [default: 2000; --fast: 500]
    #[arg(long, value_name = "N")]
    test_rows: Option<usize>,
    /// A small, quick run: fewer rows, 2 pretraining epochs, 300 fine-tuning steps
    #[arg(long)]
    fast: bool,
    #[command(flatten)]
    method: MethodArgs,
    #[command(flatten)]
    train: TrainArgs,
}

/// Sizes of `--fast`.
const FAST_TRAIN_ROWS: usize = 1500;
const FAST_TEST_ROWS: usize = 500;
const FAST_PRETRAIN_EPOCHS: usize = 2;
const FAST_FINETUNE_STEPS: usize = 300;

pub(crate) fn run(args: &DemoArgs, ui: &Ui) -> anyhow::Result<()> {
    let started = Instant::now();
    let (default_train, default_test) = if args.fast {
        (FAST_TRAIN_ROWS, FAST_TEST_ROWS)
    } else {
        (8000, 2000)
    };
    let n_train = args.train_rows.unwrap_or(default_train);
    let n_test = args.test_rows.unwrap_or(default_test);
    anyhow::ensure!(
        n_train > 0 && n_test > 0 && n_train.saturating_add(n_test) <= SAMPLE_LEN,
        "--train-rows {n_train} and --test-rows {n_test} must both be above 0 and add up to at most {SAMPLE_LEN}, \
         the size of the bundled sample"
    );
    let mut train_args = args.train.clone();
    if args.fast {
        train_args = train_args.with_default_pretrain_epochs(FAST_PRETRAIN_EPOCHS);
        if !train_args.finetune.length_given() {
            train_args.finetune = train_args.finetune.with_steps(FAST_FINETUNE_STEPS);
        }
    }

    let folder = StagedFolder::create(&args.out, args.force)?;
    let out = folder.path();
    let sample = ui.step("loading the bundled MNIST sample", ssne_data::bundled::mnist_sample)?;
    let mut training = Loaded::new(
        sample.rows(0..n_train)?,
        format!("the bundled MNIST sample, rows 0..{n_train}"),
    );
    let mut test = Loaded::new(
        sample.rows(n_train..n_train + n_test)?,
        format!("held-out rows {n_train}..{}", n_train + n_test),
    );
    let config = train::prepare_training(&mut training, &train_args, ui)?;

    let mut progress = TrainProgress::new(ui);
    let model = crate::interrupt::stoppable(|| ParametricTsne::fit(&training.data, None, &config, &mut progress))
        .with_context(|| format!("training on {}", training.description))?;
    let mut files = Vec::new();
    let model_path = out.join("model.ssne");
    files.push(model_path.clone());
    files.push(save_model(&model, &model_path, None, &progress, ui)?);

    model.prepare(&mut test.data).context("preparing the held-out rows")?;
    let embedding = embed_batched(&model, test.data.features.view(), ui)?;
    let embedding_path = out.join("test-embedding.csv");
    output::write_embedding(
        &embedding_path,
        embedding.view(),
        test.data.shown_labels().as_deref(),
        None,
    )?;
    files.push(embedding_path);

    let metrics = evaluate(&model, &test, embedding.view(), n_test, ui)?;
    let mut summary = metrics.to_json();
    summary.insert("train_rows".into(), json!(n_train));

    // The same held-out rows refined against the training map: slower, closer to
    // non-parametric t-SNE; reported beside the network's figures, never instead.
    let refine = RefineArgs::with_default_steps();
    let placed = refine.place(&model, test.data.features.view(), embedding.clone(), ui)?;
    let refined_metrics = evaluate(&model, &test, placed.positions.view(), n_test, ui)?;
    let mut refined_json = refined_metrics.to_json();
    insert_summary(&mut refined_json, placed.summary.as_ref());
    summary.insert("refined".into(), Value::Object(refined_json));
    let refined_path = out.join("test-embedding-refined.csv");
    output::write_embedding(
        &refined_path,
        placed.positions.view(),
        test.data.shown_labels().as_deref(),
        placed.shifts.as_deref(),
    )?;
    files.push(refined_path);
    let metrics_path = out.join("metrics.json");
    output::write_json(&metrics_path, &Value::Object(summary.clone()))?;
    files.push(metrics_path);

    let title = format!("salient-sne: parametric t-SNE of {} MNIST digits", n_train);
    let map_path = out.join("map.png");
    output::write_bytes(
        &map_path,
        &render_map(&model, Some((&test, &embedding)), title.clone(), 1200, 1000, ui)?,
    )?;
    files.push(map_path);
    let train_map_path = out.join("map-train.png");
    output::write_bytes(&train_map_path, &render_map(&model, None, title, 1200, 1000, ui)?)?;
    files.push(train_map_path);

    files.extend(explain(&model, &training, &args.method, out, ui)?);
    // The interactive page: the held-out rows over the training map, as loaded (unscaled).
    let report_path = out.join("report.html");
    let page = super::report::build(
        &model,
        &sample.rows(n_train..n_train + n_test)?,
        Some(&sample.rows(0..n_train)?),
        Some(placed.positions.view()),
        super::report::metrics_table(&metrics, Some(&refined_metrics)),
        format!("salient-sne: {n_test} held-out MNIST digits over the map of {n_train}"),
        ui,
    )?;
    output::write_bytes(&report_path, page.as_bytes())?;
    files.push(report_path);
    let files = folder.finish(&files)?;

    let seconds = started.elapsed().as_secs_f64();
    if ui.json() {
        summary.insert("seconds".into(), json!(seconds));
        summary.insert("files".into(), output::file_list(&files));
        output::print_json(&Value::Object(summary));
    } else {
        println!(
            "salient-sne demo: trained on {} ({} digits), evaluated on {} ({} digits)",
            training.description, n_train, test.description, n_test
        );
        println!("network (one forward pass):");
        print_table(&metrics.table());
        if let Some(refine_summary) = &placed.summary {
            println!("refined against the training map ({}):", describe(refine_summary));
            print_table(&refined_metrics.table()[1..4]);
        }
        print_table(&[("seconds".to_owned(), format!("{seconds:.1}"))]);
        println!("files:");
        for file in &files {
            println!("  {}", file.display());
        }
    }
    Ok(())
}

/// Directional maps between neighbouring clusters, taken at the training rows' class centres,
/// and one overview figure of them all.
fn explain(
    model: &ParametricTsne,
    training: &Loaded,
    method: &MethodArgs,
    out: &std::path::Path,
    ui: &Ui,
) -> anyhow::Result<Vec<PathBuf>> {
    let data = &training.data;
    let image_shape = model.image_shape.or(data.image_shape);
    let classes = ClassData::new(model, data.features.view(), data.labels.as_deref(), image_shape)?;
    let pairs = auto_pairs(model, &classes, 1)?;
    let folder = out.join("saliency");
    std::fs::create_dir_all(&folder).with_context(|| format!("{}: cannot create the folder", folder.display()))?;
    let written = directional_maps(
        std::slice::from_ref(model),
        &classes,
        &pairs,
        &*method.build(data.features.view())?,
        &folder,
        ui,
    )?;
    let mut files = Vec::new();
    if let Some(shape) = image_shape {
        files.push(write_overview(&written, shape, out)?);
    }
    for map in written {
        files.extend(map.png);
        files.push(map.npy);
    }
    Ok(files)
}
