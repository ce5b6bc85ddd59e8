//! Networks without nonlinearity have constant Jacobians: products of their
//! weights. Saliency must reproduce them exactly (to f32 rounding).

use ssne_saliency::{Attribution, Gradient, Networks, Target, jacobian, jacobians};
use ssne_tensor::ndarray::{Array1, Array2, Axis, array};

use crate::common::{linear_network, max_abs, max_abs_diff, uniform};
use rand::SeedableRng;

/// `W1 W2 ... Wk` in f64, from the f32 weights.
fn weight_product(net: &ssne_model::Network) -> Array2<f64> {
    let mut product = net.layers[0].weight.mapv(f64::from);
    for layer in &net.layers[1..] {
        product = product.dot(&layer.weight.mapv(f64::from));
    }
    product
}

#[test]
fn class_saliency_of_a_linear_network_is_the_weight_column() {
    let net = linear_network(&[7, 5, 3], 1.0, 11);
    let networks = Networks::new(&net).with_classifier(&net);
    let x = uniform(4, 7, &mut rand_chacha::ChaCha8Rng::seed_from_u64(1));
    let product = weight_product(&net);
    for class in 0..3u32 {
        let maps = Gradient.attribute(networks, x.view(), &Target::Class(class)).unwrap();
        // dS_c/dx = (W1 W2)[:, c] for every point, whatever x is.
        let expected = product.column(class as usize).mapv(|v| v as f32);
        for row in maps.axis_iter(Axis(0)) {
            let diff = (&row - &expected).mapv(f32::abs).fold(0.0_f32, |m, &v| m.max(v));
            assert!(diff <= 1e-6, "class {class}: {row} vs {expected}");
        }
    }
}

#[test]
fn directional_saliency_of_a_linear_network_is_v_times_all_weights() {
    let scale = 2.5;
    let net = linear_network(&[7, 5, 3], scale, 12);
    let x = uniform(3, 7, &mut rand_chacha::ChaCha8Rng::seed_from_u64(2));
    // dY/dx = s (W1 W2 Wh)^T, so v^T dY/dx = s W1 W2 Wh v.
    let full = weight_product(&net).dot(&net.head.weight.mapv(f64::from)) * f64::from(scale);
    let v = [0.6_f32, -0.8];
    let expected: Array1<f32> = full.dot(&array![f64::from(v[0]), f64::from(v[1])]).mapv(|e| e as f32);
    let maps = Gradient
        .attribute(Networks::new(&net), x.view(), &Target::direction(&v))
        .unwrap();
    for row in maps.axis_iter(Axis(0)) {
        let diff = (&row - &expected).mapv(f32::abs).fold(0.0_f32, |m, &v| m.max(v));
        assert!(diff <= 1e-6, "{row} vs {expected}");
    }
    // The Jacobian is the same product, transposed.
    let jac = jacobian(&net, x.row(0)).unwrap();
    let expected_jac = full.t().mapv(|e| e as f32);
    assert!(max_abs_diff(&jac, &expected_jac) <= 1e-6, "{jac} vs {expected_jac}");
}

#[test]
fn batched_maps_equal_one_point_at_a_time() {
    let net = ssne_model::Network::init(
        ssne_model::TrainConfig::preset(ssne_model::Preset::Default, 0).network_spec(30, 4),
        &mut rand_chacha::ChaCha8Rng::seed_from_u64(5),
    )
    .unwrap();
    let x = uniform(9, 30, &mut rand_chacha::ChaCha8Rng::seed_from_u64(3));
    let dirs = uniform(9, 2, &mut rand_chacha::ChaCha8Rng::seed_from_u64(4));
    let networks = Networks::new(&net);
    let batch = Gradient
        .attribute(networks, x.view(), &Target::Direction(dirs.clone()))
        .unwrap();
    let jacs = jacobians(&net, x.view()).unwrap();
    for i in 0..9 {
        let one = Gradient
            .attribute(
                networks,
                x.slice(ssne_tensor::ndarray::s![i..i + 1, ..]),
                &Target::Direction(dirs.slice(ssne_tensor::ndarray::s![i..i + 1, ..]).to_owned()),
            )
            .unwrap();
        let row = batch.slice(ssne_tensor::ndarray::s![i..i + 1, ..]).to_owned();
        assert!(max_abs_diff(&one, &row) <= 1e-6 * max_abs(&row).max(1.0));
        // Directional saliency is v^T J: the Jacobian and the VJP agree.
        let via_jac = dirs.row(i).dot(&jacs.index_axis(Axis(0), i)).insert_axis(Axis(0));
        assert!(max_abs_diff(&via_jac, &row) <= 1e-5 * max_abs(&row).max(1.0));
    }
}
