//! Faithfulness metrics on a linear model, where the exact attribution is known.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ssne_saliency::Result;
use ssne_saliency::faithfulness::{Order, Perturbation, deletion_curve, infidelity};
use ssne_tensor::ndarray::{Array1, Array2, ArrayView2};

fn linear(w: &[f32]) -> impl Fn(ArrayView2<'_, f32>) -> Result<Array1<f64>> + '_ {
    move |z: ArrayView2<'_, f32>| {
        Ok(Array1::from_shape_fn(z.nrows(), |i| {
            z.row(i).iter().zip(w).map(|(&a, &b)| a as f64 * b as f64).sum()
        }))
    }
}

fn weights(d: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..d).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

#[test]
fn infidelity_of_the_exact_attribution_of_a_linear_model_is_zero() {
    let w = weights(16, 3);
    let score = linear(&w);
    let x = Array2::from_shape_fn((5, 16), |(i, j)| ((i * 16 + j) % 7) as f32 / 7.0);
    let exact = Array2::from_shape_fn((5, 16), |(_, j)| w[j]);
    let wrong = Array2::from_shape_fn((5, 16), |(_, j)| w[(j + 1) % 16]);
    for p in [
        Perturbation::Gaussian { sigma: 0.3 },
        Perturbation::Square {
            shape: [4, 4],
            side: 2,
            baseline: 0.0,
        },
    ] {
        let exact_infd = infidelity(&score, x.view(), exact.view(), p, 32, 7).unwrap();
        let wrong_infd = infidelity(&score, x.view(), wrong.view(), p, 32, 7).unwrap();
        for (e, w) in exact_infd.iter().zip(&wrong_infd) {
            assert!(*e < 1e-10, "{p:?}: exact attribution has infidelity {e}");
            assert!(*w > 1e-3, "{p:?}: a shuffled attribution has infidelity {w}");
        }
    }
}

#[test]
fn infidelity_is_the_same_for_the_same_seed_and_changes_with_it() {
    let w = weights(9, 1);
    let score = linear(&w);
    let x = Array2::<f32>::ones((3, 9));
    let phi = Array2::<f32>::zeros((3, 9));
    let p = Perturbation::Gaussian { sigma: 0.5 };
    let a = infidelity(&score, x.view(), phi.view(), p, 8, 11).unwrap();
    let b = infidelity(&score, x.view(), phi.view(), p, 8, 11).unwrap();
    let c = infidelity(&score, x.view(), phi.view(), p, 8, 12).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    // One point alone draws the same perturbations as the first point of the batch.
    let first = infidelity(
        &score,
        x.slice(ssne_tensor::ndarray::s![0..1, ..]),
        phi.slice(ssne_tensor::ndarray::s![0..1, ..]),
        p,
        8,
        11,
    )
    .unwrap();
    assert_eq!(first[0], a[0]);
}

#[test]
fn deletion_in_the_order_of_the_true_weights_beats_random_orders() {
    let d = 64;
    let w: Vec<f32> = weights(d, 5).iter().map(|v| v.abs()).collect();
    let score = linear(&w);
    let x = Array1::<f32>::ones(d);
    let baseline = Array1::<f32>::zeros(d);
    let truth = Array1::from(w.clone());
    let best = deletion_curve(&score, x.view(), truth.view(), baseline.view(), Order::Deletion, 16).unwrap();
    let best_ins = deletion_curve(&score, x.view(), truth.view(), baseline.view(), Order::Insertion, 16).unwrap();
    assert_eq!(best.scores.len(), 17);
    let full: f64 = w.iter().map(|&v| v as f64).sum();
    assert!((best.scores[0] - full).abs() < 1e-9 && best.scores[16].abs() < 1e-9);
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for _ in 0..20 {
        let random = Array1::from_shape_fn(d, |_| rng.random::<f32>());
        let del = deletion_curve(&score, x.view(), random.view(), baseline.view(), Order::Deletion, 16).unwrap();
        let ins = deletion_curve(&score, x.view(), random.view(), baseline.view(), Order::Insertion, 16).unwrap();
        assert!(
            best.area < del.area,
            "deletion area {} vs random {}",
            best.area,
            del.area
        );
        assert!(
            best_ins.area > ins.area,
            "insertion area {} vs random {}",
            best_ins.area,
            ins.area
        );
    }
}

