//! `salient-sne saliency`: class, Jacobian and directional saliency maps, written as PNG
//! figures and raw NPY arrays. The maps and the pictures are `ssne-saliency`'s; this module
//! picks the groups, the method and the file names.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};
use serde_json::json;
use ssne_data::ndarray::{Array1, Array2, ArrayView2, Axis};
use ssne_model::{ParametricTsne, clusters};
use ssne_saliency::picture::{Layout, Legend, Panel, RgbImage, directional_figure, ensemble_directional_figure, grid};
use ssne_saliency::{
    Additive, Attribution, Baseline, Ensemble, Gradient, Groups, InputTimesGradient, IntegratedGradients, Networks,
    SmoothGrad, Target,
};

use super::{label_name, load_finetuned_model, prepare_labelled};
use crate::data_args::DataArgs;
use crate::output;
use crate::progress::Ui;
use crate::staged_folder::StagedFolder;

const EXAMPLES: &str = "\
Maps are evaluated at the centre (mean input) of each class of --data, which must have labels.
Each map is written as a PNG figure and as an NPY array (1 x features; the Jacobian 2 x features).
Class saliency explains the pretrained classifier; Jacobian and directional saliency the map.

Examples:
  salient-sne saliency --model m.ssne --rows 0..8000 --from 4 --to 9 --out maps/
  salient-sne saliency --model m.ssne --rows 0..8000 --pairs auto --method smoothgrad --out maps/
  salient-sne saliency --model m.ssne --rows 0..8000 --from 4 --to 9 --method gradient --evaluate --out maps/
  salient-sne saliency --model m.ssne --rows 0..8000 --kind class --class 3 --class 8 --out maps/
  salient-sne saliency --model m1.ssne --ensemble m2.ssne m3.ssne --rows 0..8000 --pairs auto --out maps/";

/// `--kind`: what the maps explain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum KindArg {
    /// v . dY/dx at cluster A's centre, v the unit direction from A to B in the map
    Directional,
    /// The pretrained classifier's score of each class at the class centre
    Class,
    /// Both rows of dY/dx (2 x features) at each class centre
    Jacobian,
}

/// `--method`: how a map is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum MethodArg {
    /// The plain gradient (one vector-Jacobian product)
    Gradient,
    /// Integrated gradients from a black image (--steps path points)
    Integrated,
    /// SmoothGrad: the mean gradient over --samples noisy copies
    Smoothgrad,
    /// The gradient times the input (a first-order estimate relative to a black image)
    InputXGradient,
    /// SmoothGrad over integrated gradients: the mean of --samples noisy copies' integrated gradients
    SmoothgradIntegrated,
    /// Exact additive attribution: each pixel's share x_j dF/dx_j of the point's position, with zero
    /// remainder (models of `train --preset additive` only)
    Additive,
}

/// `--baseline`: where integrated gradients start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BaselineArg {
    /// The all-zero (black) image, in the model's scaled input space
    Zeros,
    /// The mean of the rows of --data
    Mean,
}

/// `--pairs`: which cluster pairs get directional maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PairsArg {
    /// Each cluster with its nearest clusters in the model's map (--neighbours), both directions
    Auto,
}

/// The method settings shared with `demo`.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Method")]
pub(crate) struct MethodArgs {
    /// How each map is computed [default: smoothgrad, the most faithful by Captum's infidelity in
    /// docs/SALIENCY.md]
    // An Option, not a clap default, so that `--kind jacobian` can tell a
    // method the user asked for from the default it ignores.
    #[arg(long, value_enum)]
    pub(crate) method: Option<MethodArg>,
    /// Path points of integrated gradients
    #[arg(long, default_value_t = 32, value_name = "N")]
    steps: usize,
    /// Where integrated gradients start
    #[arg(long, value_enum, default_value_t = BaselineArg::Zeros)]
    baseline: BaselineArg,
    /// Noisy copies of SmoothGrad
    #[arg(long, default_value_t = 32, value_name = "N")]
    samples: usize,
    /// SmoothGrad noise, as a fraction of each point's value range
    #[arg(long, default_value_t = 0.15, value_name = "F")]
    noise: f32,
    /// Seed of the SmoothGrad noise
    #[arg(long, default_value_t = 42, value_name = "SEED")]
    noise_seed: u64,
}

