//! Affinities of three Gaussian-ish blobs: dense P of a mini-batch, sparse P of
//! the whole set, and new points placed against it.
//!
//! Run with `cargo run --release -p ssne-affinity --example blobs`.

// An example reports to its user on stdout; the library itself never prints.
#![allow(clippy::print_stdout)]

use ssne_affinity::{AffinityError, Perplexity, SearchOptions, conditional_knn, joint_dense, joint_knn, knn_between};
use ssne_tensor::ndarray::Array2;

/// `n` points in `dim` dimensions around three centres, from a fixed integer hash
/// (no RNG needed for a reproducible example).
fn blobs(n: usize, dim: usize, salt: usize) -> (Array2<f64>, Vec<usize>) {
    let labels: Vec<usize> = (0..n).map(|i| i % 3).collect();
    let x = Array2::from_shape_fn((n, dim), |(i, j)| {
        let h = (i * 2_654_435_761 + j * 40_503 + salt * 97) % 10_007;
        let noise = h as f64 / 10_007.0 - 0.5;
        let centre = if j == labels[i] { 4.0 } else { 0.0 };
        centre + noise
    });
    (x, labels)
}

fn main() -> Result<(), AffinityError> {
    let (x, labels) = blobs(600, 5, 0);
    let perplexity = Perplexity::new(30.0)?;
    let opts = SearchOptions::default();

    // Dense P of one mini-batch of 200 points.
    let batch = x.slice(ssne_tensor::ndarray::s![..200, ..]);
    let dense = joint_dense(batch, perplexity, &opts)?;
    let same_blob: f64 = dense
        .p
        .indexed_iter()
        .filter(|((i, j), _)| labels[*i] == labels[*j])
        .map(|(_, &p)| p)
        .sum();
    println!(
        "dense P, 200 points: mass within blobs {same_blob:.4}, sigma in [{:.3}, {:.3}], {} rows unconverged",
        dense.sigma().iter().copied().fold(f64::INFINITY, f64::min),
        dense.sigma().iter().copied().fold(0.0, f64::max),
        dense.unconverged.len()
    );

    // Sparse P of all 600 points over their 90 nearest neighbours.
    let sparse = joint_knn(x.view(), perplexity, &opts)?;
    println!(
        "sparse P, 600 points: {} non-zeros ({:.1} per row), {} rows unconverged",
        sparse.nnz(),
        sparse.nnz() as f64 / 600.0,
        sparse.unconverged.len()
    );
    let block = sparse.submatrix(&(0..200).collect::<Vec<_>>())?;
    println!(
        "  its block on the first 200 points holds {:.4} of the mass",
        block.sum()
    );

    // Five new points placed against the data set.
    let (new, new_labels) = blobs(5, 5, 1);
    let nn = knn_between(new.view(), x.view(), 90)?;
    let cond = conditional_knn(&nn, perplexity, &opts)?;
    for (i, row) in cond.p.outer_iter().enumerate() {
        let same: f64 = row
            .iter()
            .zip(cond.indices.row(i))
            .filter(|&(_, &j)| labels[j as usize] == new_labels[i])
            .map(|(&p, _)| p)
            .sum();
        println!(
            "new point {i} (blob {}): perplexity {:.3}, {:.3} of its mass on its own blob",
            new_labels[i], cond.perplexity_reached[i], same
        );
    }
    Ok(())
}
