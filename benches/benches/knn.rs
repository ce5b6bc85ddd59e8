//! Criterion benches of the neighbour searches behind the global P: the exact blocked-GEMM
//! search against NN-descent seeded by random-projection trees, on the bundled MNIST sample's
//! PCA-50 projection (the space the 60,000-point target is set in), k = 90 (3 x perplexity 30).
//! The 60,000-point figures come from `benches/examples/knn_scale.rs` (one run takes tens of
//! seconds, too long for criterion's repetitions).

use criterion::{Criterion, criterion_group, criterion_main};
use ssne_affinity::{NnDescentOptions, knn, nn_descent};
use ssne_benches::mnist_sample_pixels;
use ssne_model::pca::Pca;
use std::hint::black_box;

const K: usize = 90;

fn bench_knn(c: &mut Criterion) {
    let mut group = c.benchmark_group("knn_pca50");
    group.sample_size(10);
    for n in [5_000_usize, 10_000] {
        let pixels = mnist_sample_pixels(n);
        let x = Pca::fit(pixels.view(), 50, 1)
            .and_then(|pca| pca.transform(pixels.view()))
            .expect("PCA-50 of the sample");
        let opts = NnDescentOptions::for_points(n, 1);
        group.bench_function(format!("exact/n={n}"), |b| b.iter(|| knn(black_box(x.view()), K)));
        group.bench_function(format!("nn_descent/n={n}"), |b| {
            b.iter(|| nn_descent(black_box(x.view()), K, &opts))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_knn);
criterion_main!(benches);