impl MethodArgs {
    /// The chosen method, or the default.
    fn method(&self) -> MethodArg {
        self.method.unwrap_or(MethodArg::Smoothgrad)
    }

    /// The attribution method for maps of the rows `data` (whose mean is `--baseline mean`; the
    /// library validates the settings).
    pub(crate) fn build(&self, data: ArrayView2<'_, f32>) -> anyhow::Result<Box<dyn Attribution>> {
        let baseline = match self.baseline {
            BaselineArg::Zeros => Baseline::Zeros,
            BaselineArg::Mean => Baseline::mean_of(data),
        };
        let integrated = || IntegratedGradients::new(baseline.clone(), self.steps);
        Ok(match self.method() {
            MethodArg::Gradient => Box::new(Gradient),
            MethodArg::Integrated => Box::new(integrated()?),
            MethodArg::Smoothgrad => Box::new(SmoothGrad::new(Gradient, self.samples, self.noise, self.noise_seed)?),
            MethodArg::InputXGradient => Box::new(InputTimesGradient),
            MethodArg::SmoothgradIntegrated => Box::new(SmoothGrad::new(
                integrated()?,
                self.samples,
                self.noise,
                self.noise_seed,
            )?),
            MethodArg::Additive => Box::new(Additive),
        })
    }

    fn name(&self) -> &'static str {
        match self.method() {
            MethodArg::Gradient => "gradient",
            MethodArg::Integrated => "integrated",
            MethodArg::Smoothgrad => "smoothgrad",
            MethodArg::InputXGradient => "input-x-gradient",
            MethodArg::SmoothgradIntegrated => "smoothgrad-integrated",
            MethodArg::Additive => "additive",
        }
    }
}

/// `saliency` flags.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct SaliencyArgs {
    /// The trained model file
    #[arg(long, value_name = "FILE")]
    model: PathBuf,
    /// More models of the same data (e.g. other seeds): the maps are averaged, with an agreement panel
    #[arg(long, value_name = "FILE", num_args = 1..)]
    ensemble: Vec<PathBuf>,
    /// The folder for the PNG and NPY files (built whole, then moved into place)
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Replace the --out folder when it exists and is not empty
    #[arg(long)]
    force: bool,
    /// What the maps explain
    #[arg(long, value_enum, default_value_t = KindArg::Directional)]
    kind: KindArg,
    /// Directional: the source cluster, a label or a label name
    #[arg(long, value_name = "A", requires = "to", conflicts_with = "pairs")]
    from: Option<String>,
    /// Directional: the destination cluster
    #[arg(long, value_name = "B", requires = "from")]
    to: Option<String>,
    /// Directional: choose the pairs from the map instead of --from/--to
    #[arg(long, value_enum)]
    pairs: Option<PairsArg>,
    /// With --pairs auto: how many nearest clusters per cluster
    #[arg(long, default_value_t = 1, value_name = "N")]
    neighbours: usize,
    /// Class and Jacobian: only these classes (repeatable) [default: every class of the data]
    #[arg(long = "class", value_name = "C")]
    classes: Vec<String>,
    /// Directional: also measure each map's faithfulness to --model (infidelity, max-sensitivity
    /// (one model only), deletion and insertion areas, following the map against the gradient and
    /// random directions); with --ensemble the ensemble's mean map is measured
    #[arg(long)]
    evaluate: bool,
    #[command(flatten)]
    method: MethodArgs,
    #[command(flatten)]
    data: DataArgs,
}

/// One written map.
pub(crate) struct Written {
    pub(crate) title: String,
    /// The raw map, as written to the NPY file.
    pub(crate) map: Array2<f32>,
    pub(crate) png: Option<PathBuf>,
    pub(crate) npy: PathBuf,
}

/// The labelled data the maps are taken from, grouped by class.
pub(crate) struct ClassData<'a> {
    x: ArrayView2<'a, f32>,
    groups: Groups,
    /// The label of each group, in group order.
    labels: Vec<u32>,
    names: Option<&'a [String]>,
    image_shape: Option<[usize; 2]>,
}

