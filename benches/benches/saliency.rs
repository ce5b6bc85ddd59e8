//! Criterion benches of `ssne-saliency` on a freshly initialised default
//! network (784-100-10-2): directional maps for a batch of points, the
//! Jacobian of one point, the parts of a one-point call, and the faithfulness
//! metrics at the settings of `saliency --evaluate` (docs/SALIENCY.md).
//!
//! The speed targets (docs/QUALITY.md): `directional/batch=1000` at least
//! 450,000 maps/s, `jacobian/points=1` at most 20 µs, and
//! `integrated/steps=64/batch=1000` at most 0.2 s. Those run on dense random
//! pixels (no zero to skip, the worst case); the `-mnist` variants run on the
//! first 1000 digits of the bundled sample, whose rows are about 80% zeros, as
//! the maps of a user's images are.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::SeedableRng;
use ssne_autodiff::Tape;
use ssne_benches::{mnist_sample_pixels, random_matrix};
use ssne_model::{Network, NetworkOutput, Preset, TrainConfig, Trainable};
use ssne_saliency::faithfulness::{
    Order, Perturbation, deletion_curve, follow_map, infidelity, max_sensitivity, network_explainer, network_score,
};
use ssne_saliency::{Attribution, Gradient, IntegratedGradients, Networks, Output, Target, input_gradient, jacobian};
use ssne_tensor::ndarray::{Array2, s};
use std::hint::black_box;

const N_FEATURES: usize = 784;

fn network() -> Network {
    let spec = TrainConfig::preset(Preset::Default, 0).network_spec(N_FEATURES, 10);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    Network::init(spec, &mut rng).expect("the default spec is valid")
}

/// Pixel-like inputs in [0, 1).
fn points(n: usize) -> Array2<f32> {
    random_matrix::<f32>(n, N_FEATURES, 21).mapv(|v| 0.5 * (v + 1.0))
}

/// The direction of the integrated-gradients benches.
fn target_ig() -> Target {
    Target::unit_direction(&[0.6, 0.8])
}

fn bench_batches(c: &mut Criterion) {
    let net = network();
    let networks = Networks::new(&net).with_classifier(&net);
    let mut group = c.benchmark_group("saliency");
    for n_points in [100, 1000] {
        let x = points(n_points);
        let dirs = random_matrix::<f32>(n_points, 2, 22);
        let target = Target::Direction(dirs);
        group.throughput(Throughput::Elements(n_points as u64));
        group.bench_with_input(
            BenchmarkId::new("directional", format!("batch={n_points}")),
            &x,
            |b, x| b.iter(|| black_box(Gradient.attribute(networks, x.view(), &target).expect("valid shapes"))),
        );
        let classes = Target::Classes((0..n_points as u32).map(|i| i % 10).collect());
        group.bench_with_input(BenchmarkId::new("class", format!("batch={n_points}")), &x, |b, x| {
            b.iter(|| black_box(Gradient.attribute(networks, x.view(), &classes).expect("valid shapes")))
        });
    }
    // The same maps of real digits: the sparse first-layer product.
    let digits = mnist_sample_pixels(1000);
    let target = Target::Direction(random_matrix::<f32>(1000, 2, 22));
    group.throughput(Throughput::Elements(1000));
    group.bench_function("directional-mnist/batch=1000", |b| {
        b.iter(|| {
            black_box(
                Gradient
                    .attribute(networks, digits.view(), &target)
                    .expect("valid shapes"),
            )
        })
    });
    // The tape's product against the tape-free one that `Gradient` uses, on the same batch.
    let x = points(1000);
    let seed = random_matrix::<f32>(1000, 2, 23);
    group.throughput(Throughput::Elements(1000));
    group.bench_function("vjp-tape/batch=1000", |b| {
        let mut tape = Tape::<f32>::new();
        b.iter(|| {
            black_box(input_gradient(&mut tape, &net, x.view(), Output::Embedding, seed.view()).expect("valid shapes"))
        })
    });
    group.bench_function("vjp-tape-free/batch=1000", |b| {
        b.iter(|| {
            black_box(
                net.input_vjp(x.view(), NetworkOutput::Embedding, seed.view())
                    .expect("valid shapes"),
            )
        })
    });
    let x = points(1000);
    let ig = IntegratedGradients {
        steps: std::num::NonZeroUsize::new(64).expect("64 > 0"),
        ..IntegratedGradients::default()
    };
    group.throughput(Throughput::Elements(1000));
    group.sample_size(10);
    group.bench_function("integrated/steps=64/batch=1000", |b| {
        b.iter(|| black_box(ig.attribute(networks, x.view(), &target_ig()).expect("valid shapes")))
    });
    group.bench_function("integrated-mnist/steps=64/batch=1000", |b| {
        b.iter(|| {
            black_box(
                ig.attribute(networks, digits.view(), &target_ig())
                    .expect("valid shapes"),
            )
        })
    });
    let x = points(32);
    let ig = IntegratedGradients::default();
    let target = Target::unit_direction(&[0.6, 0.8]);
    group.throughput(Throughput::Elements(32));
    group.bench_function("integrated/steps=32/batch=32", |b| {
        b.iter(|| black_box(ig.attribute(networks, x.view(), &target).expect("valid shapes")))
    });
    group.finish();
}

