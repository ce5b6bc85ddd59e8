//! Criterion benches of `ssne-tensor`: GEMM in GFLOP/s, softmax, pairwise distances.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ssne_benches::{mnist_sample_pixels, random_matrix};
use ssne_tensor::ndarray::Array2;
use ssne_tensor::{Csr, SPARSE_MAX_DENSITY, Trans, csr_gemm, gemm, softmax_rows, sq_dists};
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

/// The first layer of the network on sparse inputs: MNIST rows (about 19%
/// non-zero) times a dense `784 x 100` weight, as compaction plus sparse
/// product, against the dense GEMM of the same shape (`gemm/f32/1000x784x100`).
/// Throughput counts the dense-equivalent FLOPs, so the GFLOP/s of the two
/// compare directly. The density sweep on random zeros locates the density
/// where sparse stops paying ([`SPARSE_MAX_DENSITY`]).
fn bench_sparse(c: &mut Criterion) {
    let mut group = c.benchmark_group("csr_gemm/f32");
    let (m, k, n) = (1000usize, 784usize, 100usize);
    let x = mnist_sample_pixels(m);
    let w = random_matrix::<f32>(k, n, 2);
    let g = random_matrix::<f32>(m, n, 3);
    let mut out = Array2::<f32>::zeros((m, n));
    let mut out_t = Array2::<f32>::zeros((k, n));
    let mut csr = Csr::new();
    let mut csr_t = Csr::new();
    assert!(csr.assign_if_sparse(x.view(), SPARSE_MAX_DENSITY), "MNIST is sparse");
    group.throughput(Throughput::Elements((2 * m * k * n) as u64));
    group.bench_function("mnist/1000x784x100/compact+product", |bench| {
        bench.iter(|| {
            csr.assign_if_sparse(black_box(x.view()), SPARSE_MAX_DENSITY);
            csr_gemm(1.0, &csr, w.view(), 0.0, out.view_mut())
        })
    });
    group.bench_function("mnist/1000x784x100/product", |bench| {
        bench.iter(|| csr_gemm(1.0, black_box(&csr), w.view(), 0.0, out.view_mut()))
    });
    // The weight gradient X^T G of the backward pass: transpose plus product.
    group.bench_function("mnist/784x1000x100/transpose+product", |bench| {
        bench.iter(|| {
            black_box(&csr).transpose_into(&mut csr_t);
            csr_gemm(1.0, &csr_t, g.view(), 0.0, out_t.view_mut())
        })
    });
    for density in [0.2, 0.35, 0.5] {
        let keep = random_matrix::<f32>(m, k, 9);
        let mut xd = random_matrix::<f32>(m, k, 8);
        xd.zip_mut_with(&keep, |v, &r| {
            if (r + 1.0) / 2.0 >= density {
                *v = 0.0;
            }
        });
        group.bench_function(format!("random/1000x784x100/density={density}"), |bench| {
            bench.iter(|| {
                csr.assign_if_sparse(black_box(xd.view()), 1.0);
                csr_gemm(1.0, &csr, w.view(), 0.0, out.view_mut())
            })
        });
    }
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

criterion_group!(benches, bench_gemm, bench_sparse, bench_rowwise);
criterion_main!(benches);