#[test]
fn bad_settings_are_errors() {
    let w = weights(4, 0);
    let score = linear(&w);
    let x = Array2::<f32>::ones((1, 4));
    assert!(infidelity(&score, x.view(), x.view(), Perturbation::Gaussian { sigma: 0.1 }, 0, 0).is_err());
    assert!(
        infidelity(
            &score,
            x.view(),
            x.view(),
            Perturbation::Gaussian { sigma: f32::NAN },
            1,
            0
        )
        .is_err()
    );
    let sq = Perturbation::Square {
        shape: [2, 2],
        side: 3,
        baseline: 0.0,
    };
    assert!(infidelity(&score, x.view(), x.view(), sq, 1, 0).is_err());
    let row = x.row(0);
    assert!(deletion_curve(&score, row, row, row, Order::Deletion, 0).is_err());
}

#[test]
fn identical_models_agree_at_one_and_different_seeds_less() {
    use ssne_model::{Network, NetworkSpec};
    use ssne_saliency::faithfulness::agreement;
    use ssne_saliency::{Attribution, Gradient, Networks, Target};
    let net = |seed| Network::init(NetworkSpec::paper(12, 3), &mut ChaCha8Rng::seed_from_u64(seed)).unwrap();
    let (a, b) = (net(1), net(2));
    let x = Array2::from_shape_fn((4, 12), |(i, j)| ((i + 2 * j) % 5) as f32 / 5.0);
    let t = Target::unit_direction(&[1.0, 0.5]);
    let ma = Gradient.attribute(Networks::new(&a), x.view(), &t).unwrap();
    let ma2 = Gradient.attribute(Networks::new(&a), x.view(), &t).unwrap();
    let mb = Gradient.attribute(Networks::new(&b), x.view(), &t).unwrap();
    let same = agreement(&[ma.view(), ma2.view(), ma.view()]).unwrap();
    assert!(same.iter().all(|&r| (r - 1.0).abs() < 1e-9), "{same:?}");
    let diff = agreement(&[ma.view(), mb.view()]).unwrap();
    assert!(diff.iter().all(|&r| r < 0.99), "{diff:?}");
    assert!(agreement(&[ma.view()]).is_err());
}

#[test]
fn network_score_between_groups_is_the_displacement_along_v_from_infer() {
    use ssne_model::{Network, NetworkSpec};
    use ssne_saliency::faithfulness::network_score;
    use ssne_saliency::{Networks, Target};
    let net = Network::init(NetworkSpec::paper(12, 3), &mut ChaCha8Rng::seed_from_u64(4)).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let mut rand_rows = |n| Array2::from_shape_fn((n, 12), |_| rng.random_range(0.0f32..1.0));
    let (from, to, x, z) = (rand_rows(5), rand_rows(7), rand_rows(4), rand_rows(4));
    let target = Target::BetweenGroups {
        from: from.clone(),
        to: to.clone(),
    };
    let score = network_score(Networks::new(&net), x.view(), &target).unwrap();
    // By hand: v is the unit vector between the groups' mean positions in the map.
    let centre = |p: &Array2<f32>| {
        let (_, y) = net.infer(p.view()).unwrap();
        let n = y.nrows() as f64;
        [0, 1].map(|j| y.column(j).iter().map(|&v| v as f64).sum::<f64>() / n)
    };
    let (a, b) = (centre(&from), centre(&to));
    let norm = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
    assert!(norm > 1e-3, "the groups should sit apart in the map ({norm})");
    let v = [(b[0] - a[0]) / norm, (b[1] - a[1]) / norm];
    // The direction is fixed at `x`, so other inputs `z` are scored along the same v.
    for points in [&x, &z] {
        let (_, y) = net.infer(points.view()).unwrap();
        let got = score(points.view()).unwrap();
        for i in 0..points.nrows() {
            let want = v[0] * y[[i, 0]] as f64 + v[1] * y[[i, 1]] as f64;
            assert!(
                (got[i] - want).abs() <= 1e-5 * (1.0 + want.abs()),
                "row {i}: network_score {} vs v.Y {want}",
                got[i]
            );
        }
    }
    // Reversing the groups reverses the scalar.
    let reversed = network_score(
        Networks::new(&net),
        x.view(),
        &Target::BetweenGroups { from: to, to: from },
    )
    .unwrap();
    let (fwd, back) = (score(x.view()).unwrap(), reversed(x.view()).unwrap());
    for (f, r) in fwd.iter().zip(&back) {
        assert!((f + r).abs() <= 1e-5 * (1.0 + f.abs()), "{f} vs {r}");
    }
}

