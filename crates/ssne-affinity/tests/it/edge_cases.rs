//! Inputs at the edges: duplicates, far points, constant data, two points, and
//! every invalid input as a typed error.

use ssne_affinity::{
    AffinityError, Knn, Perplexity, SearchOptions, conditional_dense, conditional_knn, joint_dense, joint_knn,
    joint_knn_with_k, knn, knn_between,
};
use ssne_tensor::ndarray::{Array2, array};

fn perplexity(value: f64) -> Perplexity {
    Perplexity::new(value).unwrap()
}

fn opts() -> SearchOptions {
    SearchOptions::default()
}

fn assert_finite_distribution(p: &Array2<f64>) {
    assert!(p.iter().all(|v| v.is_finite() && *v >= 0.0), "{p}");
    assert!((p.sum() - 1.0).abs() < 1e-12);
}

#[test]
fn duplicates_reach_the_perplexity_when_it_is_reachable() {
    // Five copies of the origin plus five spread points: the copies' rows have
    // 4 neighbours at distance 0, so any perplexity above 4 is reachable.
    let mut x = Array2::<f64>::zeros((10, 2));
    for i in 5..10 {
        x[[i, 0]] = i as f64;
        x[[i, 1]] = (i * i) as f64 * 0.1;
    }
    let joint = joint_dense(x.view(), perplexity(6.0), &opts()).unwrap();
    assert!(joint.unconverged.is_empty(), "{:?}", joint.unconverged);
    assert_finite_distribution(&joint.p);
    let sparse = joint_knn_with_k(x.view(), 9, perplexity(6.0), &opts()).unwrap();
    assert!(sparse.unconverged.is_empty());
}

#[test]
fn duplicates_below_the_perplexity_are_reported_not_nan() {
    // The copies of the origin cannot get below perplexity 4 (their 4 twins
    // are tied at distance 0): they spread over the twins and are reported.
    let mut x = Array2::<f64>::zeros((10, 2));
    for i in 5..10 {
        x[[i, 0]] = i as f64;
    }
    let joint = joint_dense(x.view(), perplexity(2.0), &opts()).unwrap();
    assert_eq!(joint.unconverged, vec![0, 1, 2, 3, 4]);
    assert_finite_distribution(&joint.p);
    for i in 0..5 {
        assert_eq!(joint.beta[i], f64::INFINITY);
        assert_eq!(joint.sigma()[i], 0.0);
        assert!((joint.perplexity_reached[i] - 4.0).abs() < 1e-12);
    }
    let cond = conditional_dense(ssne_tensor::sq_dists(x.view()).view(), perplexity(2.0), &opts()).unwrap();
    assert_eq!(
        cond.p.row(0).to_vec(),
        vec![0.0, 0.25, 0.25, 0.25, 0.25, 0.0, 0.0, 0.0, 0.0, 0.0]
    );
    let sparse = joint_knn(x.view(), perplexity(2.0), &opts()).unwrap();
    assert_eq!(sparse.unconverged, vec![0, 1, 2, 3, 4]);
    assert!(sparse.csr().values().iter().all(|v| v.is_finite() && *v > 0.0));
}

#[test]
fn a_point_far_from_all_others() {
    let mut x = crate::random_points(30, 3, 5);
    x.row_mut(29).fill(1e6);
    let joint = joint_dense(x.view(), perplexity(5.0), &opts()).unwrap();
    assert!(joint.unconverged.is_empty(), "{:?}", joint.unconverged);
    assert_finite_distribution(&joint.p);
    // Its own row still spreads over perplexity-many neighbours...
    assert!((joint.perplexity_reached[29] - 5.0).abs() < 1e-3);
    // ... while the others give it nothing: its joint row is its own
    // conditional row alone, (1 + sum_j p(29|j)) / (2n) = 1 / 60.
    assert!((joint.p.row(29).sum() - 1.0 / 60.0).abs() < 1e-12);
    let sparse = joint_knn(x.view(), perplexity(5.0), &opts()).unwrap();
    assert!(sparse.unconverged.is_empty());

    // At 1e100 the squared distances (~3e200) carry no information about the
    // spread of the other points: the far point's distances are all equal in
    // f64, its row is uniform and reported, and nothing is NaN.
    x.row_mut(29).fill(1e100);
    let joint = joint_dense(x.view(), perplexity(5.0), &opts()).unwrap();
    assert_eq!(joint.unconverged, vec![29]);
    assert_finite_distribution(&joint.p);
    assert!((joint.perplexity_reached[29] - 29.0).abs() < 1e-9);
    let sparse = joint_knn(x.view(), perplexity(5.0), &opts()).unwrap();
    assert_eq!(sparse.unconverged, vec![29]);
    assert!(sparse.csr().values().iter().all(|v| v.is_finite()));

    // In f32 a moderately far point is fine too.
    let mut x = crate::random_points(30, 3, 5).mapv(|v| v as f32);
    x.row_mut(29).fill(1e4);
    let joint = joint_dense(x.view(), perplexity(5.0), &opts()).unwrap();
    let total: f64 = joint.p.iter().map(|&v| f64::from(v)).sum();
    assert!((total - 1.0).abs() < 1e-5);
    assert!(joint.p.iter().all(|v| v.is_finite()));
}

