//! Refined placement of new points: the gradient is right, zero steps change
//! nothing, and a copy of a training input lands next to it.

use proptest::prelude::*;
use ssne_model::refine::{RefineConfig, RefineReference, kl_row_and_gradient, map_spread, refine};
use ssne_model::{ParametricTsne, ReferenceSpace, Silent};
use ssne_tensor::ndarray::Array2;

use crate::{on_narrow_network, quick_config, sample};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn kl_row_gradient_matches_central_differences(
        map in proptest::collection::vec(-5.0f32..5.0, 2 * 12),
        y in (-6.0f64..6.0, -6.0f64..6.0),
        raw_p in proptest::collection::vec(0.0f64..1.0, 4),
        dof in prop_oneof![Just(1.0f64), 0.5f64..3.0],
    ) {
        let map = Array2::from_shape_vec((12, 2), map).expect("12 x 2");
        let total: f64 = raw_p.iter().sum::<f64>().max(1e-9);
        let neighbours: Vec<(usize, f64)> = raw_p.iter().enumerate().map(|(j, &p)| (j * 3, p / total)).collect();
        let repulsion: Vec<usize> = (0..12).collect();
        let f = |y: [f64; 2]| kl_row_and_gradient(y, &neighbours, map.view(), &repulsion, 1.0, dof).0;
        let (_, g) = kl_row_and_gradient([y.0, y.1], &neighbours, map.view(), &repulsion, 1.0, dof);
        let h = 1e-6;
        let fd = [
            (f([y.0 + h, y.1]) - f([y.0 - h, y.1])) / (2.0 * h),
            (f([y.0, y.1 + h]) - f([y.0, y.1 - h])) / (2.0 * h),
        ];
        for a in 0..2 {
            prop_assert!((g[a] - fd[a]).abs() <= 1e-6 + 1e-4 * g[a].abs().max(fd[a].abs()), "axis {a}: {} vs {}", g[a], fd[a]);
        }
    }
}

#[test]
fn zero_steps_return_the_network_output_bit_for_bit() {
    let model = ParametricTsne::fit(&sample(0..500), None, &quick_config(8), &mut Silent).expect("trains");
    let new = sample(500..560);
    let (start, refined) = model
        .embed_refined(new.features.view(), &model.refine_config(0))
        .expect("refines");
    assert_eq!(refined.positions, start);
    assert_eq!(refined.summary.mean_shift, 0.0);
}

/// Copies of the training rows `picks`, and a start for each at the centre of the map, so only
/// the refinement can bring it home. (Not far outside the map: there attraction and repulsion
/// cancel and the row's KL is flat.)
fn copies_at_the_centre(
    model: &ParametricTsne,
    train: &ssne_data::Dataset,
    picks: &[usize],
) -> (Array2<f32>, Array2<f32>) {
    let copies = Array2::from_shape_fn((picks.len(), train.n_features()), |(r, c)| {
        train.features[[picks[r], c]]
    });
    let centre = model
        .reference
        .embedding
        .mean_axis(ssne_tensor::ndarray::Axis(0))
        .expect("a non-empty map");
    let start = Array2::from_shape_fn((picks.len(), 2), |(_, a)| centre[a]);
    (copies, start)
}

#[test]
fn a_copy_of_a_training_input_lands_next_to_it() {
    let train = sample(0..800);
    // The raw reference: copies are searched among the training inputs themselves.
    let mut config = on_narrow_network(quick_config(9));
    config.reference_space = ReferenceSpace::Raw;
    let model = ParametricTsne::fit(&train, None, &config, &mut Silent).expect("trains");
    let picks = [3usize, 100, 444, 700];
    let (copies, start) = copies_at_the_centre(&model, &train, &picks);
    let inputs = model
        .reference
        .inputs
        .as_ref()
        .expect("the model keeps reference inputs");
    let reference = RefineReference {
        inputs: inputs.view(),
        map: model.reference.embedding.view(),
        labels: model.reference.labels.as_deref(),
    };
    let config = RefineConfig {
        steps: 200,
        step_fraction: 0.5,
        perplexity: 5.0,
        ..model.refine_config(200)
    };
    let refined = refine(reference, copies.view(), start.view(), &config).expect("refines");
    let spread = map_spread(model.reference.embedding.view());
    for (r, &i) in picks.iter().enumerate() {
        let target = model.reference.embedding.row(i);
        let d =
            (f64::from(refined.positions[[r, 0]] - target[0])).hypot(f64::from(refined.positions[[r, 1]] - target[1]));
        assert!(
            d < 0.25 * spread,
            "copy of row {i} landed {d} from its twin (map spread {spread})"
        );
    }
}

