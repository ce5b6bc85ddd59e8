//! Criterion benches of the neighbour searches behind the global P: the exact blocked-GEMM
//! search against NN-descent seeded by random-projection trees, on PCA-50 projections of MNIST
//! digits (the space the 60,000-point target is set in), k = 90 (3 x perplexity 30).
//!
//! `n=5000` and `n=10000` are the bundled sample's first rows. `n=60000` is the 10,000 bundled
//! digits and five copies of them moved by one pixel ([`ssne_benches::with_shifted_copies`] with
//! [`ssne_benches::ONE_PIXEL_SHIFTS`]), projected on their own PCA-50. A 60,000-point search takes
//! seconds (one exact run measured 18 s at load 4, 9.4 s quiet), so those benches sample flat
//! (each of the ten samples one search; criterion's automatic mode falls back to it for runs this
//! long anyway). Before them the bench prints (to stderr) the
//! recall of one NN-descent graph against brute force on 200 evenly spaced rows
//! ([`ssne_affinity::knn_recall`]). Runs on other data (Fashion-MNIST's 60,000 training images,
//! or millions of rows from `cargo xtask make-large`) are `benches/examples/knn_scale.rs`'s.

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use ssne_affinity::{NnDescentOptions, knn, knn_recall, nn_descent};
use ssne_benches::{ONE_PIXEL_SHIFTS, mnist_sample_pixels, with_shifted_copies};
use ssne_model::pca::Pca;
use ssne_tensor::ndarray::Array2;
use std::hint::black_box;

const K: usize = 90;

/// Rows whose recall the 60,000-point bench prints.
const RECALL_ROWS: usize = 200;

fn pca50(pixels: &Array2<f32>) -> Array2<f32> {
    Pca::fit(pixels.view(), 50, 1)
        .and_then(|pca| pca.transform(pixels.view()))
        .expect("PCA-50 of the digits")
}

fn bench_knn(c: &mut Criterion) {
    let mut group = c.benchmark_group("knn_pca50");
    group.sample_size(10);
    for n in [5_000_usize, 10_000] {
        let x = pca50(&mnist_sample_pixels(n));
        let opts = NnDescentOptions::for_points(n, 1);
        group.bench_function(format!("exact/n={n}"), |b| b.iter(|| knn(black_box(x.view()), K)));
        group.bench_function(format!("nn_descent/n={n}"), |b| {
            b.iter(|| nn_descent(black_box(x.view()), K, &opts))
        });
    }

    let x = pca50(&with_shifted_copies(
        mnist_sample_pixels(10_000).view(),
        [28, 28],
        &ONE_PIXEL_SHIFTS,
    ));
    let n = x.nrows();
    let opts = NnDescentOptions::for_points(n, 1);
    let graph = nn_descent(x.view(), K, &opts).expect("NN-descent on the 60,000 digits");
    let sample: Vec<usize> = (0..n).step_by(n / RECALL_ROWS).take(RECALL_ROWS).collect();
    let recall = knn_recall(x.view(), &graph, &sample).expect("sampled rows in range");
    #[allow(
        clippy::print_stderr,
        reason = "criterion reports times only; the recall behind them is printed beside them"
    )]
    {
        eprintln!(
            "knn_pca50 n={n}: NN-descent recall against brute force on {} evenly spaced rows: {recall:.4}",
            sample.len()
        );
    }
    group.sampling_mode(SamplingMode::Flat);
    group.bench_function(format!("exact/n={n}"), |b| b.iter(|| knn(black_box(x.view()), K)));
    group.bench_function(format!("nn_descent/n={n}"), |b| {
        b.iter(|| nn_descent(black_box(x.view()), K, &opts))
    });
    group.finish();
}

criterion_group!(benches, bench_knn);
criterion_main!(benches);