fn bench_one_point(c: &mut Criterion) {
    let net = network();
    let x = points(1);
    let mut group = c.benchmark_group("saliency");
    group.bench_function("jacobian/points=1", |b| {
        b.iter(|| black_box(jacobian(&net, x.row(0)).expect("valid shapes")))
    });
    // The part of a one-point Jacobian that a tape "mark/rewind" would save:
    // binding copies the ~80K parameters into a fresh tape on every call.
    group.bench_function("bind/784-100-10-2", |b| {
        b.iter(|| {
            let mut tape = Tape::<f32>::new();
            let bound = net.bind(&mut tape, Trainable::None);
            black_box((tape, bound))
        })
    });
    let one = x.slice(s![0..1, ..]);
    group.bench_function("directional/batch=1", |b| {
        let target = Target::unit_direction(&[0.6, 0.8]);
        b.iter(|| {
            black_box(
                Gradient
                    .attribute(Networks::new(&net), one, &target)
                    .expect("valid shapes"),
            )
        })
    });
    group.finish();
}

/// The metrics of `saliency --evaluate` on 14 digits (the study's 14 directed
/// pairs, one point each), with its settings: 32 samples of Gaussian noise
/// (sigma 0.1) and of 4 x 4 squares for infidelity, 8 samples at radius 0.02
/// for max-sensitivity, 20 steps of deletion and insertion, a step of 0.01
/// along the map against 32 random directions.
fn bench_faithfulness(c: &mut Criterion) {
    let net = network();
    let networks = Networks::new(&net).with_classifier(&net);
    let x = mnist_sample_pixels(14);
    let target = target_ig();
    let score = network_score(networks, x.view(), &target).expect("a direction needs no groups");
    let explain = network_explainer(Gradient, networks, x.view(), &target).expect("a direction needs no groups");
    let maps = explain(x.view()).expect("valid shapes");
    let mut group = c.benchmark_group("faithfulness");
    group.throughput(Throughput::Elements(x.nrows() as u64));
    let gaussian = Perturbation::Gaussian { sigma: 0.1 };
    group.bench_function("infidelity/gaussian/samples=32/points=14", |b| {
        b.iter(|| black_box(infidelity(&score, x.view(), maps.view(), gaussian, 32, 0).expect("valid")))
    });
    let squares = Perturbation::Square {
        shape: [28, 28],
        side: 4,
        baseline: 0.0,
    };
    group.bench_function("infidelity/squares-4x4/samples=32/points=14", |b| {
        b.iter(|| black_box(infidelity(&score, x.view(), maps.view(), squares, 32, 0).expect("valid")))
    });
    group.bench_function("max-sensitivity/samples=8/points=14", |b| {
        b.iter(|| black_box(max_sensitivity(&explain, x.view(), 0.02, 8, 0).expect("valid")))
    });
    let black = Array2::<f32>::zeros((1, N_FEATURES));
    group.bench_function("deletion+insertion/steps=20/points=14", |b| {
        b.iter(|| {
            for i in 0..x.nrows() {
                for order in [Order::Deletion, Order::Insertion] {
                    let curve = deletion_curve(&score, x.row(i), maps.row(i), black.row(0), order, 20).expect("valid");
                    black_box(curve);
                }
            }
        })
    });
    group.bench_function("follow-map/samples=32/points=14", |b| {
        b.iter(|| black_box(follow_map(&score, x.view(), maps.view(), maps.view(), 0.01, 32, 0).expect("valid")))
    });
    group.finish();
}

criterion_group!(benches, bench_batches, bench_one_point, bench_faithfulness);
criterion_main!(benches);
