//! Held-out quality of a configuration on the bundled MNIST sample, over seeds.
//!
//! ```text
//! cargo run --release -p ssne-model --example quality -- [--preset default|paper] [--seeds 1,2,3]
//!     [--validation] [--scheme coupled|fixed|redrawn|negative] [--steps N] [--edges N] [--epochs N]
//!     [--feature-activation identity|tanh|relu|softmax] [--head-input logits|hidden]
//!     [--output-scale F] [--lr F] [--ce-weight F] [--exaggeration F] [--perplexity F] [--no-prune]
//!     [--scheme negative [--negatives N] [--z-bar F]] [--shift PIXELS]
//!     [--refine STEPS,.. [--refine-perplexity F,..] [--refine-step F,..] [--reference raw,pca50,..]]
//! ```
//! `--reference` refines against each listed reference space in turn (the raw
//! inputs, or a PCA projection with that many components) from the same trained
//! network, and prints the model file's size with each.
//! Without `--validation` it trains on rows 0..8000 and tests on 8000..10000; with
//! it, it trains on 0..6000 and validates on 6000..8000 (for choosing defaults
//! without touching the test rows).
#![allow(clippy::print_stdout)]

use std::error::Error;
use std::time::Instant;

use ssne_model::{
    Activation, HeadInput, ParametricTsne, Preset, ReferenceSpace, Scheme, Silent, TrainConfig, metrics, model_file,
};

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let flag = |name: &str| args.iter().any(|a| a == name);
    let preset = match value("--preset").as_deref() {
        Some("paper") => Preset::Paper,
        _ => Preset::Default,
    };
    let seeds: Vec<u64> = value("--seeds")
        .unwrap_or_else(|| "1".into())
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let (train_rows, test_rows) = if flag("--validation") {
        (0..6000, 6000..8000)
    } else {
        (0..8000, 8000..10000)
    };
    let sample = ssne_data::bundled::mnist_sample()?;
    let train = sample.rows(train_rows)?;
    let test = sample.rows(test_rows)?;
    let test_labels = test.labels.clone().ok_or("the sample is labelled")?;

    println!("seed  10-NN  1-NN   trust  clf    ft-clf  train-s");
    let mut sums = [0.0_f64; 6];
    for &seed in &seeds {
        let mut config = TrainConfig::preset(preset, seed);
        apply_overrides(&mut config, &value, &flag)?;
        let started = Instant::now();
        let model = ParametricTsne::fit(&train, None, &config, &mut Silent)?;
        let seconds = started.elapsed().as_secs_f64();
        let map = model.embed(test.features.view())?;
        let reference_labels = model.reference.labels.as_deref().ok_or("labelled")?;
        let reference = model.reference.embedding.view();
        let knn10 = metrics::knn_accuracy(reference, reference_labels, map.view(), &test_labels, 10)?;
        let knn1 = metrics::knn_accuracy(reference, reference_labels, map.view(), &test_labels, 1)?;
        let trust = metrics::trustworthiness(test.features.view(), map.view(), 12)?;
        let clf = metrics::accuracy(&model.classify(test.features.view())?, &test_labels);
        let ft = ssne_model::accuracy(&model.network, test.features.view(), &test_labels)?;
        println!("{seed:<5} {knn10:.4} {knn1:.4} {trust:.4} {clf:.4} {ft:.4}  {seconds:.1}");
        let list = |name: &str, default: &str| -> Result<Vec<f64>, Box<dyn Error>> {
            Ok(value(name)
                .unwrap_or_else(|| default.into())
                .split(',')
                .map(str::parse)
                .collect::<Result<_, _>>()?)
        };
        if value("--refine").is_some() {
            // The model's own reference space unless others are asked for.
            let spaces: Vec<Option<ReferenceSpace>> = match value("--reference") {
                Some(list) => list
                    .split(',')
                    .map(|name| parse_reference_space(name).map(Some))
                    .collect::<Result<_, _>>()?,
                None => vec![None],
            };
            for space in spaces {
                let mut model = model.clone();
                if let Some(space) = space {
                    model.set_reference_inputs(train.features.view(), space)?;
                }
                let space = model.config.reference_space;
                let bytes = model_file::to_bytes(&model)?.len();
                println!("  reference {space:?}: model file {:.2} MB", bytes as f64 / 1e6);
                let defaults = model.refine_config(0);
                for steps in list("--refine", &defaults.steps.to_string())? {
                    for perplexity in list("--refine-perplexity", &defaults.perplexity.to_string())? {
                        for step_fraction in list("--refine-step", &defaults.step_fraction.to_string())? {
                            let mut rc = model.refine_config(steps as usize);
                            rc.perplexity = perplexity;
                            rc.step_fraction = step_fraction;
                            let started = Instant::now();
                            let (_, refined) = model.embed_refined(test.features.view(), &rc)?;
                            let ms = started.elapsed().as_secs_f64() * 1000.0 / test.n_points() as f64;
                            let r = refined.positions.view();
                            let rk10 = metrics::knn_accuracy(reference, reference_labels, r, &test_labels, 10)?;
                            let rk1 = metrics::knn_accuracy(reference, reference_labels, r, &test_labels, 1)?;
                            let rt = metrics::trustworthiness(test.features.view(), r, 12)?;
                            println!(
                                "  refined {steps} steps, perplexity {perplexity}, step {step_fraction}: 10-NN {rk10:.4} 1-NN {rk1:.4} trust {rt:.4}  shift {:.3} label-change {:.3}  {ms:.3} ms/point",
                                refined.summary.mean_shift,
                                refined.summary.label_change.unwrap_or(f64::NAN)
                            );
                        }
                    }
                }
            }
        }
        for (s, v) in sums.iter_mut().zip([knn10, knn1, trust, clf, ft, seconds]) {
            *s += v;
        }
    }
    let n = seeds.len() as f64;
    println!(
        "mean  {:.4} {:.4} {:.4} {:.4} {:.4}  {:.1}",
        sums[0] / n,
        sums[1] / n,
        sums[2] / n,
        sums[3] / n,
        sums[4] / n,
        sums[5] / n
    );
    Ok(())
}