#[test]
fn too_far_for_f32_is_an_overflow_error() {
    let x = array![[0.0_f32, 0.0], [1e19, 0.0], [1.0, 1.0]];
    assert!(matches!(
        joint_dense(x.view(), perplexity(1.5), &opts()),
        Err(AffinityError::Overflow {
            row: 1,
            dtype: "f32",
            ..
        })
    ));
    assert!(matches!(knn(x.view(), 1), Err(AffinityError::Overflow { row: 1, .. })));
}

#[test]
fn constant_data_gives_uniform_p() {
    let x = Array2::<f64>::from_elem((6, 3), 2.5);
    let joint = joint_dense(x.view(), perplexity(3.0), &opts()).unwrap();
    let off_diagonal = 1.0 / 30.0; // (1/5 + 1/5) / (2 * 6)
    for ((i, j), &v) in joint.p.indexed_iter() {
        let want = if i == j { 0.0 } else { off_diagonal };
        assert!((v - want).abs() < 1e-15, "({i}, {j}) = {v}");
    }
    // Perplexity 3 is below the floor of 5 ties: every row is reported.
    assert_eq!(joint.unconverged, (0..6).collect::<Vec<_>>());
    assert!(joint.perplexity_reached.iter().all(|&r| (r - 5.0).abs() < 1e-12));
    // At the maximum perplexity, n - 1 = 5, uniform is exactly right.
    let joint = joint_dense(x.view(), perplexity(5.0), &opts()).unwrap();
    assert!(joint.unconverged.is_empty());
    assert!(joint.beta.iter().all(|&b| b == 0.0));
    // The k-NN path: uniform over the k = 4 tied neighbours chosen by index.
    let sparse = joint_knn_with_k(x.view(), 4, perplexity(3.0), &opts()).unwrap();
    let total: f64 = sparse.csr().values().iter().sum();
    assert!((total - 1.0).abs() < 1e-12);
    assert_eq!(sparse.unconverged.len(), 6);
}

#[test]
fn two_points() {
    let x = array![[0.0_f64, 1.0], [3.0, 5.0]];
    let joint = joint_dense(x.view(), perplexity(1.0), &opts()).unwrap();
    assert_eq!(joint.p, array![[0.0, 0.5], [0.5, 0.0]]);
    assert!(joint.unconverged.is_empty());
    assert_eq!(joint.perplexity_reached, vec![1.0, 1.0]);
    // Below 1 no distribution can go: same P, reported.
    let joint = joint_dense(x.view(), perplexity(0.5), &opts()).unwrap();
    assert_eq!(joint.p, array![[0.0, 0.5], [0.5, 0.0]]);
    assert_eq!(joint.unconverged, vec![0, 1]);
    // k-NN needs perplexity < k = 1.
    let sparse = joint_knn(x.view(), perplexity(0.5), &opts()).unwrap();
    assert_eq!(sparse.to_dense(), array![[0.0, 0.5], [0.5, 0.0]]);
    assert_eq!(
        joint_knn(x.view(), perplexity(1.0), &opts()),
        Err(AffinityError::PerplexityTooLarge {
            perplexity: 1.0,
            n_points: 2,
            max: 1.0
        })
    );
}

#[test]
fn perplexity_range() {
    let x = crate::random_points(8, 2, 3);
    // Dense: perplexity <= n - 1 = 7.
    assert!(joint_dense(x.view(), perplexity(7.0), &opts()).is_ok());
    assert_eq!(
        joint_dense(x.view(), perplexity(7.5), &opts()),
        Err(AffinityError::PerplexityTooLarge {
            perplexity: 7.5,
            n_points: 8,
            max: 7.0
        })
    );
    let d = ssne_tensor::sq_dists(x.view());
    assert!(matches!(
        conditional_dense(d.view(), perplexity(8.0), &opts()),
        Err(AffinityError::PerplexityTooLarge { .. })
    ));
    // k-NN: perplexity < k.
    assert!(matches!(
        joint_knn(x.view(), perplexity(7.0), &opts()),
        Err(AffinityError::PerplexityTooLarge { .. })
    ));
    assert!(joint_knn(x.view(), perplexity(6.9), &opts()).is_ok());
    assert_eq!(
        joint_knn_with_k(x.view(), 3, perplexity(3.0), &opts()),
        Err(AffinityError::PerplexityNotBelowK { perplexity: 3.0, k: 3 })
    );
    // Not a perplexity at all.
    for bad in [0.0, -3.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            Perplexity::new(bad),
            Err(AffinityError::PerplexityNotPositive { .. })
        ));
    }
}

