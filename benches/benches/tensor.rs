//! Criterion benches of `ssne-tensor`: GEMM in GFLOP/s, softmax, pairwise distances.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ssne_benches::random_matrix;
use ssne_tensor::ndarray::Array2;
use ssne_tensor::{Trans, gemm, softmax_rows, sq_dists};
use std::hint::black_box;

/// GFLOP/s is worked out from criterion's element throughput: one "element" is one
/// floating-point operation (2 per multiply-add), so criterion's "elem/s" reads as FLOP/s.
fn bench_gemm(c: &mut Criterion) {
    let mut group = c.benchmark_group("gemm/f32");
    for &(m, k, n) in &[(1000usize, 784usize, 100usize), (128, 784, 100), (1000, 100, 784)] {
        let a = random_matrix::<f32>(m, k, 1);
        let b = random_matrix::<f32>(k, n, 2);
        let mut out = Array2::<f32>::zeros((m, n));
        group.throughput(Throughput::Elements((2 * m * k * n) as u64));
        group.bench_with_input(BenchmarkId::from_parameter(format!("{m}x{k}x{n}")), &(), |bench, _| {
            bench.iter(|| {
                gemm(
                    1.0,
                    black_box(a.view()),
                    Trans::N,
                    b.view(),
                    Trans::N,
                    0.0,
                    out.view_mut(),
                )
            })
        });
    }
    // A serial single-call baseline so the rayon gain is measured, not assumed.
    let a = random_matrix::<f32>(1000, 784, 1);
    let b = random_matrix::<f32>(784, 100, 2);
    let mut out = Array2::<f32>::zeros((1000, 100));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a 1-thread pool");
    group.throughput(Throughput::Elements(2 * 1000 * 784 * 100));
    group.bench_function("1000x784x100/1-thread", |bench| {
        pool.install(|| {
            bench.iter(|| {
                gemm(
                    1.0,
                    black_box(a.view()),
                    Trans::N,
                    b.view(),
                    Trans::N,
                    0.0,
                    out.view_mut(),
                )
            })
        })
    });
    group.finish();
}

fn bench_rowwise(c: &mut Criterion) {
    let x = random_matrix::<f32>(1000, 10, 3);
    c.bench_function("softmax_rows/1000x10", |bench| {
        bench.iter(|| {
            let mut y = x.clone();
            softmax_rows(y.view_mut());
            y
        })
    });
    let pts = random_matrix::<f32>(1000, 784, 4);
    c.bench_function("sq_dists/f32/1000x784", |bench| {
        bench.iter(|| sq_dists(black_box(pts.view())))
    });
}

criterion_group!(benches, bench_gemm, bench_rowwise);
criterion_main!(benches);
