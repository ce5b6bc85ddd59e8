//! The input mask: gradient maps of a network trained without it put their
//! energy on never-lit pixels; with it, none. Input-weighted methods are
//! blind to those pixels either way.

use ssne_saliency::{
    Attribution, Baseline, Gradient, Groups, InputTimesGradient, IntegratedGradients, Networks, Target,
    constant_inputs, directional, energy_share,
};
use ssne_tensor::ndarray::{Array2, Axis, s};

use crate::common::{N_TRAIN, mnist, tiny_model};

/// Class maps of 20 points (own labels) and the 0 -> 1 .. 8 -> 9 directional maps.
fn gradient_maps(networks: Networks<'_>) -> (Array2<f32>, Array2<f32>) {
    let data = mnist(N_TRAIN);
    let labels = data.labels.as_deref().unwrap();
    let x = data.features.slice(s![0..20, ..]);
    let class = Gradient
        .attribute(networks, x, &Target::Classes(labels[..20].to_vec()))
        .unwrap();
    let groups = Groups::from_labels(labels);
    let rows: Vec<_> = (0..9)
        .map(|d| {
            let map = directional(
                networks,
                data.features.view(),
                &groups,
                &d.to_string(),
                &(d + 1).to_string(),
                &Gradient,
            );
            map.unwrap().map
        })
        .collect();
    let views: Vec<_> = rows.iter().map(|r| r.view().insert_axis(Axis(0))).collect();
    (class, ssne_tensor::ndarray::concatenate(Axis(0), &views).unwrap())
}

#[test]
fn the_mask_removes_all_energy_from_never_lit_pixels() {
    let never_lit = constant_inputs(mnist(N_TRAIN).features.view());
    assert!(never_lit.iter().filter(|&&c| c).count() > 50, "MNIST has a dark border");
    let (class_raw, dir_raw) = gradient_maps(Networks::from(tiny_model(1, false)));
    let (class_masked, dir_masked) = gradient_maps(Networks::from(tiny_model(1, true)));
    // Without the mask the untrained weights of dark pixels carry a large
    // share of the maps (about 19 % and 15 % for this tiny model; 203 of its
    // 784 pixels are never lit in 600 digits).
    assert!(energy_share(class_raw.view(), &never_lit).unwrap() > 0.1);
    assert!(energy_share(dir_raw.view(), &never_lit).unwrap() > 0.1);
    // With it, their weights are zero, so are their gradients.
    assert_eq!(energy_share(class_masked.view(), &never_lit).unwrap(), 0.0);
    assert_eq!(energy_share(dir_masked.view(), &never_lit).unwrap(), 0.0);
}

#[test]
fn input_weighted_maps_ignore_never_lit_pixels_even_without_the_mask() {
    let data = mnist(N_TRAIN);
    let never_lit = constant_inputs(data.features.view());
    let networks = Networks::from(tiny_model(1, false));
    let x = data.features.slice(s![0..10, ..]);
    let target = Target::Classes(data.labels.as_deref().unwrap()[..10].to_vec());
    // Those pixels are 0 in every training point, and so is the baseline.
    let ixg = InputTimesGradient.attribute(networks, x, &target).unwrap();
    let ig = IntegratedGradients::new(Baseline::Zeros, 16)
        .unwrap()
        .attribute(networks, x, &target)
        .unwrap();
    assert_eq!(energy_share(ixg.view(), &never_lit).unwrap(), 0.0);
    assert_eq!(energy_share(ig.view(), &never_lit).unwrap(), 0.0);
    assert!(ig.iter().any(|&a| a != 0.0));
}
