//! Criterion benches of `ssne-autodiff`: one MLP training step, and the fused
//! t-SNE losses (forward + backward), all in f32 on a reused tape.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ssne_autodiff::{StudentT, Tape, Var};
use ssne_benches::random_matrix;
use ssne_tensor::ndarray::Array2;
use std::hint::black_box;

const N_FEATURES: usize = 784;
const N_HIDDEN: usize = 100;
const N_CLASSES: usize = 10;

/// Parameters of a 784-100(relu)-10 MLP.
struct Mlp {
    w1: Array2<f32>,
    b1: Array2<f32>,
    w2: Array2<f32>,
    b2: Array2<f32>,
}

impl Mlp {
    fn new() -> Self {
        Self {
            w1: random_matrix::<f32>(N_FEATURES, N_HIDDEN, 11) * 0.05,
            b1: random_matrix::<f32>(1, N_HIDDEN, 12) * 0.1,
            w2: random_matrix::<f32>(N_HIDDEN, N_CLASSES, 13) * 0.1,
            b2: random_matrix::<f32>(1, N_CLASSES, 14) * 0.1,
        }
    }

    /// Forward + backward of softmax cross-entropy; returns the loss.
    fn step(&self, tape: &mut Tape<f32>, x: &Array2<f32>, labels: &[u32]) -> f32 {
        tape.clear();
        let input = tape.constant_from(x.view());
        let params: [Var; 4] = [&self.w1, &self.b1, &self.w2, &self.b2].map(|p| tape.var_from(p.view()));
        let loss = (|| {
            let h = tape.matmul(input, params[0])?;
            let h = tape.add_bias(h, params[1])?;
            let h = tape.relu(h)?;
            let logits = tape.matmul(h, params[2])?;
            let logits = tape.add_bias(logits, params[3])?;
            tape.softmax_cross_entropy(logits, labels)
        })()
        .expect("the bench graph is well formed");
        let value = tape.scalar(loss).expect("a scalar loss");
        let grads = tape.backward(loss).expect("a scalar loss");
        tape.recycle(grads);
        value
    }
}

/// GFLOP/s is worked out from criterion's element throughput: one "element" is
/// one floating-point operation (2 per multiply-add, GEMMs only), so
/// criterion's "elem/s" reads as FLOP/s. Backward skips dX (data is constant).
fn bench_mlp_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("mlp_step");
    let mlp = Mlp::new();
    for &batch in &[128usize, 1000] {
        let x = random_matrix::<f32>(batch, N_FEATURES, 1).mapv(|v| (v + 1.0) / 2.0);
        let labels: Vec<u32> = (0..batch).map(|i| (i % N_CLASSES) as u32).collect();
        let forward = 2 * batch * (N_FEATURES * N_HIDDEN + N_HIDDEN * N_CLASSES);
        // dW1, dW2, dH: the input gradient of the first layer is skipped.
        let backward = 2 * batch * (N_FEATURES * N_HIDDEN + 2 * N_HIDDEN * N_CLASSES);
        group.throughput(Throughput::Elements((forward + backward) as u64));
        let mut tape = Tape::<f32>::new();
        mlp.step(&mut tape, &x, &labels); // warm the buffer pool
        group.bench_with_input(BenchmarkId::from_parameter(format!("batch={batch}")), &(), |b, _| {
            b.iter(|| mlp.step(&mut tape, black_box(&x), &labels))
        });
    }
    group.finish();
}

/// A dense, symmetric, non-negative P with zero diagonal, summing to 1.
fn dense_p(n: usize, seed: u64) -> Array2<f32> {
    let raw = random_matrix::<f32>(n, n, seed).mapv(|v| v + 1.0);
    let mut p = &raw + &raw.t();
    p.diag_mut().fill(0.0);
    let total: f64 = p.iter().map(|&v| f64::from(v)).sum();
    p.mapv_inplace(|v| (f64::from(v) / total) as f32);
    p
}

/// Forward + backward of the loss, on a cleared tape.
fn tsne_kl_step(tape: &mut Tape<f32>, y: &Array2<f32>, p: &Array2<f32>) -> f32 {
    tape.clear();
    let y = tape.var_from(y.view());
    let loss = tape.tsne_kl(y, p.view(), StudentT::default()).expect("valid inputs");
    let value = tape.scalar(loss).expect("a scalar loss");
    let grads = tape.backward(loss).expect("a scalar loss");
    tape.recycle(grads);
    value
}

fn bench_tsne(c: &mut Criterion) {
    let mut group = c.benchmark_group("tsne_kl");
    for &n in &[1000usize, 5000] {
        let y = random_matrix::<f32>(n, 2, 21) * 10.0;
        let p = dense_p(n, 22);
        // Throughput in ordered pairs (i, j), i != j, per second.
        group.throughput(Throughput::Elements((n * (n - 1)) as u64));
        // About 100 ms per iteration at n = 5000: criterion's minimum sample count keeps the run short.
        group.sample_size(if n >= 5000 { 10 } else { 100 });
        let mut tape = Tape::<f32>::new();
        group.bench_with_input(BenchmarkId::from_parameter(format!("n={n}")), &(), |b, _| {
            b.iter(|| tsne_kl_step(&mut tape, black_box(&y), &p))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("tsne_coupled");
    let n_edges = 500;
    let y = random_matrix::<f32>(2 * n_edges, 2, 31) * 10.0;
    let edges: Vec<(u32, u32)> = (0..n_edges as u32).map(|i| (i, i + n_edges as u32)).collect();
    group.throughput(Throughput::Elements((2 * n_edges * (2 * n_edges - 1)) as u64));
    let mut tape = Tape::<f32>::new();
    group.bench_function(format!("edges={n_edges}"), |b| {
        b.iter(|| {
            tape.clear();
            let y = tape.var_from(black_box(y.view()));
            let loss = tape
                .tsne_coupled(y, &edges, StudentT::default(), 1.0)
                .expect("valid inputs");
            let grads = tape.backward(loss).expect("a scalar loss");
            tape.recycle(grads);
        })
    });
    group.finish();
}

criterion_group!(benches, bench_mlp_step, bench_tsne);
criterion_main!(benches);
