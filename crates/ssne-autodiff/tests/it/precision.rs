//! The tape in `f32` against the same graph in `f64`.

use ssne_autodiff::{Real, StudentT, Tape};
use ssne_tensor::ndarray::Array2;

use crate::{Activation, Mlp, random, rng};

/// Per loss (cross-entropy, then t-SNE KL), the gradients of every parameter
/// and of the inputs, computed in the element type `R`.
fn gradients<R: Real>(mlp: &Mlp<R>, x: &Array2<R>, labels: &[u32], p: &Array2<R>) -> Vec<Vec<Array2<f64>>> {
    let mut tape = Tape::<R>::new();
    let input = tape.var_from(x.view());
    let params = mlp.vars(&mut tape);
    let logits = mlp.forward(&mut tape, input, &params).unwrap();
    let xent = tape.softmax_cross_entropy(logits, labels).unwrap();
    // The output is 2 wide, so it doubles as an embedding.
    let kl = tape.tsne_kl(logits, p.view(), StudentT::default()).unwrap();
    [xent, kl]
        .into_iter()
        .map(|loss| {
            let grads = tape.backward(loss).unwrap();
            params
                .iter()
                .chain([&input])
                .map(|&v| grads.get(v).unwrap().mapv(|g| g.to_f64()))
                .collect()
        })
        .collect()
}

/// Errors are measured against the largest gradient entry of the same loss:
/// some entries are exactly 0 in exact arithmetic (the KL is translation
/// invariant, so its last-bias gradient vanishes), and there f32 and f64 only
/// agree on being rounding noise.
#[test]
fn f32_gradients_agree_with_f64_within_1e_4_relative() {
    let mut rng = rng(17);
    let sizes = [8, 16, 2];
    let n = 12;
    let mlp64 = Mlp::<f64>::init(&mut rng, &sizes, Activation::Tanh);
    let x64 = random::<f64>(&mut rng, n, sizes[0], 1.0);
    let labels: Vec<u32> = (0..n as u32).map(|i| i % 2).collect();
    let mut p64 = random::<f64>(&mut rng, n, n, 1.0).mapv(f64::abs);
    p64.diag_mut().fill(0.0);
    p64 /= p64.sum();

    let cast = |a: &Array2<f64>| a.mapv(|v| v as f32);
    let g64 = gradients(&mlp64, &x64, &labels, &p64);
    let g32 = gradients(&mlp64.cast::<f32>(), &cast(&x64), &labels, &cast(&p64));
    for (loss64, loss32) in g64.iter().zip(&g32) {
        let scale = loss64.iter().flatten().fold(0.0_f64, |m, v| m.max(v.abs()));
        assert!(scale > 1e-3, "a meaningful gradient: {scale}");
        for (a, b) in loss64.iter().zip(loss32) {
            let worst = a.iter().zip(b).fold(0.0_f64, |m, (a, b)| m.max((a - b).abs()));
            assert!(
                worst <= 1e-4 * scale,
                "max |f64 - f32| = {worst:e}, max |g| = {scale:e}"
            );
        }
    }
}