#[test]
fn refinement_is_identical_on_one_and_two_threads() {
    let model = ParametricTsne::fit(&sample(0..500), None, &quick_config(10), &mut Silent).expect("trains");
    let new = sample(500..600);
    let run = || {
        model
            .embed_refined(new.features.view(), &model.refine_config(10))
            .expect("refines")
            .1
    };
    let one = crate::on_threads(1, run);
    let two = crate::on_threads(2, run);
    assert_eq!(one, two);
    assert!(one.summary.mean_shift > 0.0);
    assert!(one.summary.label_change.is_some());
}

#[test]
fn a_pca_reference_refines_like_the_raw_one_and_lands_copies_on_their_twins() {
    let train = sample(0..800);
    let mut config = quick_config(11);
    config.reference_space = ReferenceSpace::Pca { components: 30 };
    let model = ParametricTsne::fit(&train, None, &config, &mut Silent).expect("trains");
    let pca = model.reference.projection.as_ref().expect("a PCA reference");
    assert_eq!(pca.n_components(), 30);
    assert_eq!(model.reference.inputs.as_ref().map(|x| x.dim()), Some((800, 30)));
    // Copies of training rows started at the map's centre come home: the query is
    // projected with the model's PCA, so a copy's projection equals its twin's.
    let picks = [5usize, 222, 640];
    let (copies, start) = copies_at_the_centre(&model, &train, &picks);
    let config = RefineConfig {
        steps: 200,
        step_fraction: 0.5,
        perplexity: 5.0,
        ..model.refine_config(200)
    };
    let refined = model
        .refine_from(copies.view(), start.view(), &config)
        .expect("refines");
    let spread = map_spread(model.reference.embedding.view());
    for (r, &i) in picks.iter().enumerate() {
        let target = model.reference.embedding.row(i);
        let d =
            (f64::from(refined.positions[[r, 0]] - target[0])).hypot(f64::from(refined.positions[[r, 1]] - target[1]));
        assert!(
            d < 0.25 * spread,
            "copy of row {i} landed {d} from its twin (spread {spread})"
        );
    }
    // New points: one and two threads agree, and the PCA and raw references place
    // them alike (both search neighbours among the same training rows).
    let new = sample(800..900);
    let run = |m: &ParametricTsne| {
        m.embed_refined(new.features.view(), &m.refine_config(10))
            .expect("refines")
            .1
    };
    let one = crate::on_threads(1, || run(&model));
    assert_eq!(one, crate::on_threads(2, || run(&model)));
    let mut raw = model.clone();
    raw.set_reference_inputs(train.features.view(), ReferenceSpace::Raw)
        .expect("keeps raw inputs");
    assert!(raw.reference.projection.is_none());
    assert_eq!(raw.config.reference_space, ReferenceSpace::Raw);
    let raw_refined = run(&raw);
    let mean_gap = one
        .positions
        .rows()
        .into_iter()
        .zip(raw_refined.positions.rows())
        .map(|(a, b)| f64::from(a[0] - b[0]).hypot(f64::from(a[1] - b[1])))
        .sum::<f64>()
        / 100.0;
    assert!(
        mean_gap < 0.1 * spread,
        "PCA and raw placements differ by {mean_gap} on average"
    );
}

