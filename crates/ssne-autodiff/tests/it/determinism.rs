//! Results must be bitwise identical for any rayon thread count.

use ssne_autodiff::{StudentT, Tape};
use ssne_tensor::ndarray::Array2;

use crate::{Activation, Mlp, on_threads, random, rng};

/// Loss values and gradients of a graph exercising every parallel kernel, as raw bits.
fn run(threads: usize) -> Vec<u32> {
    let mut rng = rng(41);
    // 300 x 100 x 200 crosses the parallel thresholds of GEMM and the element-wise ops.
    let mlp = Mlp::<f32>::init(&mut rng, &[300, 100, 2], Activation::Relu);
    let x = random::<f32>(&mut rng, 200, 300, 1.0);
    let mut p = random::<f32>(&mut rng, 200, 200, 1.0).mapv(f32::abs);
    p.diag_mut().fill(0.0);
    let total: f32 = p.sum();
    p /= total;
    let labels: Vec<u32> = (0..200).map(|i| i % 2).collect();
    let edges: Vec<(u32, u32)> = (0..40).map(|i| (i, 199 - i)).collect();

    on_threads(threads, || {
        let mut tape = Tape::<f32>::new();
        let input = tape.var_from(x.view());
        let params = mlp.vars(&mut tape);
        let y = mlp.forward(&mut tape, input, &params).unwrap();
        let kl = tape.tsne_kl(y, p.view(), StudentT::default()).unwrap();
        let kl_heavy = tape.tsne_kl(y, p.view(), StudentT { dof: 0.7 }).unwrap();
        let coupled = tape.tsne_coupled(y, &edges, StudentT::default(), 2.0).unwrap();
        let xent = tape.softmax_cross_entropy(y, &labels).unwrap();
        let probs = tape.softmax(y).unwrap();
        let d = tape.sq_dists(probs).unwrap();
        let spread = tape.mean(d).unwrap();
        let mut bits = Vec::new();
        for loss in [kl, kl_heavy, coupled, xent, spread] {
            bits.push(tape.scalar(loss).unwrap().to_bits());
            let grads = tape.backward(loss).unwrap();
            for &v in params.iter().chain([&input]) {
                bits.extend(grads.get(v).unwrap().iter().map(|g| g.to_bits()));
            }
        }
        bits
    })
}

#[test]
fn one_two_and_three_threads_give_the_same_bits() {
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
    assert!(one.iter().any(|&b| b != 0));
}

#[test]
fn cleared_tape_reproduces_the_same_bits() {
    let mut rng = rng(2);
    let y = random::<f64>(&mut rng, 40, 2, 3.0);
    let p = Array2::from_elem((40, 40), 1.0 / (40.0 * 39.0));
    let mut tape = Tape::<f64>::new();
    let mut results = Vec::new();
    for _ in 0..3 {
        tape.clear();
        let y_var = tape.var_from(y.view());
        let loss = tape.tsne_kl(y_var, p.view(), StudentT::default()).unwrap();
        let g = tape.backward(loss).unwrap().take(y_var).unwrap();
        results.push((tape.scalar(loss).unwrap().to_bits(), g));
    }
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0], results[2]);
}

/// Loss and parameter gradients of an MLP on a constant, mostly-zero input
/// (the compressed first layer), as raw bits.
fn run_sparse_input(threads: usize, input_is_var: bool) -> (Vec<u32>, Vec<f32>) {
    let mut rng = rng(43);
    // 600 x 300 x 100: the compressed product and its transpose run in parallel.
    let mlp = Mlp::<f32>::init(&mut rng, &[300, 100, 10], Activation::Relu);
    let mut x = random::<f32>(&mut rng, 600, 300, 1.0);
    let keep = random::<f32>(&mut rng, 600, 300, 1.0);
    x.zip_mut_with(&keep, |v, &k| {
        if k < 0.6 {
            *v = 0.0; // ~80% zeros, like MNIST
        }
    });
    let labels: Vec<u32> = (0..600).map(|i| i % 10).collect();
    on_threads(threads, || {
        let mut tape = Tape::<f32>::new();
        // A var input forces the dense path (its gradient is needed).
        let input = if input_is_var {
            tape.var_from(x.view())
        } else {
            tape.constant_from(x.view())
        };
        let params = mlp.vars(&mut tape);
        let logits = mlp.forward(&mut tape, input, &params).unwrap();
        let loss = tape.softmax_cross_entropy(logits, &labels).unwrap();
        let grads = tape.backward(loss).unwrap();
        let mut values = vec![tape.scalar(loss).unwrap()];
        for &v in &params {
            values.extend(grads.get(v).unwrap().iter().copied());
        }
        (values.iter().map(|v| v.to_bits()).collect(), values)
    })
}

#[test]
fn the_compressed_first_layer_gives_the_same_bits_on_any_thread_count() {
    let (one, values) = run_sparse_input(1, false);
    assert_eq!(one, run_sparse_input(2, false).0);
    assert_eq!(one, run_sparse_input(3, false).0);
    // And the same numbers as the dense path, up to rounding.
    let (_, dense) = run_sparse_input(1, true);
    let scale = dense.iter().fold(0.0_f32, |m, v| m.max(v.abs()));
    for (s, d) in values.iter().zip(&dense) {
        assert!((s - d).abs() <= 1e-5 * scale, "{s} vs {d}");
    }
}
