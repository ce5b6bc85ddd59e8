//! Criterion benches of `ssne-model`: a pretraining epoch, fine-tuning epochs, embedding
//! throughput, and refined placement of new points (the kNN search measured apart).
//!
//! Refinement is measured against the model's default reference (PCA-50 of the
//! training inputs) by parts (projection, kNN search, total) and as a whole
//! (`refine_from`); the kNN search in the raw 784 pixels is measured beside it.
//!
//! One fine-tuning epoch of the paper's scheme is the difference between the medians of
//! `finetune/fixed-batches/epochs=6` and `epochs=1` divided by 5: both include the same
//! per-batch affinities, which are computed once per run.
//!
//! One coupled fine-tuning step (500 edges of the global kNN graph, in-batch normaliser) is
//! derived the same way, for each network shape, from `finetune/coupled/n=8000/edges=500/SHAPE`
//! at `steps=50` and `steps=250`: (median at 250 - median at 50) / 200. Every run computes the
//! same global P first (exact kNN of the 8000 raw rows, perplexity 15), which the difference
//! cancels. The shapes (all with `Preset::Default`'s fine-tuning and no input mask, as the
//! older `coupled/n=8000/steps=100/edges=500` on the default network):
//!
//! - `narrow-784-100-10-logits`: `Preset::Additive`'s spec, 784-100-10 ReLU with the linear
//!   2-D head on the 10 logits (no biases, output scale 1);
//! - `wide-784-100-100-100-hidden`: `Preset::Default`'s spec, three ReLU layers of 100 with the
//!   linear head on the last one (the classifier reads a fourth layer, 100-10; output scale 10);
//! - `wide-pca100-100-100-100-hidden`: the same with `input_pca = Some(100)`, the fixed
//!   PCA-100 projection the large-data rule sets (`Setting::InputPca(100)`), fitted outside the
//!   timed loop on the 8000 rows with `Pca::fit` and built as `ParametricTsne::fit` builds it
//!   (`Dense::pca_projection`, centred since the network has biases, `Network::init_projected`).
//!
//! The rows carry no image shape, so the default's one-pixel shifts are off: the figures are the
//! network's step. A run takes one to two seconds, so these benches sample flat (each of the ten
//! samples one run; criterion's automatic mode falls back to it for runs this long anyway).

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use ssne_data::Dataset;
use ssne_model::pca::Pca;
use ssne_model::refine::{RefineReference, refine};
use ssne_model::{
    Dense, FinetuneConfig, FinetuneReport, FinetuneRngs, Labelled, Network, ParametricTsne, Preset, Scheme, Silent,
    TrainConfig, TrainingPoints, finetune, pretrain,
};
use std::hint::black_box;

fn sample() -> Dataset {
    ssne_data::bundled::mnist_sample().expect("the bundled sample loads")
}

fn rng(seed: u64) -> rand_chacha::ChaCha8Rng {
    use rand::SeedableRng;
    rand_chacha::ChaCha8Rng::seed_from_u64(seed)
}

/// One fine-tuning run of a copy of `start` on `data`'s rows (unlabelled, no image shape), the
/// global P computed inside, with fixed seeds: what every `finetune` bench times.
fn finetune_from(start: &Network, data: &Dataset, ft: &FinetuneConfig) -> FinetuneReport {
    let mut net = start.clone();
    let points = TrainingPoints {
        x: data.features.view().into(),
        labels: None,
        image_shape: None,
    };
    finetune(&mut net, points, ft, &mut FinetuneRngs::from_seed(3), &mut Silent).expect("trains")
}