#[test]
fn max_sensitivity_is_zero_for_a_constant_map_and_follows_a_moving_one() {
    use ssne_saliency::faithfulness::max_sensitivity;
    let d = 16;
    let w = weights(d, 2);
    let x = Array2::from_shape_fn((4, d), |(i, j)| 0.5 + ((i * d + j) % 5) as f32 / 5.0);
    // The gradient of a linear model is its weights, wherever the input is.
    let gradient =
        |z: ArrayView2<'_, f32>| -> Result<Array2<f32>> { Ok(Array2::from_shape_fn(z.dim(), |(_, j)| w[j])) };
    let s = max_sensitivity(&gradient, x.view(), 0.1, 16, 3).unwrap();
    assert!(s.iter().all(|&v| v == 0.0), "{s:?}");
    // Its input x gradient z ⊙ w moves by δ ⊙ w: above 0, at most r‖w‖ / ‖x ⊙ w‖,
    // and proportional to the radius for the same seed.
    let times = |z: ArrayView2<'_, f32>| -> Result<Array2<f32>> {
        Ok(Array2::from_shape_fn(z.dim(), |(i, j)| z[[i, j]] * w[j]))
    };
    let small = max_sensitivity(&times, x.view(), 0.05, 16, 3).unwrap();
    let large = max_sensitivity(&times, x.view(), 0.1, 16, 3).unwrap();
    let w_norm = w.iter().map(|&v| (v as f64).powi(2)).sum::<f64>().sqrt();
    for i in 0..x.nrows() {
        let xw = x
            .row(i)
            .iter()
            .zip(&w)
            .map(|(&a, &b)| (a as f64 * b as f64).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!(
            large[i] > 0.0 && large[i] <= 0.1 * w_norm / xw + 1e-6,
            "{} vs bound {}",
            large[i],
            0.1 * w_norm / xw
        );
        assert!(
            (large[i] - 2.0 * small[i]).abs() < 1e-5 * large[i],
            "{} vs 2 x {}",
            large[i],
            small[i]
        );
    }
    // Seeded per point: the same seed gives the same values, alone or in a batch.
    assert_eq!(max_sensitivity(&times, x.view(), 0.1, 16, 3).unwrap(), large);
    assert_ne!(max_sensitivity(&times, x.view(), 0.1, 16, 4).unwrap(), large);
    let first = max_sensitivity(&times, x.slice(ssne_tensor::ndarray::s![0..1, ..]), 0.1, 16, 3).unwrap();
    assert_eq!(first[0], large[0]);
    // Bad settings and maps of the wrong shape are errors.
    assert!(max_sensitivity(&times, x.view(), 0.1, 0, 3).is_err());
    assert!(max_sensitivity(&times, x.view(), -0.1, 4, 3).is_err());
    assert!(max_sensitivity(&times, x.view(), f32::NAN, 4, 3).is_err());
    let narrow = |z: ArrayView2<'_, f32>| -> Result<Array2<f32>> { Ok(Array2::<f32>::zeros((z.nrows(), 1))) };
    assert!(matches!(
        max_sensitivity(&narrow, x.view(), 0.1, 4, 3),
        Err(ssne_saliency::SaliencyError::MapShape { .. })
    ));
}

#[test]
fn max_sensitivity_of_network_maps_through_network_explainer() {
    use ssne_model::{Network, NetworkSpec};
    use ssne_saliency::faithfulness::{max_sensitivity, network_explainer};
    use ssne_saliency::{Gradient, Networks, Target};
    let linear = crate::common::linear_network(&[12, 6, 3], 1.0, 5);
    let relu = Network::init(NetworkSpec::paper(12, 3), &mut ChaCha8Rng::seed_from_u64(6)).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let x = Array2::from_shape_fn((6, 12), |_| rng.random_range(0.0f32..1.0));
    let target = Target::BetweenGroups {
        from: x.slice(ssne_tensor::ndarray::s![0..3, ..]).to_owned(),
        to: x.slice(ssne_tensor::ndarray::s![3..6, ..]).to_owned(),
    };
    // A network without nonlinearity has one Jacobian everywhere: only rounding moves its map.
    let explain = network_explainer(Gradient, Networks::new(&linear), x.view(), &target).unwrap();
    let flat = max_sensitivity(&explain, x.view(), 0.2, 8, 0).unwrap();
    assert!(flat.iter().all(|&v| v < 1e-5), "{flat:?}");
    // ReLU units switching under a noise of 0.5 change the map.
    let explain = network_explainer(Gradient, Networks::new(&relu), x.view(), &target).unwrap();
    let bent = max_sensitivity(&explain, x.view(), 0.5, 8, 0).unwrap();
    assert!(bent.iter().all(|&v| v > 1e-3), "{bent:?}");
}