#[test]
fn reference_inputs_are_checked() {
    let train = sample(0..300);
    let mut model = ParametricTsne::fit(&train, None, &quick_config(12), &mut Silent).expect("trains");
    let err = model
        .set_reference_inputs(
            train.features.slice(ssne_tensor::ndarray::s![..200, ..]),
            ReferenceSpace::Raw,
        )
        .expect_err("one row per map point");
    assert!(
        matches!(
            err,
            ssne_model::ModelError::CountMismatch {
                expected: 300,
                found: 200,
                ..
            }
        ),
        "{err}"
    );
    let err = model
        .set_reference_inputs(train.features.view(), ReferenceSpace::Pca { components: 0 })
        .expect_err("no components");
    assert!(matches!(err, ssne_model::ModelError::Config { .. }), "{err}");
    // As many components as features would save nothing: the raw inputs are kept.
    model
        .set_reference_inputs(train.features.view(), ReferenceSpace::Pca { components: 784 })
        .expect("keeps raw inputs");
    assert!(model.reference.projection.is_none());
    assert_eq!(model.reference.inputs.as_ref(), Some(&train.features));
    // A PCA with 0 components is refused before any training.
    let mut config = quick_config(12);
    config.reference_space = ReferenceSpace::Pca { components: 0 };
    assert!(ParametricTsne::fit(&train, None, &config, &mut Silent).is_err());
}

#[test]
fn shapes_that_do_not_fit_are_refused_before_any_work() {
    use ssne_model::ModelError;
    let inputs = Array2::<f32>::zeros((50, 4));
    let map = Array2::<f32>::zeros((50, 2));
    let labels = vec![0u32; 50];
    let queries = Array2::<f32>::zeros((3, 4));
    let start = Array2::<f32>::zeros((3, 2));
    let config = RefineConfig {
        perplexity: 5.0,
        ..RefineConfig::default()
    };
    let reference = RefineReference {
        inputs: inputs.view(),
        map: map.view(),
        labels: Some(&labels),
    };
    let mismatch =
        |r: RefineReference<'_>, q: &Array2<f32>, s: &Array2<f32>| match refine(r, q.view(), s.view(), &config) {
            Err(ModelError::CountMismatch { expected, found, .. }) => (expected, found),
            other => panic!("expected a count mismatch, got {other:?}"),
        };
    // The other reference parts fitting, with the queries and starts that fit.
    let with = |r: RefineReference<'_>| mismatch(r, &queries, &start);
    // More labels than reference points, and fewer.
    let long = vec![0u32; 51];
    let labels_long = RefineReference {
        labels: Some(&long),
        ..reference
    };
    assert_eq!(with(labels_long), (50, 51));
    let short = vec![0u32; 49];
    let labels_short = RefineReference {
        labels: Some(&short),
        ..reference
    };
    assert_eq!(with(labels_short), (50, 49));
    // Reference inputs and map positions of different counts.
    let fewer = Array2::<f32>::zeros((49, 4));
    let inputs_fewer = RefineReference {
        inputs: fewer.view(),
        ..reference
    };
    assert_eq!(with(inputs_fewer), (50, 49));
    // Start positions that do not match the queries.
    assert_eq!(mismatch(reference, &queries, &Array2::zeros((2, 2))), (3, 2));
    assert_eq!(mismatch(reference, &queries, &Array2::zeros((3, 3))), (2, 3));
    // A map that is not 2-D.
    let wide = Array2::<f32>::zeros((50, 3));
    let map_wide = RefineReference {
        map: wide.view(),
        ..reference
    };
    assert_eq!(with(map_wide), (2, 3));
    // An empty reference is refused before any work, not a panic in the k-NN clamp.
    let (no_inputs, no_map) = (Array2::<f32>::zeros((0, 4)), Array2::<f32>::zeros((0, 2)));
    let empty = RefineReference {
        inputs: no_inputs.view(),
        map: no_map.view(),
        labels: None,
    };
    assert!(matches!(
        refine(empty, queries.view(), start.view(), &config),
        Err(ModelError::TooFewPoints {
            needed: 1,
            found: 0,
            ..
        })
    ));
    // Queries of another width are a feature-count error.
    assert!(matches!(
        refine(reference, Array2::<f32>::zeros((3, 5)).view(), start.view(), &config),
        Err(ModelError::FeatureCount { expected: 4, found: 5 })
    ));
    // And the same shapes, fitting, refine.
    assert!(refine(reference, queries.view(), start.view(), &config).is_ok());
}
