//! Buffer reuse: once warmed up, recording the same graph again allocates nothing.

use ssne_autodiff::{StudentT, Tape};
use ssne_tensor::ndarray::Array2;

use crate::alloc_count::count_allocations;
use crate::{on_threads, random, rng};

/// One training-like step over every op that does not call GEMM (whose
/// packing buffers are allocated inside `matrixmultiply`).
fn step(tape: &mut Tape<f32>, x: &Array2<f32>, bias: &Array2<f32>, p: &Array2<f32>, labels: &[u32]) -> f32 {
    tape.clear();
    let x = tape.var_from(x.view());
    let bias = tape.var_from(bias.view());
    let h = tape.add_bias(x, bias).unwrap();
    let h = tape.tanh(h).unwrap();
    let s = tape.sigmoid(h).unwrap();
    let r = tape.relu(h).unwrap();
    let h = tape.mul(s, r).unwrap();
    let h = tape.sub(h, x).unwrap();
    let h = tape.scale(h, 0.5).unwrap();
    let h = tape.add(h, x).unwrap();
    let kl = tape.tsne_kl(h, p.view(), StudentT::default()).unwrap();
    let coupled = tape
        .tsne_coupled(h, &[(0, 1), (2, 3)], StudentT { dof: 2.0 }, 1.0)
        .unwrap();
    let xent = tape.softmax_cross_entropy(h, labels).unwrap();
    let probs = tape.softmax(h).unwrap();
    let d = tape.sq_dists(probs).unwrap();
    let spread = tape.mean(d).unwrap();
    let total = tape.sum(h).unwrap();
    let losses = [kl, coupled, xent, spread, total];
    let mut sum = 0.0;
    for loss in losses {
        sum += tape.scalar(loss).unwrap();
        let grads = tape.backward(loss).unwrap();
        tape.recycle(grads);
    }
    sum
}

#[test]
fn a_warm_tape_allocates_nothing_per_step() {
    let mut rng = rng(8);
    let n = 64;
    let x = random::<f32>(&mut rng, n, 2, 2.0);
    let bias = random::<f32>(&mut rng, 1, 2, 1.0);
    let mut p = random::<f32>(&mut rng, n, n, 1.0).mapv(f32::abs);
    let total: f32 = p.sum();
    p /= total;
    let labels: Vec<u32> = (0..n as u32).map(|i| i % 2).collect();
    let counts = on_threads(1, || {
        let mut tape = Tape::<f32>::new();
        (0..4)
            .map(|_| count_allocations(|| step(&mut tape, &x, &bias, &p, &labels)).1)
            .collect::<Vec<_>>()
    });
    assert!(counts[0] > 0, "the first step allocates its buffers: {counts:?}");
    assert_eq!(&counts[2..], &[0, 0], "steady-state steps: {counts:?}");
}