/// `raw` or `pcaK`.
fn parse_reference_space(name: &str) -> Result<ReferenceSpace, Box<dyn Error>> {
    match name.strip_prefix("pca") {
        Some(k) => Ok(ReferenceSpace::Pca { components: k.parse()? }),
        None if name == "raw" => Ok(ReferenceSpace::Raw),
        None => Err(format!("unknown reference space {name} (raw or pcaK)").into()),
    }
}

fn apply_overrides(
    config: &mut TrainConfig,
    value: &dyn Fn(&str) -> Option<String>,
    flag: &dyn Fn(&str) -> bool,
) -> Result<(), Box<dyn Error>> {
    let steps = value("--steps").map(|s| s.parse::<usize>()).transpose()?;
    let edges = value("--edges").map(|s| s.parse::<usize>()).transpose()?;
    let epochs = value("--epochs").map(|s| s.parse::<usize>()).transpose()?;
    if let Some(scheme) = value("--scheme") {
        config.finetune.scheme = match scheme.as_str() {
            "coupled" => Scheme::Coupled {
                steps: steps.unwrap_or(Scheme::DEFAULT_STEPS),
                edges_per_step: edges.unwrap_or(Scheme::DEFAULT_EDGES_PER_STEP),
            },
            "fixed" => Scheme::FixedBatches {
                epochs: epochs.unwrap_or(200),
            },
            "redrawn" => Scheme::RedrawnBatches {
                epochs: epochs.unwrap_or(200),
            },
            "negative" => Scheme::NegativeSampling {
                steps: steps.unwrap_or(Scheme::DEFAULT_STEPS),
                edges_per_step: edges.unwrap_or(Scheme::DEFAULT_EDGES_PER_STEP),
                negatives_per_edge: value("--negatives")
                    .map(|s| s.parse())
                    .transpose()?
                    .unwrap_or(Scheme::DEFAULT_NEGATIVES_PER_EDGE),
                z_bar: value("--z-bar")
                    .map(|s| s.parse())
                    .transpose()?
                    .unwrap_or(Scheme::DEFAULT_Z_BAR),
            },
            other => return Err(format!("unknown scheme {other}").into()),
        };
    } else {
        config.finetune.scheme = match config.finetune.scheme {
            Scheme::Coupled {
                steps: s,
                edges_per_step: e,
            } => Scheme::Coupled {
                steps: steps.unwrap_or(s),
                edges_per_step: edges.unwrap_or(e),
            },
            Scheme::FixedBatches { epochs: e } => Scheme::FixedBatches {
                epochs: epochs.unwrap_or(e),
            },
            Scheme::RedrawnBatches { epochs: e } => Scheme::RedrawnBatches {
                epochs: epochs.unwrap_or(e),
            },
            other => other,
        };
    }
    if let Some(a) = value("--feature-activation") {
        config.feature_activation = match a.as_str() {
            "identity" => Activation::Identity,
            "tanh" => Activation::Tanh,
            "relu" => Activation::Relu,
            "softmax" => Activation::Softmax,
            other => return Err(format!("unknown activation {other}").into()),
        };
    }
    if let Some(h) = value("--head-input") {
        config.head_input = if h == "hidden" {
            HeadInput::Hidden
        } else {
            HeadInput::Logits
        };
    }
    if let Some(v) = value("--output-scale") {
        config.output_scale = v.parse()?;
    }
    if let Some(v) = value("--lr") {
        config.finetune.adam.lr = v.parse()?;
    }
    if let Some(v) = value("--ce-weight") {
        config.finetune.ce_weight = v.parse()?;
    }
    if let Some(v) = value("--exaggeration") {
        config.finetune.exaggeration = v.parse()?;
        config.finetune.exaggeration_fraction = 0.25;
    }
    if let Some(v) = value("--perplexity") {
        config.finetune.perplexity = v.parse()?;
    }
    if let Some(v) = value("--batch-size") {
        config.finetune.batch_size = v.parse()?;
    }
    if let Some(v) = value("--pretrain-epochs") {
        config.pretrain.epochs = v.parse()?;
    }
    if let Some(v) = value("--shift") {
        config.finetune.shift_pixels = v.parse()?;
    }
    if flag("--no-prune") {
        config.prune_constant_inputs = false;
    }
    Ok(())
}
