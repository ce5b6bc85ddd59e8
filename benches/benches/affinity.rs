//! Criterion benches of `ssne-affinity` on the bundled MNIST sample (784-D, perplexity 30):
//! dense P of one mini-batch split into distances and search, sparse P of all 10,000
//! points split into k-NN and the rest, and a plain single-threaded bisection baseline.

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use ssne_affinity::{Perplexity, SearchOptions, conditional_knn, joint_dense, joint_from_sq_dists, joint_knn, knn};
use ssne_benches::mnist_sample_pixels;
use ssne_tensor::ndarray::{Array2, ArrayView2};
use ssne_tensor::sq_dists;
use std::hint::black_box;

const PERPLEXITY: f64 = 30.0;

fn perplexity() -> Perplexity {
    Perplexity::new(PERPLEXITY).expect("30 is a valid perplexity")
}

fn bench_dense(c: &mut Criterion) {
    let opts = SearchOptions::default();
    let mut group = c.benchmark_group("dense_p");
    group.sample_size(10);
    for n in [1000_usize, 2000, 5000] {
        let x = mnist_sample_pixels(n);
        let d = sq_dists(x.view());
        group.bench_with_input(BenchmarkId::new("distances", format!("n={n}")), &x, |b, x| {
            b.iter(|| sq_dists(black_box(x.view())))
        });
        group.bench_with_input(BenchmarkId::new("search", format!("n={n}")), &d, |b, d| {
            b.iter_batched(
                || d.clone(),
                |d| joint_from_sq_dists(d, perplexity(), &opts),
                BatchSize::LargeInput,
            )
        });
        group.bench_with_input(BenchmarkId::new("total", format!("n={n}")), &x, |b, x| {
            b.iter(|| joint_dense(black_box(x.view()), perplexity(), &opts))
        });
        if n <= 2000 {
            // The same work without rayon, then the plain bisection: separates
            // the algorithmic gain (Halley steps, vectorised exp) from the threads.
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .expect("a 1-thread pool");
            group.bench_with_input(BenchmarkId::new("search_1thread", format!("n={n}")), &d, |b, d| {
                pool.install(|| {
                    b.iter_batched(
                        || d.clone(),
                        |d| joint_from_sq_dists(d, perplexity(), &opts),
                        BatchSize::LargeInput,
                    )
                })
            });
            group.bench_with_input(BenchmarkId::new("baseline_bisection", format!("n={n}")), &d, |b, d| {
                b.iter(|| baseline_joint(black_box(d.view()), PERPLEXITY))
            });
        }
    }
    group.finish();
}

fn bench_sparse(c: &mut Criterion) {
    let opts = SearchOptions::default();
    let n = 10_000;
    let k = (3.0 * PERPLEXITY) as usize;
    let x = mnist_sample_pixels(n);
    let mut group = c.benchmark_group("sparse_p");
    group.sample_size(10);
    group.bench_function(format!("knn/n={n}"), |b| b.iter(|| knn(black_box(x.view()), k)));
    let nn = knn(x.view(), k).expect("valid k-NN input");
    group.bench_function(format!("search/n={n}"), |b| {
        b.iter(|| conditional_knn(black_box(&nn), perplexity(), &opts))
    });
    group.bench_function(format!("total/n={n}"), |b| {
        b.iter(|| joint_knn(black_box(x.view()), perplexity(), &opts))
    });
    group.finish();
}

/// The textbook search, written plainly: per row, bisection on beta starting at
/// 1 (doubling or halving until bracketed), libm `exp` over the full row in
/// `f64`, tolerance 1e-5 nats, at most 200 steps, single-threaded; then
/// `(P + P^T) / 2n`. Rows are min-shifted like the library's, so nothing underflows.
fn baseline_joint(d: ArrayView2<'_, f32>, perplexity: f64) -> Array2<f64> {
    let n = d.nrows();
    let target = perplexity.ln();
    let mut cond = Array2::<f64>::zeros((n, n));
    let mut shifted = vec![0.0_f64; n];
    for i in 0..n {
        let min = (0..n)
            .filter(|&j| j != i)
            .map(|j| f64::from(d[[i, j]]))
            .fold(f64::INFINITY, f64::min);
        for j in 0..n {
            shifted[j] = f64::from(d[[i, j]]) - min;
        }
        let (mut beta, mut lo, mut hi) = (1.0_f64, 0.0_f64, f64::INFINITY);
        let mut row = vec![0.0_f64; n];
        for _ in 0..200 {
            let (mut z, mut first) = (0.0, 0.0);
            for j in 0..n {
                row[j] = if j == i { 0.0 } else { (-beta * shifted[j]).exp() };
                z += row[j];
                first += row[j] * shifted[j];
            }
            let entropy = z.ln() + beta * first / z;
            for v in &mut row {
                *v /= z;
            }
            if (entropy - target).abs() < 1e-5 {
                break;
            }
            if entropy > target {
                lo = beta;
                beta = if hi.is_finite() { 0.5 * (beta + hi) } else { 2.0 * beta };
            } else {
                hi = beta;
                beta = 0.5 * (beta + lo);
            }
        }
        cond.row_mut(i).assign(&ssne_tensor::ndarray::Array1::from(row));
    }
    let scale = 1.0 / (2.0 * n as f64);
    Array2::from_shape_fn((n, n), |(i, j)| (cond[[i, j]] + cond[[j, i]]) * scale)
}

criterion_group!(benches, bench_dense, bench_sparse);
criterion_main!(benches);
