//! Runs one hot path in a loop, for `perf record`: `profile pretrain|finetune|embed [reps]`.
//! Setup (loading the sample, training the embedding model) happens before the
//! loop and is reported apart, so a profile of the loop is not diluted by it.

#![allow(clippy::print_stdout)]

use std::time::Instant;

use ssne_model::{FinetuneRngs, Labelled, Network, Preset, Scheme, Silent, TrainConfig, TrainingPoints};

fn rng(seed: u64) -> rand_chacha::ChaCha8Rng {
    use rand::SeedableRng;
    rand_chacha::ChaCha8Rng::seed_from_u64(seed)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let what = args.get(1).map(String::as_str).unwrap_or("pretrain");
    let reps: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20);
    let all = ssne_data::bundled::mnist_sample().expect("the bundled sample loads");
    let data = all.rows(0..8000).expect("rows");
    let labels = data.labels.clone().expect("labelled");
    let config = TrainConfig::preset(Preset::Paper, 1);
    let spec = config.network_spec(784, 10);
    match what {
        "pretrain" => {
            let mut pre = config.pretrain.clone();
            pre.epochs = 1;
            let started = Instant::now();
            for _ in 0..reps {
                let mut net = Network::init(spec.clone(), &mut rng(1)).expect("valid spec");
                let set = Labelled {
                    x: data.features.view().into(),
                    labels: &labels,
                };
                ssne_model::pretrain(&mut net, set, None, &pre, &mut rng(2), &mut Silent).expect("trains");
            }
            println!(
                "pretrain epoch: {:.2} ms",
                started.elapsed().as_secs_f64() * 1e3 / reps as f64
            );
        }
        "finetune" => {
            let start = Network::init(spec.clone(), &mut rng(1)).expect("valid spec");
            let mut ft = config.finetune.clone();
            ft.scheme = Scheme::FixedBatches { epochs: reps };
            let started = Instant::now();
            let mut net = start.clone();
            let points = TrainingPoints {
                x: data.features.view().into(),
                labels: None,
                image_shape: None,
            };
            ssne_model::finetune(&mut net, points, &ft, &mut FinetuneRngs::from_seed(3), &mut Silent).expect("trains");
            println!(
                "finetune {reps} epochs (with P): {:.2} ms",
                started.elapsed().as_secs_f64() * 1e3
            );
        }
        "embed" => {
            // The default preset's network (tanh features, output scale, input
            // mask), untrained: embedding costs the same whatever the weights.
            let cfg = TrainConfig::preset(Preset::Default, 1);
            let mut net = Network::init(cfg.network_spec(784, 10), &mut rng(1)).expect("valid spec");
            net.set_input_mask(ssne_model::varying_inputs(data.features.view()));
            let many = ssne_tensor::ndarray::concatenate(
                ssne_tensor::ndarray::Axis(0),
                &[
                    all.features.view(),
                    all.features.view(),
                    all.features.view(),
                    all.features.view(),
                    all.features.view(),
                ],
            )
            .expect("same widths");
            let mut out = ssne_tensor::ndarray::Array2::zeros((many.nrows(), 2));
            let started = Instant::now();
            for _ in 0..reps {
                net.embed_into(many.view(), out.view_mut()).expect("embeds");
                std::hint::black_box(&out);
            }
            let secs = started.elapsed().as_secs_f64() / reps as f64;
            println!(
                "embed: {:.2} ms, {:.0} points/s",
                secs * 1e3,
                many.nrows() as f64 / secs
            );
        }
        other => println!("unknown workload {other}"),
    }
}