impl<'a> ClassData<'a> {
    /// Groups `x` by `labels`, naming the groups with the model's class names.
    pub(crate) fn new(
        model: &'a ParametricTsne,
        x: ArrayView2<'a, f32>,
        labels: Option<&[u32]>,
        image_shape: Option<[usize; 2]>,
    ) -> anyhow::Result<Self> {
        let Some(labels) = labels else {
            bail!("saliency maps are taken at class centres, and the data has no labels; give labelled data")
        };
        let names = model.label_names.as_deref();
        let groups = Groups::from_labels_named(labels, names.unwrap_or_default());
        let present: BTreeSet<u32> = labels.iter().copied().collect();
        Ok(ClassData {
            x,
            groups,
            labels: present.into_iter().collect(),
            names,
            image_shape,
        })
    }

    /// The group of a label given as a number or a name.
    fn group(&self, text: &str) -> String {
        if self.groups.names().iter().any(|n| n == text) {
            return text.to_owned();
        }
        match text.parse::<u32>() {
            Ok(label) => label_name(self.names, label),
            // Unknown names go to the library, whose error lists the known ones.
            Err(_) => text.to_owned(),
        }
    }

    fn label_of(&self, group: &str) -> Option<u32> {
        self.labels
            .iter()
            .copied()
            .find(|&l| label_name(self.names, l) == group)
    }
}

pub(crate) fn run(args: &SaliencyArgs, ui: &Ui) -> anyhow::Result<()> {
    let direction_given = args.from.is_some() || args.pairs.is_some();
    match args.kind {
        KindArg::Directional if !direction_given => {
            bail!("directional saliency needs --from A --to B or --pairs auto (or choose --kind class or jacobian)")
        }
        KindArg::Class | KindArg::Jacobian if direction_given => {
            bail!("--from, --to and --pairs belong to --kind directional")
        }
        KindArg::Jacobian if args.method.method.is_some() => {
            bail!("the Jacobian is exact; --method applies to class and directional maps")
        }
        KindArg::Jacobian if !args.ensemble.is_empty() => {
            bail!("--ensemble averages class and directional maps; the Jacobian is per model")
        }
        KindArg::Class | KindArg::Jacobian if args.evaluate => {
            bail!("--evaluate measures directional maps; use it with --from A --to B or --pairs auto")
        }
        _ => {}
    }
    let folder = StagedFolder::create(&args.out, args.force)?;
    let out = folder.path();
    let mut models = vec![load_finetuned_model(&args.model, ui)?];
    for path in &args.ensemble {
        let member = load_finetuned_model(path, ui)?;
        anyhow::ensure!(
            member.n_features() == models[0].n_features(),
            "{} takes {} features, but {} takes {}; an ensemble needs models of the same data",
            path.display(),
            member.n_features(),
            args.model.display(),
            models[0].n_features()
        );
        models.push(member);
    }
    let mut loaded = args.data.load(ui)?;
    if loaded.data.labels.is_none() {
        bail!(
            "saliency maps are taken at class centres, and {}",
            loaded.no_labels_message()
        );
    }
    prepare_labelled(&models[0], &mut loaded, &args.model)?;
    let image_shape = models[0].image_shape.or(loaded.data.image_shape);
    let data = ClassData::new(
        &models[0],
        loaded.data.features.view(),
        loaded.data.labels.as_deref(),
        image_shape,
    )?;
    let method = args.method.build(data.x)?;
    let mut evaluations = Vec::new();
    let written = match args.kind {
        KindArg::Directional => {
            let pairs = match (&args.from, &args.to) {
                (Some(from), Some(to)) => vec![(data.group(from), data.group(to))],
                _ => auto_pairs(&models[0], &data, args.neighbours)?,
            };
            let written = directional_maps(&models, &data, &pairs, &*method, out, ui)?;
            if args.evaluate {
                let networks = Networks::from(&models[0]);
                for (w, (from, to)) in written.iter().zip(&pairs) {
                    let context = || format!("evaluating the map from {from} to {to}");
                    let map = ssne_saliency::directional(networks, data.x, &data.groups, from, to, &Gradient)
                        .with_context(context)?;
                    let x = map.from.input.view().insert_axis(Axis(0));
                    let target = Target::Direction(map.direction.view().insert_axis(Axis(0)).to_owned());
                    // An ensemble's mean map is measured against the --model it explains; its
                    // max-sensitivity would need the whole ensemble re-run per sample and is left out.
                    let single = (models.len() == 1).then_some(&*method);
                    let scores =
                        evaluate(networks, x, &target, w.map.view(), single, image_shape).with_context(context)?;
                    evaluations.push(json!({ "from": from, "to": to, "metrics": scores }));
                }
            }
            written
        }
        KindArg::Class => class_maps(&models, &data, &args.classes, &*method, out, ui)?,
        KindArg::Jacobian => jacobian_maps(&models[0], &data, &args.classes, out, ui)?,
    };
    if image_shape.is_none() {
        ui.note("the data has no image shape (give --image-shape HxW for a CSV or 2-D NPY file): only the raw NPY maps were written");
    }
    let mut files: Vec<PathBuf> = Vec::new();
    // `--pairs auto` draws every pair it found in one overview, as `demo` does.
    if let (KindArg::Directional, Some(_), Some(shape)) = (args.kind, &args.pairs, image_shape) {
        files.push(write_overview(&written, shape, out)?);
    }
    files.extend(
        written
            .iter()
            .flat_map(|w| w.png.iter().cloned().chain(std::iter::once(w.npy.clone()))),
    );
    let files = folder.finish(&files)?;
    if ui.json() {
        output::print_json(&json!({
            "out": args.out.display().to_string(),
            "method": args.method.name(),
            "maps": written.iter().map(|w| w.title.clone()).collect::<Vec<_>>(),
            "files": output::file_list(&files),
            "evaluation": evaluations,
        }));
    } else {
        println!(
            "{} {} map(s) ({}) in {}:",
            written.len(),
            kind_name(args.kind),
            args.method.name(),
            args.out.display()
        );
        for file in &files {
            println!("  {}", file.display());
        }
        for e in &evaluations {
            println!(
                "faithfulness of {} -> {}:",
                e["from"].as_str().unwrap_or_default(),
                e["to"].as_str().unwrap_or_default()
            );
            if let Some(metrics) = e["metrics"].as_object() {
                for (name, value) in metrics {
                    println!("  {name}: {value}");
                }
            }
        }
    }
    Ok(())
}

