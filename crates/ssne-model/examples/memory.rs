//! Peak memory of the paper's scheme (fixed batches, each batch's dense P kept for
//! the run) on 60,000 points: `cargo run --release -p ssne-model --example memory -- 1000`.
//! The points are the bundled sample tiled six times with a small deterministic
//! offset per copy (so no two points coincide). Linux only (reads VmHWM).
#![allow(clippy::print_stdout)]

use ssne_model::{FinetuneRngs, Network, Preset, Scheme, Silent, TrainConfig, TrainingPoints, finetune};
use ssne_tensor::ndarray::Array2;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let batch: usize = std::env::args().nth(1).unwrap_or_else(|| "1000".into()).parse()?;
    let sample = ssne_data::bundled::mnist_sample()?;
    let x = Array2::from_shape_fn((60_000, 784), |(i, j)| {
        sample.features[[i % 10_000, j]] + (i / 10_000) as f32 * 1e-3
    });
    let mut config = TrainConfig::preset(Preset::Paper, 1);
    config.finetune.scheme = Scheme::FixedBatches { epochs: 1 };
    config.finetune.batch_size = batch;
    let mut rng = {
        use rand::SeedableRng;
        rand_chacha::ChaCha8Rng::seed_from_u64(1)
    };
    let mut net = Network::init(config.network_spec(784, 10), &mut rng)?;
    let started = std::time::Instant::now();
    finetune(
        &mut net,
        TrainingPoints {
            x: x.view().into(),
            labels: None,
            image_shape: None,
        },
        &config.finetune,
        &mut FinetuneRngs::from_seed(1),
        &mut Silent,
    )?;
    let status = std::fs::read_to_string("/proc/self/status")?;
    let peak = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap_or("VmHWM: unknown");
    let p_bytes = 60_000 / batch * batch * batch * 4;
    println!(
        "batch {batch}: {peak} (the kept P matrices alone: {} MB; data: 188 MB); {:.1} s",
        p_bytes / 1_000_000,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
