//! Integrated gradients: completeness on a trained model, and the baseline's role.

use ssne_saliency::{Attribution, Baseline, Groups, InputTimesGradient, IntegratedGradients, Target, centres};
use ssne_tensor::ndarray::Array2;

use crate::common::{N_TRAIN, mnist, tiny};

/// Asserts `|Σ attributions − ΔF| ≤ 1 % |ΔF|` for every point.
fn assert_complete(out: &ssne_saliency::IntegratedMaps) {
    for (point_idx, (delta, change)) in out.delta.iter().zip(&out.change).enumerate() {
        let sum: f64 = out.maps.row(point_idx).iter().map(|&a| f64::from(a)).sum();
        assert!(
            (sum - change - delta).abs() <= 1e-9 * change.abs().max(1.0),
            "delta is Σ − ΔF"
        );
        assert!(
            delta.abs() <= 0.01 * change.abs(),
            "point {point_idx}: delta {delta} for a change of {change}"
        );
    }
}

#[test]
fn completeness_of_directional_maps_between_all_centres() {
    // The 90 directional maps a -> b at a's input-space centre, in one batch.
    let networks = tiny();
    let data = mnist(N_TRAIN);
    let groups = Groups::from_labels(data.labels.as_deref().unwrap());
    let centres = centres(networks.map, data.features.view(), &groups).unwrap();
    let pairs: Vec<(usize, usize)> = (0..10)
        .flat_map(|a| (0..10).filter(move |&b| b != a).map(move |b| (a, b)))
        .collect();
    let x = Array2::from_shape_fn((pairs.len(), 784), |(p, j)| centres[pairs[p].0].input[j]);
    let dirs = Array2::from_shape_fn((pairs.len(), 2), |(p, d)| {
        let (a, b) = pairs[p];
        centres[b].embedding[d] - centres[a].embedding[d]
    });
    let target = Target::Direction(dirs);
    // 128 steps: the default map has three ReLU layers, whose kinks along the path make the
    // midpoint rule's error at 64 steps reach 0.0057 of Σ|attributions| (at most 0.0039 at 128).
    let ig = IntegratedGradients::new(Baseline::Zeros, 128).unwrap();
    let out = ig.attribute_with_delta(networks, x.view(), &target).unwrap();
    let mut rel_to_change = 0.0;
    for (p, (delta, change)) in out.delta.iter().zip(&out.change).enumerate() {
        // The gradient of a ReLU network jumps wherever the path crosses a
        // unit's kink, so the midpoint rule's error shrinks as O(1/m) in
        // proportion to the size of the integral, Σ|attributions|; when the
        // change itself nearly cancels (a centre about as far along v as the
        // black image), relative to the change it can be large.
        let l1: f64 = out.maps.row(p).iter().map(|&a| f64::from(a.abs())).sum();
        assert!(
            delta.abs() <= 0.005 * l1,
            "pair {:?}: delta {delta}, Σ|a| {l1}",
            pairs[p]
        );
        rel_to_change += (delta / change).abs() / pairs.len() as f64;
    }
    assert!(rel_to_change <= 0.02, "mean |delta / change| = {rel_to_change}");
}

#[test]
fn completeness_holds_within_one_percent_for_classes() {
    let networks = tiny();
    let data = mnist(12);
    let ig = IntegratedGradients::new(Baseline::Zeros, 64).unwrap();
    let own = Target::Classes(data.labels.clone().unwrap());
    let out = ig.attribute_with_delta(networks, data.features.view(), &own).unwrap();
    assert_complete(&out);
    // The attributed quantity is the logit: its change from a black image.
    let change = own.score(networks, data.features.view()).unwrap()
        - own.score(networks, Array2::zeros((12, 784)).view()).unwrap();
    assert_eq!(out.change, change);
}

#[test]
fn a_baseline_equal_to_the_input_attributes_nothing() {
    let networks = tiny();
    let x = mnist(3).features;
    let ig = IntegratedGradients::new(Baseline::Points(x.clone()), 8).unwrap();
    let maps = ig.attribute(networks, x.view(), &Target::Class(4)).unwrap();
    assert!(maps.iter().all(|&a| a == 0.0));
}

#[test]
fn one_step_from_zero_is_input_times_gradient_at_half_the_input() {
    // With m = 1 the midpoint rule evaluates the gradient at x/2.
    let networks = tiny();
    let x = mnist(4).features;
    let ig = IntegratedGradients::new(Baseline::Zeros, 1).unwrap();
    let target = Target::unit_direction(&[1.0, 1.0]);
    let maps = ig.attribute(networks, x.view(), &target).unwrap();
    let half = x.mapv(|v| v * 0.5);
    let expected = InputTimesGradient.attribute(networks, half.view(), &target).unwrap() * 2.0;
    let diff = (&maps - &expected).mapv(f32::abs).fold(0.0_f32, |m, &v| m.max(v));
    assert!(
        diff <= 1e-6 * expected.iter().fold(1.0_f32, |m, v| m.max(v.abs())),
        "diff {diff}"
    );
}
