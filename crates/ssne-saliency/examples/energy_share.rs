//! Measures how much of the gradient maps' energy falls on never-lit pixels,
//! for a model trained without and with the input mask, and draws figures.
//!
//! `cargo run --release -p ssne-saliency --example energy_share -- [figure-dir]`
//!
//! Trains twice on rows 0..8000 of the bundled MNIST sample (pretraining 3
//! epochs, `Coupled { steps: 300, edges_per_step: 500 }`, seed 1), then
//! measures class saliency of 200 training points for their own label and the
//! 90 directional maps between the ten digit centres.

// An example reports to its user on the terminal.
#![allow(clippy::print_stdout)]

use std::error::Error;
use std::path::PathBuf;

use ssne_model::{ParametricTsne, Preset, Scheme, Silent, TrainConfig};
use ssne_saliency::picture::{Layout, Panel, directional_figure, ensemble_directional_figure, grid};
use ssne_saliency::{
    Attribution, Ensemble, Gradient, Groups, InputTimesGradient, IntegratedGradients, Networks, SmoothGrad, Target,
    centres, constant_inputs, directional, directional_ensemble, energy_share, rarely_lit,
};
use ssne_tensor::ndarray::{Array2, s};

fn main() -> Result<(), Box<dyn Error>> {
    let out_dir = std::env::args().nth(1).map(PathBuf::from);
    let data = ssne_data::bundled::mnist_sample()?.rows(0..8000)?;
    let labels = data.labels.clone().ok_or("the sample is labelled")?;
    let groups = Groups::from_labels(&labels);
    let never_lit = constant_inputs(data.features.view());
    let rare = rarely_lit(data.features.view(), 0.01);
    println!(
        "never-lit pixels in rows 0..8000: {} of 784",
        never_lit.iter().filter(|&&c| c).count()
    );
    println!(
        "pixels lit in at most 1 % of rows 0..8000: {} of 784",
        rare.iter().filter(|&&c| c).count()
    );
    let mut masked_models = Vec::new();
    for prune in [false, true] {
        let started = std::time::Instant::now();
        let model = ParametricTsne::fit(&data, None, &config(1, prune), &mut Silent)?;
        let networks = Networks::from(&model);
        let x = data.features.slice(s![0..200, ..]);
        let own = Target::Classes(labels[..200].to_vec());
        let class = Gradient.attribute(networks, x, &own)?;
        let (x_dir, target_dir) = all_pairs(networks, &data.features, &groups)?;
        let dir = Gradient.attribute(networks, x_dir.view(), &target_dir)?;
        let ixg = InputTimesGradient.attribute(networks, x, &own)?;
        let ig = IntegratedGradients::default().attribute(networks, x, &own)?;
        let smooth = SmoothGrad::new(Gradient, 32, 0.15, 7)?.attribute(networks, x_dir.view(), &target_dir)?;
        println!(
            "prune_constant_inputs = {prune} (trained in {:.1} s, classifier train accuracy {:.3}):",
            started.elapsed().as_secs_f64(),
            model.report.classifier_train_accuracy.unwrap_or(f64::NAN)
        );
        println!("  energy share on                              never lit   lit in <= 1 %");
        for (name, maps) in [
            ("class saliency (gradient), 200 points", &class),
            ("directional saliency (gradient), 90 maps", &dir),
            ("directional SmoothGrad (n=32, 15%), 90 maps", &smooth),
            ("class input x gradient, 200 points", &ixg),
            ("class integrated gradients (zeros, m=32)", &ig),
        ] {
            let (never, rarely) = (
                energy_share(maps.view(), &never_lit)?,
                energy_share(maps.view(), &rare)?,
            );
            println!("  {name:<44} {never:>9.4} {rarely:>15.4}");
        }
        if let Some(dir_path) = &out_dir {
            std::fs::create_dir_all(dir_path)?;
            let layout = Layout::new([28, 28]);
            let tag = if prune { "masked" } else { "unmasked" };
            for (from, to) in [("3", "8"), ("4", "9"), ("7", "1")] {
                let map = directional(networks, data.features.view(), &groups, from, to, &Gradient)?;
                directional_figure(&map, &layout)?
                    .write_png(&dir_path.join(format!("directional-{from}-{to}-{tag}.png")))?;
            }
            let panels: Vec<Panel> = (0..4)
                .flat_map(|i| {
                    let title = format!("class {}", labels[i]);
                    [
                        Panel::grey(format!("digit {i}"), x.row(i)),
                        Panel::heatmap(title, class.row(i)),
                    ]
                })
                .collect();
            grid(&panels, &layout)?.write_png(&dir_path.join(format!("class-{tag}.png")))?;
        }
        if prune {
            masked_models.push(model);
        }
    }
    // Seeds differ in the random weights of rarely lit pixels and agree on
    // what the data forces, so an ensemble's mean map sheds the former.
    for seed in [2, 3, 4] {
        masked_models.push(ParametricTsne::fit(&data, None, &config(seed, true), &mut Silent)?);
    }
    let ensemble = Ensemble::from_models(&masked_models)?;
    let x = data.features.slice(s![0..200, ..]);
    let class = ensemble.attribute(&Gradient, x, &Target::Classes(labels[..200].to_vec()))?;
    let mut dir_rows = Vec::new();
    for a in 0..10 {
        for b in (0..10).filter(|&b| b != a) {
            let map = directional_ensemble(
                &ensemble,
                data.features.view(),
                &groups,
                &a.to_string(),
                &b.to_string(),
                &Gradient,
            )?;
            dir_rows.extend(map.mean.iter().copied());
        }
    }
    let dir = Array2::from_shape_vec((90, 784), dir_rows)?;
    println!(
        "ensemble of {} masked models (seeds 1..=4), mean maps:",
        ensemble.members().len()
    );
    println!(
        "  class saliency (gradient), 200 points        {:>9.4} {:>15.4}",
        energy_share(class.mean.view(), &never_lit)?,
        energy_share(class.mean.view(), &rare)?
    );
    println!(
        "  directional saliency (gradient), 90 maps     {:>9.4} {:>15.4}",
        energy_share(dir.view(), &never_lit)?,
        energy_share(dir.view(), &rare)?
    );
    if let Some(dir_path) = &out_dir {
        let map = directional_ensemble(&ensemble, data.features.view(), &groups, "3", "8", &Gradient)?;
        ensemble_directional_figure(&map, &Layout::new([28, 28]))?
            .write_png(&dir_path.join("directional-3-8-ensemble.png"))?;
    }
    Ok(())
}

