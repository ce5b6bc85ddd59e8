//! Measured runs of the kNN graph on a PCA-50 projection, exact against NN-descent:
//!
//! ```text
//! knn_scale <source> [--rows N] [--k K] [--mode exact|approx|both] [--repeats R]
//!           [--sample S] [--save-projection FILE.npy]
//!           [--trees T] [--iters I] [--candidates C] [--delta D]
//! ```
//!
//! `source` is an MNIST-style folder (its training split, e.g. `data/fashion-mnist`) or an NPY
//! file (e.g. from `cargo xtask make-large`); images are projected to PCA-50 as the pipeline's
//! `knn_space` does, unless the file already has 50 columns (a projection saved earlier with
//! `--save-projection`, so a later run's peak memory is the search's, not the images'). Prints
//! each search's time (the approximate one `--repeats` times, default 1, and their median) and
//! the recall: of the whole exact graph in `both` mode, and [`knn_recall`] (exact brute force)
//! on `--sample` evenly spaced rows (default 1000) in every approximate mode. `--trees`,
//! `--iters`, `--candidates` and `--delta` override [`NnDescentOptions::for_points`].

#![allow(clippy::print_stdout)]

use std::path::Path;
use std::time::Instant;

use ssne_affinity::{NnDescentOptions, knn, knn_recall, nn_descent_observed};
use ssne_data::mnist::{SplitName, load_dir};
use ssne_model::pca::Pca;
use ssne_tensor::ndarray::{Array2, s};

const USAGE: &str = "usage: knn_scale <fashion-mnist dir | file.npy> [--rows N] [--k K] \
                     [--mode exact|approx|both] [--repeats R] [--sample S] [--save-projection FILE.npy] \
                     [--trees T] [--iters I] [--candidates C] [--delta D]";

/// Components of the projection the searches run in (the pipeline's default `knn_space`).
const COMPONENTS: usize = 50;

struct Args {
    source: String,
    rows: Option<usize>,
    k: usize,
    mode: String,
    repeats: usize,
    sample: usize,
    save_projection: Option<String>,
    /// Overrides of [`NnDescentOptions::for_points`]: trees, iterations, candidates, delta.
    trees: Option<usize>,
    iters: Option<usize>,
    candidates: Option<usize>,
    delta: Option<f64>,
}

fn parse_args() -> Result<Args, Box<dyn std::error::Error>> {
    let mut it = std::env::args().skip(1);
    let source = it.next().ok_or(USAGE)?;
    let mut args = Args {
        source,
        rows: None,
        k: 90,
        mode: "both".to_owned(),
        repeats: 1,
        sample: 1000,
        save_projection: None,
        trees: None,
        iters: None,
        candidates: None,
        delta: None,
    };
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value; {USAGE}"))?;
        match flag.as_str() {
            "--rows" => args.rows = Some(value.parse()?),
            "--k" => args.k = value.parse()?,
            "--mode" if ["exact", "approx", "both"].contains(&value.as_str()) => args.mode = value,
            "--repeats" => args.repeats = value.parse::<usize>()?.max(1),
            "--sample" => args.sample = value.parse::<usize>()?.max(1),
            "--save-projection" => args.save_projection = Some(value),
            "--trees" => args.trees = Some(value.parse()?),
            "--iters" => args.iters = Some(value.parse()?),
            "--candidates" => args.candidates = Some(value.parse()?),
            "--delta" => args.delta = Some(value.parse()?),
            _ => return Err(format!("unknown flag or value {flag} {value}; {USAGE}").into()),
        }
    }
    Ok(args)
}

/// The rows to search, in PCA-50 space.
fn projected(args: &Args) -> Result<Array2<f32>, Box<dyn std::error::Error>> {
    let path = Path::new(&args.source);
    let mut x = if path.is_dir() {
        load_dir(path, SplitName::Train)?.features
    } else {
        ssne_data::npy::read_features(path)?
    };
    if let Some(rows) = args.rows {
        if rows > x.nrows() {
            return Err(format!("--rows {rows}: the source has {} rows", x.nrows()).into());
        }
        x = x.slice_move(s![..rows, ..]);
    }
    if x.ncols() == COMPONENTS {
        return Ok(x);
    }
    let started = Instant::now();
    let projected = Pca::fit(x.view(), COMPONENTS, 1)?.transform(x.view())?;
    println!(
        "PCA-{COMPONENTS} of {} x {}: {:.2} s",
        x.nrows(),
        x.ncols(),
        started.elapsed().as_secs_f64()
    );
    if let Some(out) = &args.save_projection {
        ssne_data::npy::write_f32(Path::new(out), &projected.view())?;
        println!("projection written to {out}");
    }
    Ok(projected)
}

/// User + system CPU seconds of this process so far (Linux `/proc/self/stat`, 100 ticks a
/// second), or NaN elsewhere: on a shared machine, a steadier figure than the wall time.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name (which is in parentheses and may hold spaces).
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => (user + system) / 100.0,
        _ => f64::NAN,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let projected = projected(&args)?;
    let x = projected.view();
    let (n, k) = (x.nrows(), args.k);
    println!("n = {n}, k = {k}, threads = {}", rayon::current_num_threads());
    let exact = (args.mode != "approx").then(|| {
        let started = Instant::now();
        let cpu = cpu_seconds();
        let exact = knn(x, k);
        println!(
            "exact: {:.2} s ({:.2} CPU s)",
            started.elapsed().as_secs_f64(),
            cpu_seconds() - cpu
        );
        exact
    });
    if args.mode == "exact" {
        return Ok(());
    }
    let exact = exact.transpose()?;
    let defaults = NnDescentOptions::for_points(n, 1);
    let opts = NnDescentOptions {
        n_trees: args.trees.unwrap_or(defaults.n_trees),
        n_iters: args.iters.unwrap_or(defaults.n_iters),
        max_candidates: args.candidates.unwrap_or(defaults.max_candidates),
        delta: args.delta.unwrap_or(defaults.delta),
        ..defaults
    };
    println!("{opts:?}");
    let mut times = Vec::new();
    let mut approx = None;
    for run in 0..args.repeats {
        let started = Instant::now();
        let cpu = cpu_seconds();
        let graph = nn_descent_observed(x, k, &opts, &mut |r| {
            if run == 0 {
                println!(
                    "  round {} changed {} at {:.2} s",
                    r.round,
                    r.changed,
                    started.elapsed().as_secs_f64()
                );
            }
        })?;
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "approx run {}: {seconds:.2} s ({:.2} CPU s)",
            run + 1,
            cpu_seconds() - cpu
        );
        times.push(seconds);
        approx = Some(graph);
    }
    let approx = approx.ok_or("no run")?;
    println!("approx median of {}: {:.2} s", times.len(), median(times));
    if let Some(exact) = exact {
        // Set recall of the whole exact graph (ties at the k-th distance aside).
        let mut hits = 0_usize;
        for (a, e) in approx.indices.rows().into_iter().zip(exact.indices.rows()) {
            hits += a.iter().filter(|j| e.iter().any(|i| i == *j)).count();
        }
        println!("recall of the exact graph: {:.4}", hits as f64 / (n * k) as f64);
    }
    let sample: Vec<usize> = (0..n).step_by((n / args.sample).max(1)).take(args.sample).collect();
    let started = Instant::now();
    let recall = knn_recall(x, &approx, &sample)?;
    println!(
        "knn_recall on {} rows: {recall:.4} ({:.2} s)",
        sample.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