#[test]
fn following_the_true_gradient_of_a_linear_model_moves_epsilon_times_its_norm_and_beats_random() {
    use ssne_saliency::faithfulness::follow_map;
    let d = 64;
    let w = weights(d, 7);
    let score = linear(&w);
    let x = Array2::from_shape_fn((3, d), |(i, j)| ((i + j) % 9) as f32 / 9.0);
    let gradient = Array2::from_shape_fn((3, d), |(_, j)| w[j]);
    let shuffled = Array2::from_shape_fn((3, d), |(_, j)| w[(j * 7 + 3) % d]);
    let eps = 0.25;
    let w_norm = w.iter().map(|&v| (v as f64).powi(2)).sum::<f64>().sqrt();
    let exact = follow_map(&score, x.view(), gradient.view(), gradient.view(), eps, 64, 1).unwrap();
    let wrong = follow_map(&score, x.view(), shuffled.view(), gradient.view(), eps, 64, 1).unwrap();
    for i in 0..3 {
        let want = eps as f64 * w_norm;
        for got in [exact.along_map[i], exact.along_gradient[i], wrong.along_gradient[i]] {
            assert!((got - want).abs() < 1e-5 * want, "{got} vs eps ||w|| = {want}");
        }
        // A random unit direction moves a linear score by about ||w|| sqrt(2 / (pi d)) in size.
        assert!(
            exact.random_mean_abs[i] < 0.3 * exact.along_map[i],
            "random {} vs map {}",
            exact.random_mean_abs[i],
            exact.random_mean[i]
        );
        assert!(exact.random_mean[i].abs() < exact.random_mean_abs[i]);
        assert!(
            wrong.along_map[i] < 0.5 * exact.along_map[i],
            "{} vs {}",
            wrong.along_map[i],
            exact.along_map[i]
        );
    }
    // Seeded: same seed, same draws; another seed, others.
    let again = follow_map(&score, x.view(), gradient.view(), gradient.view(), eps, 64, 1).unwrap();
    assert_eq!(again, exact);
    let other = follow_map(&score, x.view(), gradient.view(), gradient.view(), eps, 64, 2).unwrap();
    assert_ne!(other.random_mean, exact.random_mean);
    // A zero map does not move; bad settings are errors.
    let zero = Array2::<f32>::zeros((3, d));
    let still = follow_map(&score, x.view(), zero.view(), gradient.view(), eps, 4, 1).unwrap();
    assert!(still.along_map.iter().all(|&v| v == 0.0));
    assert!(follow_map(&score, x.view(), gradient.view(), gradient.view(), 0.0, 4, 1).is_err());
    assert!(follow_map(&score, x.view(), gradient.view(), gradient.view(), eps, 0, 1).is_err());
    let narrow = Array2::<f32>::zeros((3, d - 1));
    assert!(follow_map(&score, x.view(), narrow.view(), gradient.view(), eps, 4, 1).is_err());
}

#[test]
fn following_a_network_map_moves_the_directional_target() {
    use ssne_model::{Network, NetworkSpec};
    use ssne_saliency::faithfulness::{follow_map, network_score};
    use ssne_saliency::{Attribution, Gradient, Networks, Target};
    let net = Network::init(NetworkSpec::paper(12, 3), &mut ChaCha8Rng::seed_from_u64(3)).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let x = Array2::from_shape_fn((6, 12), |_| rng.random_range(0.0f32..1.0));
    let target = Target::BetweenGroups {
        from: x.slice(ssne_tensor::ndarray::s![0..3, ..]).to_owned(),
        to: x.slice(ssne_tensor::ndarray::s![3..6, ..]).to_owned(),
    };
    let networks = Networks::new(&net);
    let score = network_score(networks, x.view(), &target).unwrap();
    let g = Gradient.attribute(networks, x.view(), &target).unwrap();
    let eps = 1e-3;
    let followed = follow_map(&score, x.view(), g.view(), g.view(), eps, 32, 0).unwrap();
    for i in 0..6 {
        let g_norm = g.row(i).iter().map(|&v| (v as f64).powi(2)).sum::<f64>().sqrt();
        let want = eps as f64 * g_norm;
        // First order, in f32 arithmetic: within 5% of eps ||g||.
        assert!(
            (followed.along_map[i] - want).abs() < 0.05 * want,
            "{} vs {want}",
            followed.along_map[i]
        );
        assert!(followed.random_mean_abs[i] < followed.along_map[i]);
    }
}