/// The short configuration of the measurement.
fn config(seed: u64, prune: bool) -> TrainConfig {
    let mut config = TrainConfig::preset(Preset::Default, seed);
    config.prune_constant_inputs = prune;
    config.pretrain.epochs = 3;
    config.finetune.scheme = Scheme::Coupled {
        steps: 300,
        edges_per_step: 500,
    };
    config
}

/// The 90 ordered pairs of digit centres: each source centre as a row, with
/// the direction toward the destination centre in the map.
fn all_pairs(
    networks: Networks<'_>,
    features: &Array2<f32>,
    groups: &Groups,
) -> Result<(Array2<f32>, Target), Box<dyn Error>> {
    let centres = centres(networks.map, features.view(), groups)?;
    let n = centres.len();
    let pairs: Vec<(usize, usize)> = (0..n)
        .flat_map(|a| (0..n).filter(move |&b| b != a).map(move |b| (a, b)))
        .collect();
    let x = Array2::from_shape_fn((pairs.len(), features.ncols()), |(p, j)| centres[pairs[p].0].input[j]);
    let dirs = Array2::from_shape_fn((pairs.len(), 2), |(p, d)| {
        let (a, b) = pairs[p];
        centres[b].embedding[d] - centres[a].embedding[d]
    });
    Ok((x, Target::Direction(unit_rows(dirs))))
}

/// Rows scaled to unit length, as `directional` does.
fn unit_rows(mut v: Array2<f32>) -> Array2<f32> {
    for mut row in v.rows_mut() {
        let norm = row.dot(&row).sqrt();
        if norm > 0.0 {
            row /= norm;
        }
    }
    v
}