fn bench_training(c: &mut Criterion) {
    let data = sample().rows(0..8000).expect("rows");
    let labels = data.labels.clone().expect("labelled");
    let config = TrainConfig::preset(Preset::Paper, 1);
    let spec = config.network_spec(784, 10);
    let mut group = c.benchmark_group("pretrain");
    group.sample_size(10);
    group.bench_function("epoch/n=8000/batch=128", |b| {
        let mut pre = config.pretrain.clone();
        pre.epochs = 1;
        b.iter(|| {
            let mut net = Network::init(spec.clone(), &mut rng(1)).expect("valid spec");
            let set = Labelled {
                x: data.features.view().into(),
                labels: &labels,
            };
            pretrain(&mut net, set, None, &pre, &mut rng(2), &mut Silent).expect("trains")
        })
    });
    group.finish();

    let mut group = c.benchmark_group("finetune");
    group.sample_size(10);
    let start = Network::init(spec.clone(), &mut rng(1)).expect("valid spec");
    for epochs in [1usize, 6] {
        let mut ft = config.finetune.clone();
        ft.scheme = Scheme::FixedBatches { epochs };
        group.bench_with_input(
            BenchmarkId::new("fixed-batches/n=8000/batch=1000", format!("epochs={epochs}")),
            &ft,
            |b, ft| b.iter(|| finetune_from(&start, &data, ft)),
        );
    }
    let mut ft = TrainConfig::preset(Preset::Default, 1).finetune;
    ft.scheme = Scheme::Coupled {
        steps: 100,
        edges_per_step: 500,
    };
    let default_spec = TrainConfig::preset(Preset::Default, 1).network_spec(784, 10);
    let start = Network::init(default_spec, &mut rng(1)).expect("valid spec");
    group.bench_function("coupled/n=8000/steps=100/edges=500", |b| {
        b.iter(|| finetune_from(&start, &data, &ft))
    });

    group.sampling_mode(SamplingMode::Flat);
    for (shape, start) in finetune_shapes(&data) {
        for steps in [50usize, 250] {
            let mut ft = ft.clone();
            ft.scheme = Scheme::Coupled {
                steps,
                edges_per_step: 500,
            };
            group.bench_with_input(
                BenchmarkId::new(format!("coupled/n=8000/edges=500/{shape}"), format!("steps={steps}")),
                &ft,
                |b, ft| b.iter(|| finetune_from(&start, &data, ft)),
            );
        }
    }
    group.finish();
}

