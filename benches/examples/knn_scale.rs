//! One measured run of the kNN graph on Fashion-MNIST's PCA-50 projection, exact
//! against NN-descent: `knn_scale <fashion-mnist dir> <n> [k] [exact|approx|both]`.
//! Prints the time of each search and the approximate graph's recall of the exact one.

#![allow(clippy::print_stdout)]

use std::path::Path;
use std::time::Instant;

use ssne_affinity::{NnDescentOptions, knn, knn_recall, nn_descent_observed};
use ssne_data::mnist::{SplitName, load_dir};
use ssne_model::pca::Pca;
use ssne_tensor::ndarray::s;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dir = args
        .get(1)
        .ok_or("usage: knn_scale <fashion-mnist dir> <n> [k] [exact|approx|both]")?;
    let n: usize = args.get(2).map_or(Ok(10_000), |s| s.parse())?;
    let k: usize = args.get(3).map_or(Ok(90), |s| s.parse())?;
    let what = args.get(4).map_or("both", String::as_str);
    let data = load_dir(Path::new(dir), SplitName::Train)?;
    let x = data.features.slice(s![..n, ..]);
    let started = Instant::now();
    let projected = Pca::fit(x, 50, 1)?.transform(x)?;
    println!("n = {n}, k = {k}: PCA-50 {:.2} s", started.elapsed().as_secs_f64());
    let x = projected.view();
    let exact = (what != "approx").then(|| {
        let started = Instant::now();
        let exact = knn(x, k);
        println!("exact: {:.2} s", started.elapsed().as_secs_f64());
        exact
    });
    if what == "exact" {
        return Ok(());
    }
    let opts = NnDescentOptions::for_points(n, 1);
    let started = Instant::now();
    let approx = nn_descent_observed(x, k, &opts, &mut |r| {
        println!(
            "  round {} changed {} at {:.2} s",
            r.round,
            r.changed,
            started.elapsed().as_secs_f64()
        );
    })?;
    println!("approx: {:.2} s ({opts:?})", started.elapsed().as_secs_f64());
    if let Some(exact) = exact {
        let exact = exact?;
        // Set recall of the whole exact graph (ties at the k-th distance aside).
        let mut hits = 0_usize;
        for (a, e) in approx.indices.rows().into_iter().zip(exact.indices.rows()) {
            hits += a.iter().filter(|j| e.iter().any(|i| i == *j)).count();
        }
        println!("recall of the exact graph: {:.4}", hits as f64 / (n * k) as f64);
    }
    let sample: Vec<usize> = (0..n).step_by((n / 1000).max(1)).collect();
    println!(
        "knn_recall on {} rows: {:.4}",
        sample.len(),
        knn_recall(x, &approx, &sample)?
    );
    Ok(())
}
