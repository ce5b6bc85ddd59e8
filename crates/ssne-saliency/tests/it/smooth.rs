//! SmoothGrad: composition, the zero-noise limit, and its noise.

use ssne_saliency::{Absolute, Attribution, Baseline, Gradient, IntegratedGradients, NoiseRange, SmoothGrad, Target};

use crate::common::{max_abs, max_abs_diff, mnist, tiny};

#[test]
fn zero_noise_gives_the_plain_map() {
    let networks = tiny();
    let x = mnist(5).features;
    for target in [Target::Class(3), Target::unit_direction(&[0.0, 1.0])] {
        let plain = Gradient.attribute(networks, x.view(), &target).unwrap();
        let smooth = SmoothGrad::new(Gradient, 7, 0.0, 1)
            .unwrap()
            .attribute(networks, x.view(), &target)
            .unwrap();
        assert!(max_abs_diff(&plain, &smooth) <= 1e-6 * max_abs(&plain), "{target:?}");
    }
}

#[test]
fn zero_noise_composes_over_integrated_gradients() {
    let networks = tiny();
    let x = mnist(2).features;
    let ig = IntegratedGradients::new(Baseline::Zeros, 8).unwrap();
    let target = Target::Class(1);
    let plain = ig.attribute(networks, x.view(), &target).unwrap();
    let smooth = SmoothGrad::new(ig, 3, 0.0, 1)
        .unwrap()
        .attribute(networks, x.view(), &target)
        .unwrap();
    assert!(max_abs_diff(&plain, &smooth) <= 1e-6 * max_abs(&plain));
}

#[test]
fn noise_changes_the_map_and_the_seed_fixes_it() {
    let networks = tiny();
    let x = mnist(3).features;
    let target = Target::Class(0);
    let smooth = SmoothGrad::new(Gradient, 8, 0.15, 42)
        .unwrap()
        .with_range(NoiseRange::Fixed { min: 0.0, max: 1.0 });
    let a = smooth.attribute(networks, x.view(), &target).unwrap();
    let b = smooth.attribute(networks, x.view(), &target).unwrap();
    assert_eq!(a, b, "same seed, same bits");
    let other = SmoothGrad {
        seed: 43,
        ..smooth.clone()
    }
    .attribute(networks, x.view(), &target)
    .unwrap();
    assert_ne!(a, other);
    let plain = Gradient.attribute(networks, x.view(), &target).unwrap();
    assert_ne!(a, plain);
}

#[test]
fn smoothing_magnitudes_is_not_the_magnitude_of_the_smoothed_map() {
    let networks = tiny();
    let x = mnist(2).features;
    let target = Target::unit_direction(&[1.0, 0.0]);
    let mean_of_abs = SmoothGrad::new(Absolute(Gradient), 8, 0.2, 5)
        .unwrap()
        .attribute(networks, x.view(), &target)
        .unwrap();
    let abs_of_mean = Absolute(SmoothGrad::new(Gradient, 8, 0.2, 5).unwrap())
        .attribute(networks, x.view(), &target)
        .unwrap();
    // |mean| <= mean |.| pixel by pixel (triangle inequality), strictly somewhere.
    assert!(
        abs_of_mean
            .iter()
            .zip(&mean_of_abs)
            .all(|(a, m)| *a <= m + 1e-6 * m.abs().max(1e-6))
    );
    assert!(abs_of_mean.iter().zip(&mean_of_abs).any(|(a, m)| *a < *m));
}

#[test]
fn each_point_keeps_its_own_target_inside_the_wrapper() {
    let networks = tiny();
    let x = mnist(4).features;
    let per_row = Target::Classes(vec![1, 2, 3, 4]);
    let smooth = SmoothGrad::new(Gradient, 3, 0.0, 0).unwrap();
    let maps = smooth.attribute(networks, x.view(), &per_row).unwrap();
    for (i, class) in [1u32, 2, 3, 4].into_iter().enumerate() {
        let one = Gradient
            .attribute(
                networks,
                x.slice(ssne_tensor::ndarray::s![i..i + 1, ..]),
                &Target::Class(class),
            )
            .unwrap();
        let row = maps.slice(ssne_tensor::ndarray::s![i..i + 1, ..]).to_owned();
        assert!(max_abs_diff(&one, &row) <= 1e-6 * max_abs(&one));
    }
}