fn kind_name(kind: KindArg) -> &'static str {
    match kind {
        KindArg::Directional => "directional",
        KindArg::Class => "class",
        KindArg::Jacobian => "Jacobian",
    }
}

/// Each cluster with its nearest clusters in the model's training map, in both directions.
pub(crate) fn auto_pairs(
    model: &ParametricTsne,
    data: &ClassData<'_>,
    per_cluster: usize,
) -> anyhow::Result<Vec<(String, String)>> {
    let reference = &model.reference;
    let Some(labels) = reference.labels.as_deref() else {
        bail!("--pairs auto finds neighbouring clusters in the model's map, and the model was trained without labels")
    };
    let centres = clusters::map_centres(reference.embedding.view(), labels).context("cluster centres")?;
    let mut pairs = Vec::new();
    for (a, b) in clusters::adjacent_pairs(&centres, per_cluster) {
        // Only clusters the data has can be explained from it.
        if data.labels.contains(&a) && data.labels.contains(&b) {
            let (a, b) = (label_name(data.names, a), label_name(data.names, b));
            pairs.push((a.clone(), b.clone()));
            pairs.push((b, a));
        }
    }
    anyhow::ensure!(
        !pairs.is_empty(),
        "no two clusters of the map are both present in the data"
    );
    Ok(pairs)
}

