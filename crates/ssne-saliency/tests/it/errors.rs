//! Every typed error a caller can provoke, asserted as an `Err` variant.

use ssne_saliency::picture::{Layout, Panel, grid, heatmap};
use ssne_saliency::{
    Attribution, Baseline, Gradient, Groups, IntegratedGradients, Networks, SaliencyError, Target, centre, directional,
    jacobian,
};
use ssne_tensor::ndarray::{Array1, Array2};

use crate::common::linear_network;

#[test]
fn wrong_feature_count() {
    let net = linear_network(&[6, 4, 3], 1.0, 1);
    let x = Array2::<f32>::zeros((2, 5));
    let err = Gradient.attribute(Networks::new(&net), x.view(), &Target::direction(&[1.0, 0.0]));
    assert!(
        matches!(err, Err(SaliencyError::FeatureCount { expected: 6, found: 5 })),
        "{err:?}"
    );
    assert!(matches!(
        jacobian(&net, Array1::zeros(7).view()),
        Err(SaliencyError::FeatureCount { expected: 6, found: 7 })
    ));
    let far = Target::TowardPoints(Array2::zeros((1, 3)));
    let err = Gradient.attribute(Networks::new(&net), Array2::zeros((1, 6)).view(), &far);
    assert!(
        matches!(err, Err(SaliencyError::FeatureCount { expected: 6, found: 3 })),
        "{err:?}"
    );
}

#[test]
fn class_out_of_range_and_missing_classifier() {
    let net = linear_network(&[6, 4, 3], 1.0, 1);
    let x = Array2::<f32>::zeros((2, 6));
    let with = Networks::new(&net).with_classifier(&net);
    let err = Gradient.attribute(with, x.view(), &Target::Class(3));
    assert!(
        matches!(err, Err(SaliencyError::ClassOutOfRange { class: 3, n_classes: 3 })),
        "{err:?}"
    );
    let err = Gradient.attribute(with, x.view(), &Target::Classes(vec![0, 7]));
    assert!(
        matches!(err, Err(SaliencyError::ClassOutOfRange { class: 7, n_classes: 3 })),
        "{err:?}"
    );
    let err = Gradient.attribute(Networks::new(&net), x.view(), &Target::Class(0));
    assert!(matches!(err, Err(SaliencyError::NoClassifier)), "{err:?}");
}

#[test]
fn per_row_targets_of_the_wrong_length() {
    let net = linear_network(&[6, 4, 3], 1.0, 1);
    let networks = Networks::new(&net).with_classifier(&net);
    let x = Array2::<f32>::zeros((3, 6));
    let err = Gradient.attribute(networks, x.view(), &Target::Classes(vec![0, 1]));
    assert!(
        matches!(
            err,
            Err(SaliencyError::TargetRows {
                found: 2,
                n_points: 3,
                ..
            })
        ),
        "{err:?}"
    );
    let err = Gradient.attribute(networks, x.view(), &Target::Direction(Array2::zeros((2, 2))));
    assert!(
        matches!(
            err,
            Err(SaliencyError::TargetRows {
                found: 2,
                n_points: 3,
                ..
            })
        ),
        "{err:?}"
    );
    let err = Gradient.attribute(networks, x.view(), &Target::direction(&[1.0, 0.0, 0.0]));
    assert!(
        matches!(err, Err(SaliencyError::DirectionWidth { expected: 2, found: 3 })),
        "{err:?}"
    );
    let ig = IntegratedGradients::new(Baseline::Points(Array2::zeros((2, 6))), 4).unwrap();
    let err = ig.attribute(networks, x.view(), &Target::Class(0));
    assert!(
        matches!(
            err,
            Err(SaliencyError::BaselineShape {
                found: [2, 6],
                n_points: 3,
                n_features: 6
            })
        ),
        "{err:?}"
    );
}

#[test]
fn unknown_and_empty_groups() {
    let net = linear_network(&[6, 4, 3], 1.0, 1);
    let data = Array2::<f32>::ones((4, 6));
    let groups = Groups::new(vec![
        ("a".into(), vec![0, 1]),
        ("b".into(), vec![2, 3]),
        ("none".into(), vec![]),
    ])
    .unwrap();
    let err = directional(Networks::new(&net), data.view(), &groups, "a", "c", &Gradient);
    assert!(
        matches!(&err, Err(SaliencyError::UnknownGroup { name, known }) if name == "c" && known.len() == 3),
        "{err:?}"
    );
    let err = directional(Networks::new(&net), data.view(), &groups, "none", "a", &Gradient);
    assert!(
        matches!(&err, Err(SaliencyError::EmptyGroup { name }) if name == "none"),
        "{err:?}"
    );
    let err = centre(
        &net,
        data.view(),
        &Groups::new(vec![("x".into(), vec![4])]).unwrap(),
        "x",
    );
    assert!(
        matches!(
            err,
            Err(SaliencyError::PointOutOfRange {
                index: 4,
                n_points: 4,
                ..
            })
        ),
        "{err:?}"
    );
    let err = Gradient.attribute(
        Networks::new(&net),
        data.view(),
        &Target::TowardGroup(Array2::zeros((0, 6))),
    );
    assert!(matches!(err, Err(SaliencyError::EmptyGroup { .. })), "{err:?}");
}

#[test]
fn image_shape_that_does_not_match_the_features() {
    let map = Array1::<f32>::zeros(784);
    let err = heatmap(map.view(), [28, 27], 4, None, &Default::default());
    assert!(
        matches!(
            err,
            Err(SaliencyError::ImageShape {
                shape: [28, 27],
                n_values: 784
            })
        ),
        "{err:?}"
    );
    let err = grid(&[Panel::heatmap("m", map.view())], &Layout::new([27, 29]));
    assert!(
        matches!(
            err,
            Err(SaliencyError::ImageShape {
                shape: [27, 29],
                n_values: 784
            })
        ),
        "{err:?}"
    );
    let err = grid(
        &[Panel::heatmap("m", map.view())],
        &Layout {
            scale: 40_000,
            ..Layout::new([28, 28])
        },
    );
    assert!(matches!(err, Err(SaliencyError::PictureSize { .. })), "{err:?}");
}

#[test]
fn errors_read_well() {
    let err = SaliencyError::UnknownGroup {
        name: "11".into(),
        known: vec!["0".into(), "1".into()],
    };
    assert_eq!(err.to_string(), r#"unknown group "11"; the groups are ["0", "1"]"#);
    let err = SaliencyError::ImageShape {
        shape: [28, 27],
        n_values: 784,
    };
    assert_eq!(
        err.to_string(),
        "image shape [28, 27] has 756 pixels, but the map has 784 values"
    );
}
