//! Fits a 2-16-2 tanh MLP to two interleaved half-moons with plain SGD, using
//! only `ssne-autodiff` and `ssne-tensor`.
//!
//! Run with `cargo run --release -p ssne-autodiff --example fit_mlp`.

// An example exists to show its results.
#![allow(clippy::print_stdout)]

use ssne_autodiff::{AutodiffError, Tape, Var};
use ssne_tensor::ndarray::Array2;

/// A tiny seeded generator (SplitMix64), so the example needs no RNG crate.
struct SplitMix(u64);

impl SplitMix {
    /// Uniform in `[0, 1)`.
    fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// `n_points` points on two interleaved half-circles, with Gaussian-ish noise.
fn two_moons(n_points: usize, noise: f32, rng: &mut SplitMix) -> (Array2<f32>, Vec<u32>) {
    let mut x = Array2::zeros((n_points, 2));
    let mut labels = Vec::with_capacity(n_points);
    for point_idx in 0..n_points {
        let label = (point_idx % 2) as u32;
        let angle = std::f32::consts::PI * rng.next();
        let (cx, cy) = if label == 0 {
            (angle.cos(), angle.sin())
        } else {
            (1.0 - angle.cos(), 0.5 - angle.sin())
        };
        // Sum of three uniforms: a cheap bell-shaped perturbation.
        let mut jitter = || noise * (rng.next() + rng.next() + rng.next() - 1.5);
        x[[point_idx, 0]] = cx + jitter();
        x[[point_idx, 1]] = cy + jitter();
        labels.push(label);
    }
    (x, labels)
}

/// Weights `[fan_in, fan_out]` uniform in `±sqrt(3 / fan_in)`, biases zero.
fn init_layer(fan_in: usize, fan_out: usize, rng: &mut SplitMix) -> [Array2<f32>; 2] {
    let scale = (3.0 / fan_in as f32).sqrt();
    [
        Array2::from_shape_simple_fn((fan_in, fan_out), || scale * (2.0 * rng.next() - 1.0)),
        Array2::zeros((1, fan_out)),
    ]
}

/// The forward pass: logits of a 2-16-2 MLP with tanh.
fn forward(tape: &mut Tape<f32>, input: Var, p: &[Var]) -> Result<Var, AutodiffError> {
    let hidden = tape.matmul(input, p[0])?;
    let hidden = tape.add_bias(hidden, p[1])?;
    let hidden = tape.tanh(hidden)?;
    let logits = tape.matmul(hidden, p[2])?;
    tape.add_bias(logits, p[3])
}

fn main() -> Result<(), AutodiffError> {
    let mut rng = SplitMix(42);
    let (x, labels) = two_moons(400, 0.2, &mut rng);
    let [w1, b1] = init_layer(2, 16, &mut rng);
    let [w2, b2] = init_layer(16, 2, &mut rng);
    let mut params = [w1, b1, w2, b2];
    let learning_rate = 0.5;

    let mut tape = Tape::<f32>::new();
    for step in 0..=2000 {
        tape.clear();
        let input = tape.constant_from(x.view());
        let p = params.each_ref().map(|param| tape.var_from(param.view()));
        let logits = forward(&mut tape, input, &p)?;
        let loss = tape.softmax_cross_entropy(logits, &labels)?;
        if step % 250 == 0 {
            let predicted = tape.value(logits)?;
            let correct = predicted
                .rows()
                .into_iter()
                .zip(&labels)
                .filter(|(row, label)| u32::from(row[1] > row[0]) == **label)
                .count();
            println!(
                "step {step:4}: loss {:.4}, training accuracy {:.1}%",
                tape.scalar(loss)?,
                100.0 * correct as f32 / labels.len() as f32
            );
        }
        let grads = tape.backward(loss)?;
        for (param, var) in params.iter_mut().zip(p) {
            if let Some(grad) = grads.get(var) {
                param.scaled_add(-learning_rate, &grad);
            }
        }
        tape.recycle(grads);
    }
    Ok(())
}