#[test]
fn non_finite_input() {
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut x = crate::random_points(5, 3, 1);
        x[[3, 2]] = bad;
        let is_non_finite = |e: AffinityError| matches!(e, AffinityError::NonFinite { row: 3, col: 2, .. });
        assert!(joint_dense(x.view(), perplexity(2.0), &opts()).is_err_and(is_non_finite));
        assert!(joint_knn(x.view(), perplexity(1.0), &opts()).is_err_and(is_non_finite));
        assert!(knn(x.view(), 2).is_err_and(is_non_finite));
        assert!(knn_between(x.view(), crate::random_points(4, 3, 2).view(), 2).is_err_and(is_non_finite));
        let mut d = ssne_tensor::sq_dists(crate::random_points(5, 3, 1).view());
        d[[3, 2]] = bad;
        assert!(conditional_dense(d.view(), perplexity(2.0), &opts()).is_err_and(is_non_finite));
    }
    let mut d = ssne_tensor::sq_dists(crate::random_points(5, 3, 1).view());
    d[[1, 4]] = -0.5;
    assert!(matches!(
        conditional_dense(d.view(), perplexity(2.0), &opts()),
        Err(AffinityError::NegativeDistance { row: 1, col: 4, .. })
    ));
}

#[test]
fn empty_and_too_small_input() {
    let empty = Array2::<f32>::zeros((0, 784));
    assert_eq!(
        joint_dense(empty.view(), perplexity(30.0), &opts()),
        Err(AffinityError::Empty {
            n_points: 0,
            n_features: 784
        })
    );
    assert!(matches!(
        joint_knn(empty.view(), perplexity(30.0), &opts()),
        Err(AffinityError::Empty { .. })
    ));
    assert!(matches!(knn(empty.view(), 1), Err(AffinityError::Empty { .. })));
    let no_features = Array2::<f32>::zeros((5, 0));
    assert!(matches!(knn(no_features.view(), 1), Err(AffinityError::Empty { .. })));
    assert!(matches!(
        conditional_dense(Array2::<f64>::zeros((0, 0)).view(), perplexity(1.0), &opts()),
        Err(AffinityError::Empty { .. })
    ));
    let one = array![[1.0_f64, 2.0]];
    assert_eq!(
        joint_dense(one.view(), perplexity(1.0), &opts()),
        Err(AffinityError::TooFewPoints { n_points: 1, min: 2 })
    );
    assert!(matches!(
        joint_knn(one.view(), perplexity(1.0), &opts()),
        Err(AffinityError::TooFewPoints { .. })
    ));
    // One reference point is enough for placing new points.
    assert!(knn_between(one.view(), one.view(), 1).is_ok());
}

#[test]
fn shape_errors() {
    assert_eq!(
        conditional_dense(Array2::<f64>::zeros((3, 4)).view(), perplexity(1.0), &opts()),
        Err(AffinityError::NotSquare { rows: 3, cols: 4 })
    );
    let bad = Knn {
        indices: Array2::<u32>::zeros((3, 2)),
        sq_dists: Array2::<f32>::zeros((3, 3)),
    };
    assert_eq!(
        conditional_knn(&bad, perplexity(1.0), &opts()),
        Err(AffinityError::ShapeMismatch {
            what: "Knn::indices and Knn::sq_dists",
            left: [3, 2],
            right: [3, 3]
        })
    );
    let bad_opts = SearchOptions {
        tolerance_nats: -1.0,
        max_steps: 10,
    };
    assert_eq!(
        joint_dense(array![[0.0_f64], [1.0]].view(), perplexity(1.0), &bad_opts),
        Err(AffinityError::InvalidTolerance { value: -1.0 })
    );
}

#[test]
fn error_messages_say_what_would_be_valid() {
    let message = AffinityError::PerplexityTooLarge {
        perplexity: 30.0,
        n_points: 20,
        max: 19.0,
    }
    .to_string();
    assert!(
        message.contains("30") && message.contains("20 points") && message.contains("at most 19"),
        "{message}"
    );
    let message = AffinityError::KTooLarge { k: 12, max: 9 }.to_string();
    assert!(message.contains("1 <= k <= 9"), "{message}");
    let message = AffinityError::PerplexityNotBelowK {
        perplexity: 30.0,
        k: 20,
    }
    .to_string();
    assert!(message.contains("below 20"), "{message}");
}

#[test]
fn a_search_cut_short_is_reported() {
    let x = crate::random_points(20, 3, 9);
    let few = SearchOptions {
        tolerance_nats: 1e-5,
        max_steps: 1,
    };
    let joint = joint_dense(x.view(), perplexity(5.0), &few).unwrap();
    assert!(!joint.unconverged.is_empty());
    assert!((joint.p.sum() - 1.0).abs() < 1e-12);
}