/// The three network shapes of the coupled per-step benches (the module doc says what each is),
/// freshly initialised with the same seed.
fn finetune_shapes(data: &Dataset) -> [(&'static str, Network); 3] {
    let narrow = TrainConfig::preset(Preset::Additive, 1).network_spec(784, 10);
    let mut wide = TrainConfig::preset(Preset::Default, 1);
    let wide_spec = wide.network_spec(784, 10);
    wide.input_pca = Some(100);
    let projected_spec = wide.network_spec(784, 10);
    let pca = Pca::fit(data.features.view(), 100, 1).expect("PCA-100 of the 8000 rows");
    let projection = Dense::pca_projection(&pca, None, projected_spec.biases);
    [
        (
            "narrow-784-100-10-logits",
            Network::init(narrow, &mut rng(1)).expect("valid spec"),
        ),
        (
            "wide-784-100-100-100-hidden",
            Network::init(wide_spec, &mut rng(1)).expect("valid spec"),
        ),
        (
            "wide-pca100-100-100-100-hidden",
            Network::init_projected(projected_spec, projection, &mut rng(1)).expect("valid projection"),
        ),
    ]
}

fn trained_model(train: &Dataset) -> ParametricTsne {
    let mut config = TrainConfig::preset(Preset::Default, 1);
    config.pretrain.epochs = 3;
    config.finetune.scheme = Scheme::Coupled {
        steps: 500,
        edges_per_step: 500,
    };
    ParametricTsne::fit(train, None, &config, &mut Silent).expect("trains")
}

fn bench_use(c: &mut Criterion) {
    let all = sample();
    let train = all.rows(0..8000).expect("rows");
    let test = all.rows(8000..10000).expect("rows");
    let model = trained_model(&train);

    let mut group = c.benchmark_group("embed");
    let many = ssne_tensor::ndarray::concatenate(
        ssne_tensor::ndarray::Axis(0),
        &[
            all.features.view(),
            all.features.view(),
            all.features.view(),
            all.features.view(),
            all.features.view(),
        ],
    )
    .expect("same widths");
    group.throughput(Throughput::Elements(many.nrows() as u64));
    group.bench_function("points=50000", |b| {
        b.iter(|| model.embed(black_box(many.view())).expect("embeds"))
    });
    group.finish();

    let mut group = c.benchmark_group("refine");
    group.sample_size(10);
    let inputs = model.reference.inputs.as_ref().expect("kept");
    let start = model.embed(test.features.view()).expect("embeds");
    // The queries in the reference's space (the default keeps a PCA-50 projection).
    let project = |x: ssne_tensor::ndarray::ArrayView2<'_, f32>| match &model.reference.projection {
        Some(pca) => pca.transform(x).expect("projects"),
        None => x.to_owned(),
    };
    let queries = project(test.features.view());
    let width = inputs.ncols();
    let steps = 50;
    let config = model.refine_config(steps);
    // The neighbours refinement searches: 3 x its perplexity.
    let k = (3.0 * config.perplexity) as usize;
    group.throughput(Throughput::Elements(test.n_points() as u64));
    group.bench_function(format!("project/queries=2000/components={width}"), |b| {
        b.iter(|| project(black_box(test.features.view())))
    });
    group.bench_function(format!("knn/queries=2000/reference=8000/dims={width}/k={k}"), |b| {
        b.iter(|| ssne_affinity::knn_between(queries.view(), inputs.view(), k).expect("valid k"))
    });
    group.bench_function(format!("knn/queries=2000/reference=8000/dims=784/k={k}"), |b| {
        b.iter(|| ssne_affinity::knn_between(test.features.view(), train.features.view(), k).expect("valid k"))
    });
    // Refinement steps cost (total - knn) / 2000 per point.
    let reference = RefineReference {
        inputs: inputs.view(),
        map: model.reference.embedding.view(),
        labels: None,
    };
    group.bench_function(
        format!("total/queries=2000/reference=8000/dims={width}/steps={steps}"),
        |b| b.iter(|| refine(reference, queries.view(), start.view(), &config).expect("refines")),
    );
    // What a user calls: projection, search, affinities and steps.
    group.bench_function(format!("refine_from/queries=2000/reference=8000/steps={steps}"), |b| {
        b.iter(|| {
            model
                .refine_from(test.features.view(), start.view(), &config)
                .expect("refines")
        })
    });
    group.finish();
}

/// Reading a training batch (2000 random rows, a coupled step's) row by row as training does
/// (`FeatureRows::copy_row`, the body of ssne-model's `gather_rows`), from `f32` rows and from
/// the `u8` codes of the same 10,000 images: the price of a table look-up per value.
fn bench_gather(c: &mut Criterion) {
    use rand::Rng;
    use ssne_data::{ByteDecoding, ByteFeatures, FeatureRows};
    let data = sample();
    let codes = ByteFeatures::new(
        data.features.mapv(|v| (v * 255.0).round() as u8),
        ByteDecoding::UnitInterval,
    );
    let mut draw = rng(3);
    let indices: Vec<usize> = (0..2000).map(|_| draw.random_range(0..data.n_points())).collect();
    let mut out = vec![0.0_f32; indices.len() * data.n_features()];
    let mut group = c.benchmark_group("gather");
    group.throughput(Throughput::Elements(indices.len() as u64));
    for (name, rows) in [
        ("f32", FeatureRows::F32(data.features.view())),
        ("u8", FeatureRows::Bytes(&codes)),
    ] {
        group.bench_function(BenchmarkId::new(name, "rows=2000"), |b| {
            b.iter(|| {
                for (row, &i) in out.chunks_mut(784).zip(&indices) {
                    rows.copy_row(i, row).expect("in range");
                }
                black_box(&out);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_training, bench_use, bench_gather);
criterion_main!(benches);
