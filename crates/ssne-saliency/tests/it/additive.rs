//! Exact additive attribution: on networks trained with the additive preset a
//! point's map position (and its class score) is the sum of its pixels'
//! contributions, with a remainder of f32 rounding only; other networks are
//! refused with a typed error.

use ssne_model::{HeadInput, ParametricTsne, Preset, Silent, TrainConfig};
use ssne_saliency::{
    Additive, Attribution, Groups, InputTimesGradient, Networks, SaliencyError, Target, additive_contributions,
};
use ssne_tensor::ndarray::{Array2, s};

use crate::common::{N_TRAIN, mnist, tiny, tiny_config, tiny_model};

/// A tiny additive model with `hidden` widths, the head reading `head_input`.
fn additive_model(hidden: &[usize], head_input: HeadInput, seed: u64) -> ParametricTsne {
    let mut config = TrainConfig {
        hidden_widths: hidden.to_vec(),
        head_input,
        ..TrainConfig::preset(Preset::Additive, seed)
    };
    let tiny = tiny_config(seed, true);
    config.pretrain = tiny.pretrain;
    config.finetune.scheme = tiny.finetune.scheme;
    ParametricTsne::fit(&mnist(N_TRAIN), None, &config, &mut Silent).expect("training works")
}

/// `|remainder| <= 1e-5 * sum |contributions|`: the rounding of summing
/// 784 f32 products, far below any real remainder (a bias of the size the
/// default preset trains would leave one of order 0.1 to 1).
fn assert_exact(contributions: &Array2<f32>, remainder: &[f64], what: &str) {
    for (i, (row, r)) in contributions.rows().into_iter().zip(remainder).enumerate() {
        let mass: f64 = row.iter().map(|&c| f64::from(c).abs()).sum();
        assert!(
            mass > 1e-3,
            "{what}, point {i}: the contributions are not trivial (mass {mass})"
        );
        assert!(
            r.abs() <= 1e-5 * mass,
            "{what}, point {i}: remainder {r} of a mass {mass}"
        );
    }
}

#[test]
fn trained_additive_models_split_the_map_position_exactly() {
    let data = mnist(N_TRAIN);
    let x = data.features.slice(s![..40, ..]);
    for (hidden, head_input) in [
        (&[100][..], HeadInput::Logits),
        (&[32, 16][..], HeadInput::Logits),
        (&[24][..], HeadInput::Hidden),
    ] {
        let model = additive_model(hidden, head_input, 3);
        assert!(model.network.spec.is_homogeneous() && model.network.is_homogeneous());
        let networks = Networks::from(&model);
        let position = model.embed(x).expect("embedding works");
        for (axis, v) in [[1.0, 0.0], [0.0, 1.0]].iter().enumerate() {
            let what = format!("{hidden:?} {head_input:?}, map axis {axis}");
            let split = additive_contributions(networks, x, &Target::unit_direction(v)).expect("additive");
            assert_exact(
                &split.contributions,
                split.remainder.as_slice().expect("contiguous"),
                &what,
            );
            // The score split is the point's map coordinate itself.
            for (score, y) in split.score.iter().zip(position.column(axis)) {
                assert!(
                    (score - f64::from(*y)).abs() <= 1e-5 * f64::from(y.abs()).max(1.0),
                    "{what}"
                );
            }
        }
        // Between two clusters, and for the bias-free pretrained classifier's class scores.
        let labels = data.labels.as_deref().expect("labelled");
        let groups = Groups::from_labels(&labels[..N_TRAIN]);
        let target = Target::BetweenGroups {
            from: groups.points(data.features.view(), "4").expect("group 4"),
            to: groups.points(data.features.view(), "9").expect("group 9"),
        };
        let split = additive_contributions(networks, x, &target).expect("additive");
        assert_exact(
            &split.contributions,
            split.remainder.as_slice().expect("contiguous"),
            "4 -> 9",
        );
        let split = additive_contributions(networks, x, &Target::Class(7)).expect("the classifier is additive too");
        assert_exact(
            &split.contributions,
            split.remainder.as_slice().expect("contiguous"),
            "class 7",
        );
        // The method is input x gradient, refusing nothing here.
        let maps = Additive.attribute(networks, x, &Target::Class(7)).expect("additive");
        assert_eq!(
            maps,
            InputTimesGradient
                .attribute(networks, x, &Target::Class(7))
                .expect("ixg")
        );
    }
}

#[test]
fn a_network_with_biases_or_tanh_is_refused_with_a_typed_error() {
    let x = mnist(8).features;
    let refusal = |networks: Networks<'_>| {
        let err = Additive
            .attribute(networks, x.view(), &Target::unit_direction(&[1.0, 0.0]))
            .expect_err("a map with biases is not additive");
        match &err {
            SaliencyError::NotAdditive {
                network,
                biases,
                activations,
            } => (*network, *biases, activations.clone(), err.to_string()),
            other => panic!("expected NotAdditive, got {other:?}"),
        }
    };
    // The default preset's map: ReLU layers and a linear head, but trained biases.
    let (network, biases, activations, message) = refusal(tiny());
    assert_eq!((network, biases, activations.as_slice()), ("map", true, &[][..]));
    assert!(
        message.contains("non-zero biases (") && message.contains("additive preset"),
        "{message}"
    );
    // Tanh on the head's input (the narrow network's) is named as well.
    let mut tanh = tiny_model(1, true).clone();
    tanh.network.spec.feature_activation = ssne_model::Activation::Tanh;
    let (network, biases, activations, message) = refusal(Networks::from(&tanh));
    assert_eq!((network, biases, activations.as_slice()), ("map", true, &["tanh"][..]));
    assert!(message.contains("non-zero biases and tanh activations"), "{message}");
    // The default preset's classifier has ReLU and identity logits, but trained biases.
    let err = additive_contributions(tiny(), x.view(), &Target::Class(1)).expect_err("biases");
    assert!(
        matches!(&err, SaliencyError::NotAdditive { network: "classifier", biases: true, activations } if activations.is_empty()),
        "{err:?}"
    );
}