/// Directional maps for `pairs` (group names), one figure and one NPY each; with several models,
/// the ensemble's mean map and its agreement.
pub(crate) fn directional_maps(
    models: &[ParametricTsne],
    data: &ClassData<'_>,
    pairs: &[(String, String)],
    method: &dyn Attribution,
    out: &Path,
    ui: &Ui,
) -> anyhow::Result<Vec<Written>> {
    let bar = ui.bar(pairs.len() as u64, "saliency");
    let layout = data.image_shape.map(Layout::new);
    let mut written = Vec::with_capacity(pairs.len());
    let ensemble = if models.len() > 1 {
        Some(Ensemble::from_models(models)?)
    } else {
        None
    };
    for (from, to) in pairs {
        let context = || format!("directional saliency from {from} to {to}");
        let stem = format!("directional-{}-to-{}", file_part(from), file_part(to));
        let (map, figure) = match &ensemble {
            None => {
                let networks = Networks::from(&models[0]);
                let map = ssne_saliency::directional(networks, data.x, &data.groups, from, to, &method)
                    .with_context(context)?;
                let figure = layout
                    .as_ref()
                    .map(|l| directional_figure(&map, l))
                    .transpose()
                    .with_context(context)?;
                (map.map, figure)
            }
            Some(ensemble) => {
                let map = ssne_saliency::directional_ensemble(ensemble, data.x, &data.groups, from, to, &method)
                    .with_context(context)?;
                let figure = layout
                    .as_ref()
                    .map(|l| ensemble_directional_figure(&map, l))
                    .transpose()
                    .with_context(context)?;
                (map.mean, figure)
            }
        };
        written.push(write_map(
            out,
            &stem,
            format!("{from} -> {to}"),
            map.view().insert_axis(Axis(0)),
            figure,
        )?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(written)
}

/// Faithfulness of one map `phi` (`[1, features]`) of `method` at the point `x` for `target`:
/// Captum's infidelity (Gaussian noise of 0.1; 4 x 4 patches set to 0 on images) and
/// max-sensitivity (radius 0.02), deletion and insertion areas toward a black image (20 steps),
/// and a step of 0.01 along the map against the plain gradient and random directions.
fn evaluate(
    networks: Networks<'_>,
    x: ArrayView2<'_, f32>,
    target: &Target,
    phi: ArrayView2<'_, f32>,
    method: Option<&dyn Attribution>,
    image_shape: Option<[usize; 2]>,
) -> anyhow::Result<serde_json::Value> {
    use ssne_saliency::faithfulness::{
        Order, Perturbation, deletion_curve, follow_map, infidelity, max_sensitivity, network_explainer, network_score,
    };
    const SAMPLES: usize = 32;
    const SEED: u64 = 0;
    let score = network_score(networks, x, target)?;
    let gaussian = infidelity(&score, x, phi, Perturbation::Gaussian { sigma: 0.1 }, SAMPLES, SEED)?[0];
    let square = match image_shape {
        Some(shape) if shape[0].min(shape[1]) >= 4 => {
            let patch = Perturbation::Square {
                shape,
                side: 4,
                baseline: 0.0,
            };
            Some(infidelity(&score, x, phi, patch, SAMPLES, SEED)?[0])
        }
        _ => None,
    };
    let sensitivity = match method {
        Some(method) => {
            let explain = network_explainer(method, networks, x, target)?;
            Some(max_sensitivity(&explain, x, 0.02, 8, SEED)?[0])
        }
        None => None,
    };
    let black = Array1::<f32>::zeros(x.ncols());
    let deletion = deletion_curve(&score, x.row(0), phi.row(0), black.view(), Order::Deletion, 20)?;
    let insertion = deletion_curve(&score, x.row(0), phi.row(0), black.view(), Order::Insertion, 20)?;
    let gradient = Gradient.attribute(networks, x, target)?;
    let followed = follow_map(&score, x, phi, gradient.view(), 0.01, SAMPLES, SEED)?;
    Ok(json!({
        "score": score(x)?[0],
        "infidelity_gaussian": gaussian,
        "infidelity_square": square,
        "max_sensitivity": sensitivity,
        "deletion_area": deletion.area,
        "insertion_area": insertion.area,
        "follow_map": followed.along_map[0],
        "follow_gradient": followed.along_gradient[0],
        "follow_random_mean_abs": followed.random_mean_abs[0],
    }))
}

/// The classes to draw: those asked for, or every class of the data.
fn chosen_groups(data: &ClassData<'_>, classes: &[String]) -> Vec<String> {
    if classes.is_empty() {
        data.groups.names().to_vec()
    } else {
        classes.iter().map(|c| data.group(c)).collect()
    }
}

/// Class saliency of each class at its centre.
fn class_maps(
    models: &[ParametricTsne],
    data: &ClassData<'_>,
    classes: &[String],
    method: &dyn Attribution,
    out: &Path,
    ui: &Ui,
) -> anyhow::Result<Vec<Written>> {
    let groups = chosen_groups(data, classes);
    let bar = ui.bar(groups.len() as u64, "saliency");
    let mut written = Vec::with_capacity(groups.len());
    for group in &groups {
        let context = || format!("class saliency of {group}");
        let centre = ssne_saliency::centre(&models[0].network, data.x, &data.groups, group).with_context(context)?;
        let Some(label) = data.label_of(group) else {
            bail!(
                "class {group} is not in the data; the classes are {:?}",
                data.groups.names()
            )
        };
        let x = centre.input.view().insert_axis(Axis(0));
        let target = Target::Class(label);
        let map: Array1<f32> = if models.len() == 1 {
            method
                .attribute(Networks::from(&models[0]), x, &target)
                .with_context(context)?
                .row(0)
                .to_owned()
        } else {
            let ensemble = Ensemble::from_models(models)?;
            ensemble
                .attribute(&method, x, &target)
                .with_context(context)?
                .mean
                .row(0)
                .to_owned()
        };
        let title = format!("class {group}");
        let figure = picture(
            data,
            &[
                Panel::grey(format!("centre of {group}"), centre.input.view()),
                Panel::heatmap(&title, map.view()),
            ],
            Legend::class(group),
        )
        .with_context(context)?;
        let stem = format!("class-{}", file_part(group));
        written.push(write_map(out, &stem, title, map.view().insert_axis(Axis(0)), figure)?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(written)
}

/// The Jacobian of the map at each class centre: one row per map axis.
fn jacobian_maps(
    model: &ParametricTsne,
    data: &ClassData<'_>,
    classes: &[String],
    out: &Path,
    ui: &Ui,
) -> anyhow::Result<Vec<Written>> {
    let groups = chosen_groups(data, classes);
    let bar = ui.bar(groups.len() as u64, "saliency");
    let mut written = Vec::with_capacity(groups.len());
    for group in &groups {
        let context = || format!("Jacobian at the centre of {group}");
        let centre = ssne_saliency::centre(&model.network, data.x, &data.groups, group).with_context(context)?;
        let jacobian = ssne_saliency::jacobian(&model.network, centre.input.view()).with_context(context)?;
        let mut panels = vec![Panel::grey(format!("centre of {group}"), centre.input.view())];
        for (axis, row) in ["x", "y"].iter().zip(jacobian.rows()) {
            panels.push(Panel::heatmap(format!("d{axis}/dpixel"), row));
        }
        let figure = picture(data, &panels, Legend::jacobian()).with_context(context)?;
        let stem = format!("jacobian-{}", file_part(group));
        written.push(write_map(
            out,
            &stem,
            format!("Jacobian at {group}"),
            jacobian.view(),
            figure,
        )?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(written)
}

/// A one-row grid of `panels` with `legend` under it, when the data are images.
fn picture(data: &ClassData<'_>, panels: &[Panel], legend: Legend) -> anyhow::Result<Option<RgbImage>> {
    let Some(shape) = data.image_shape else { return Ok(None) };
    Ok(Some(grid(
        panels,
        &Layout {
            columns: panels.len(),
            ..Layout::new(shape).with_legend(legend)
        },
    )?))
}

/// Writes `STEM.npy` and, when there is a figure, `STEM.png`.
fn write_map(
    out: &Path,
    stem: &str,
    title: String,
    map: ArrayView2<'_, f32>,
    figure: Option<RgbImage>,
) -> anyhow::Result<Written> {
    let npy = out.join(format!("{stem}.npy"));
    ssne_data::npy::write_f32(&npy, &map)?;
    let png = match figure {
        Some(figure) => {
            let path = out.join(format!("{stem}.png"));
            figure
                .write_png(&path)
                .with_context(|| format!("writing {}", path.display()))?;
            Some(path)
        }
        None => None,
    };
    Ok(Written {
        title,
        map: map.to_owned(),
        png,
        npy,
    })
}

/// A group name as part of a file name: letters and digits kept, anything else a dash.
fn file_part(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// The file name of the overview figure of directional maps.
pub(crate) const OVERVIEW_FILE: &str = "directional-overview.png";

/// Every written directional map as a titled heatmap in one grid, written to
/// `dir/directional-overview.png` (by `demo`, and by `saliency --pairs auto`).
pub(crate) fn write_overview(written: &[Written], shape: [usize; 2], dir: &Path) -> anyhow::Result<PathBuf> {
    let panels: Vec<Panel> = written
        .iter()
        .map(|w| Panel::heatmap(w.title.clone(), w.map.row(0)))
        .collect();
    let figure = grid(
        &panels,
        &Layout {
            columns: 6,
            ..Layout::new(shape).with_legend(Legend::directional_pairs())
        },
    )?;
    let path = dir.join(OVERVIEW_FILE);
    figure.write_png(&path).context("writing the overview figure")?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_become_safe_file_parts() {
        assert_eq!(super::file_part("T-shirt/top"), "T-shirt-top");
        assert_eq!(super::file_part("7"), "7");
    }
}
