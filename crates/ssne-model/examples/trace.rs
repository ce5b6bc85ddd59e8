//! Prints the fine-tuning loss per epoch of a preset on rows 0..6000 of the bundled sample
//! (a diagnostic for choosing schedules): `cargo run --release -p ssne-model --example trace -- paper`.
#![allow(clippy::print_stdout)]

use ssne_model::{EpochSummary, ParametricTsne, Preset, TrainConfig, TrainObserver};

struct Print;
impl TrainObserver for Print {
    fn epoch_finished(&mut self, s: &EpochSummary) {
        if s.epoch.is_multiple_of(10) || s.stage == ssne_model::Stage::Pretrain {
            println!(
                "{:?} {} loss {:.4} kl {:?} acc {:?} {:.1}s",
                s.stage, s.epoch, s.loss, s.kl, s.accuracy, s.seconds
            );
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let preset = if std::env::args().nth(1).as_deref() == Some("paper") {
        Preset::Paper
    } else {
        Preset::Default
    };
    let train = ssne_data::bundled::mnist_sample()?.rows(0..6000)?;
    let config = TrainConfig::preset(preset, 1);
    let model = ParametricTsne::fit(&train, None, &config, &mut Print)?;
    let spread = ssne_model::refine::map_spread(model.reference.embedding.view());
    println!("map spread {spread:.3}");
    Ok(())
}
