//! Directional saliency against central finite differences of `v · Y`, with
//! the model's own forward pass run in f64.

use rand::SeedableRng;
use rand::seq::index::sample;
use rand_chacha::ChaCha8Rng;
use ssne_autodiff::Tape;
use ssne_model::{Network, Trainable};
use ssne_saliency::{Attribution, Gradient, Output, Target, input_gradient};
use ssne_tensor::ndarray::{Array2, ArrayView2, array};

use crate::common::{max_abs, max_abs_diff, mnist, tiny};

/// `v · Y(x)` of one row, in f64.
fn projected(network: &Network, x: ArrayView2<'_, f64>, v: [f64; 2]) -> f64 {
    let mut tape = Tape::<f64>::new();
    let bound = network.bind(&mut tape, Trainable::None);
    let x = tape.constant_from(x);
    let forward = network.forward_on(&mut tape, &bound, x).unwrap();
    let y = tape.value(forward.embedding).unwrap();
    v[0] * y[[0, 0]] + v[1] * y[[0, 1]]
}

/// Checks sampled pixels of `vᵀ ∂Y/∂x` at `x` (one row) against central differences.
fn check_pixels(network: &Network, x: &Array2<f64>, v: [f64; 2], n_pixels: usize, seed: u64) {
    let seed_row = array![[v[0], v[1]]];
    let grad = input_gradient(
        &mut Tape::<f64>::new(),
        network,
        x.view(),
        Output::Embedding,
        seed_row.view(),
    )
    .unwrap();
    let n_features = x.ncols();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for pixel in sample(&mut rng, n_features, n_pixels) {
        // gradcheck's step: 1e-6 relative, at least 1e-6.
        let h = 1e-6 * x[[0, pixel]].abs().max(1.0);
        let (mut plus, mut minus) = (x.clone(), x.clone());
        plus[[0, pixel]] += h;
        minus[[0, pixel]] -= h;
        let fd = (projected(network, plus.view(), v) - projected(network, minus.view(), v)) / (2.0 * h);
        let tape = grad[[0, pixel]];
        assert!(
            (tape - fd).abs() <= 1e-5 + 1e-3 * tape.abs().max(fd.abs()),
            "pixel {pixel}: tape {tape}, finite differences {fd}"
        );
    }
}

#[test]
fn directional_saliency_matches_finite_differences_on_a_trained_map() {
    let networks = tiny();
    let data = mnist(40);
    for (point_idx, v) in [(3, [0.6, 0.8]), (17, [-1.0, 0.0]), (29, [0.28, -0.96])] {
        let x = data
            .features
            .slice(ssne_tensor::ndarray::s![point_idx..point_idx + 1, ..])
            .mapv(f64::from);
        check_pixels(networks.map, &x, v, 120, point_idx as u64);
    }
}

#[test]
fn directional_saliency_matches_finite_differences_on_a_fresh_network() {
    let spec = ssne_model::TrainConfig::preset(ssne_model::Preset::Paper, 0).network_spec(50, 6);
    let network = Network::init(spec, &mut ChaCha8Rng::seed_from_u64(9)).unwrap();
    let x = Array2::from_shape_fn((1, 50), |(_, j)| ((j * 37) % 11) as f64 / 10.0 - 0.3);
    check_pixels(&network, &x, [0.8, -0.6], 50, 1);
}

#[test]
fn the_f32_maps_agree_with_the_f64_engine() {
    let networks = tiny();
    let x = mnist(8).features;
    let dirs = Array2::from_shape_fn((8, 2), |(i, j)| if (i + j) % 2 == 0 { 0.6 } else { -0.8 });
    let maps32 = Gradient
        .attribute(networks, x.view(), &Target::Direction(dirs.clone()))
        .unwrap();
    let maps64 = input_gradient(
        &mut Tape::<f64>::new(),
        networks.map,
        x.mapv(f64::from).view(),
        Output::Embedding,
        dirs.mapv(f64::from).view(),
    )
    .unwrap()
    .mapv(|v| v as f32);
    assert!(
        max_abs_diff(&maps32, &maps64) <= 1e-4 * max_abs(&maps64),
        "f32 and f64 maps differ"
    );
}

/// A model trained on its PCA-40 input projection (wide, the head on the last hidden layer):
/// its directional maps reach the pixels through the projection and match finite differences
/// of the f64 forward pass; its class maps (the pretrained classifier, projected too) are the
/// tape's, and a pixel held constant in training gets exactly zero.
#[test]
fn saliency_of_a_model_on_an_input_projection_matches_finite_differences() {
    let mut config = crate::common::tiny_config(3, true);
    config.input_pca = Some(40);
    config.hidden_widths = vec![64, 64];
    config.head_input = ssne_model::HeadInput::Hidden;
    config.feature_activation = ssne_model::Activation::Identity;
    let data = mnist(300);
    let model = ssne_model::ParametricTsne::fit(&data, None, &config, &mut ssne_model::Silent).expect("trains");
    let classifier = model.classifier.as_ref().expect("labelled data pretrains a classifier");
    assert!(model.network.input_projection.is_some() && classifier.input_projection.is_some());
    for (point_idx, v) in [(5, [0.6, 0.8]), (11, [-0.28, 0.96])] {
        let x = data
            .features
            .slice(ssne_tensor::ndarray::s![point_idx..point_idx + 1, ..])
            .mapv(f64::from);
        check_pixels(&model.network, &x, v, 120, point_idx as u64);
    }
    let networks = ssne_saliency::Networks::from(&model);
    let x = data.features.slice(ssne_tensor::ndarray::s![..6, ..]).to_owned();
    let labels = data.labels.as_deref().expect("labelled")[..6].to_vec();
    let fast = Gradient
        .attribute(networks, x.view(), &Target::Classes(labels.clone()))
        .expect("class maps");
    let mut seed = Array2::<f64>::zeros((6, classifier.spec.n_outputs()));
    for (row, &label) in labels.iter().enumerate() {
        seed[[row, label as usize]] = 1.0;
    }
    let reference = input_gradient(
        &mut Tape::<f64>::new(),
        classifier,
        x.mapv(f64::from).view(),
        Output::Logits,
        seed.view(),
    )
    .expect("the tape's class maps")
    .mapv(|v| v as f32);
    assert!(max_abs(&reference) > 0.0);
    assert!(
        max_abs_diff(&fast, &reference) <= 1e-4 * max_abs(&reference),
        "class maps differ from the tape's"
    );
    let mask = model
        .network
        .input_mask
        .as_ref()
        .expect("the default prunes constant inputs");
    let constant = mask
        .iter()
        .position(|&keep| !keep)
        .expect("MNIST has constant border pixels");
    assert!(
        fast.column(constant).iter().all(|&v| v == 0.0),
        "a constant pixel has saliency"
    );
}
