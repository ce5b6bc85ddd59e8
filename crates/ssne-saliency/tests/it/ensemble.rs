//! Ensembles: agreement, means, and per-model directions.

use ssne_saliency::{Attribution, Ensemble, Gradient, Groups, Networks, Target, directional, directional_ensemble};

use crate::common::{N_TRAIN, max_abs, max_abs_diff, mnist, tiny, tiny_model};

#[test]
fn identical_models_agree_everywhere() {
    let networks = tiny();
    let ensemble = Ensemble::new(vec![networks; 3]).unwrap();
    let x = mnist(4).features;
    let target = Target::Class(2);
    let out = ensemble.attribute(&Gradient, x.view(), &target).unwrap();
    assert_eq!(out.n_models, 3);
    assert!(out.agreement.iter().all(|&a| a == 1.0));
    let single = Gradient.attribute(networks, x.view(), &target).unwrap();
    assert!(max_abs_diff(&out.mean, &single) <= 1e-6 * max_abs(&single));
}

#[test]
fn each_member_uses_the_direction_of_its_own_map() {
    let models = [tiny_model(1, true).clone(), tiny_model(2, true).clone()];
    let ensemble = Ensemble::from_models(&models).unwrap();
    let data = mnist(N_TRAIN);
    let groups = Groups::from_labels(data.labels.as_deref().unwrap());
    let out = directional_ensemble(&ensemble, data.features.view(), &groups, "4", "9", &Gradient).unwrap();
    assert_eq!(out.n_models, 2);
    let singles: Vec<_> = models
        .iter()
        .map(|m| directional(Networks::from(m), data.features.view(), &groups, "4", "9", &Gradient).unwrap())
        .collect();
    for (pixel, &mean) in out.mean.iter().enumerate() {
        let expected = (singles[0].map[pixel] + singles[1].map[pixel]) / 2.0;
        assert!(
            (mean - expected).abs() <= 1e-5 * expected.abs().max(1e-3),
            "pixel {pixel}"
        );
        let agree = singles.iter().filter(|s| sign(s.map[pixel]) == sign(mean)).count();
        assert_eq!(out.agreement[pixel], agree as f32 / 2.0, "pixel {pixel}");
    }
    // The two seeds learn different maps, so the directions differ.
    assert_ne!(singles[0].direction, singles[1].direction);
    assert_eq!(out.from_input, singles[0].from.input);
}

/// -1, 0 or 1 (`f32::signum` maps 0 to 1).
fn sign(v: f32) -> i8 {
    if v > 0.0 {
        1
    } else if v < 0.0 {
        -1
    } else {
        0
    }
}
