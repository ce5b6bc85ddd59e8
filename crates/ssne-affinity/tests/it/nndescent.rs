//! NN-descent: recall against exact search, thread-count determinism, parameter checks.

use ssne_affinity::{AffinityError, KnnRound, NnDescentOptions, knn, knn_recall, nn_descent, nn_descent_observed};
use ssne_tensor::ndarray::Array2;

use crate::random_points;

/// 8 well-separated blobs of `n / 8` points in 10 dimensions.
fn blobs(n: usize) -> Array2<f64> {
    let noise = random_points(n, 10, 3);
    Array2::from_shape_fn((n, 10), |(i, j)| noise[[i, j]] + if j == i % 8 { 20.0 } else { 0.0 })
}

#[test]
fn recall_on_blobs_beats_a_random_graph() {
    let x = blobs(2000);
    let nn = nn_descent(x.view(), 15, &NnDescentOptions::for_points(2000, 1)).unwrap();
    let sample: Vec<usize> = (0..2000).step_by(20).collect();
    let recall = knn_recall(x.view(), &nn, &sample).unwrap();
    // A random graph would have recall about 15 / 1999 < 0.01.
    assert!(recall >= 0.95, "recall {recall}");
}

#[test]
fn recall_with_many_duplicates_and_terminates() {
    // 1,000 points but only 50 distinct positions: 20 copies each.
    let base = random_points(50, 5, 9);
    let x = Array2::from_shape_fn((1000, 5), |(i, j)| base[[i % 50, j]]);
    let nn = nn_descent(x.view(), 10, &NnDescentOptions::for_points(1000, 2)).unwrap();
    let sample: Vec<usize> = (0..1000).step_by(10).collect();
    let recall = knn_recall(x.view(), &nn, &sample).unwrap();
    assert!(recall >= 0.95, "recall {recall}");
}

#[test]
fn f32_recall_on_blobs_against_the_exact_graph_and_equal_distances() {
    let x = blobs(3000).mapv(|v| v as f32);
    let nn = nn_descent(x.view(), 30, &NnDescentOptions::for_points(3000, 4)).unwrap();
    let exact = knn(x.view(), 30).unwrap();
    let mut hits = 0;
    for (a, e) in nn.indices.rows().into_iter().zip(exact.indices.rows()) {
        hits += a.iter().filter(|j| e.iter().any(|i| i == *j)).count();
    }
    let recall = hits as f64 / (3000.0 * 30.0);
    assert!(recall >= 0.95, "recall {recall}");
    // Rows come nearest first, as from the exact search, and never hold the point itself.
    for (i, (row, d)) in nn.indices.rows().into_iter().zip(nn.sq_dists.rows()).enumerate() {
        assert!(d.windows(2).into_iter().all(|w| w[0] <= w[1]), "row {i} unsorted");
        assert!(row.iter().all(|&j| j as usize != i), "row {i} holds itself");
        let mut distinct = row.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), 30, "row {i} repeats a neighbour");
    }
}

#[test]
fn rounds_are_reported_and_bounded() {
    let x = blobs(1000);
    let opts = NnDescentOptions {
        n_iters: 3,
        delta: 0.0,
        ..NnDescentOptions::for_points(1000, 8)
    };
    let mut rounds: Vec<KnnRound> = Vec::new();
    nn_descent_observed(x.view(), 10, &opts, &mut |r| rounds.push(r)).unwrap();
    assert_eq!(rounds.first().map(|r| r.round), Some(0));
    assert!(rounds.len() <= 4, "{rounds:?}");
    assert!(rounds.last().is_some_and(|r| r.last));
    assert!(rounds.iter().all(|r| r.max_rounds == 3));
}

#[test]
fn identical_graphs_on_1_2_3_threads() {
    let x = random_points(1500, 8, 5);
    let opts = NnDescentOptions::for_points(1500, 11);
    let run = |t: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .unwrap()
            .install(|| nn_descent(x.view(), 12, &opts).unwrap())
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
}

#[test]
fn invalid_parameters_are_refused() {
    let x = random_points(100, 3, 1);
    let base = NnDescentOptions::for_points(100, 0);
    for bad in [
        NnDescentOptions { n_iters: 0, ..base },
        NnDescentOptions {
            max_candidates: 0,
            ..base
        },
        NnDescentOptions { delta: 1.5, ..base },
        NnDescentOptions { n_trees: 0, ..base },
        NnDescentOptions { n_trees: 1001, ..base },
        NnDescentOptions {
            delta: f64::NAN,
            ..base
        },
    ] {
        assert!(
            matches!(
                nn_descent(x.view(), 5, &bad),
                Err(AffinityError::InvalidKnnParameter { .. })
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        nn_descent(x.view(), 100, &base),
        Err(AffinityError::KTooLarge { .. })
    ));
}

#[test]
fn knn_recall_counts_the_exact_neighbours_found() {
    // On a line 0, 1, 2, ... the exact 2 nearest of an interior point are its two sides.
    let x = Array2::from_shape_fn((20, 1), |(i, _)| i as f64);
    let exact = knn(x.view(), 2).unwrap();
    let rows: Vec<usize> = (0..20).collect();
    assert_eq!(knn_recall(x.view(), &exact, &rows).unwrap(), 1.0);
    // Swap every row's second neighbour for the farthest point: half of each row is found
    // (row 0's exact pair is 1, 2; the farthest is 19).
    let mut wrong = exact.clone();
    for i in 0..20 {
        wrong.indices[[i, 1]] = if i < 10 { 19 } else { 0 };
    }
    assert_eq!(knn_recall(x.view(), &wrong, &rows).unwrap(), 0.5);
    assert!(matches!(
        knn_recall(x.view(), &exact, &[20]),
        Err(AffinityError::PointOutOfRange { point: 20, .. })
    ));
    assert!(matches!(
        knn_recall(x.view(), &exact, &[]),
        Err(AffinityError::Empty { .. })
    ));
}

#[test]
fn joint_p_from_given_neighbours_matches_joint_knn_and_refuses_bad_lists() {
    use ssne_affinity::{Perplexity, SearchOptions, joint_knn_from, joint_knn_with_k};
    let x = blobs(400);
    let perplexity = Perplexity::new(5.0).unwrap();
    let opts = SearchOptions::default();
    let exact = knn(x.view(), 15).unwrap();
    let from = joint_knn_from(&exact, perplexity, &opts).unwrap();
    assert_eq!(from, joint_knn_with_k(x.view(), 15, perplexity, &opts).unwrap());
    for (row, col, value, problem) in [
        (3, 2, 400, "is not below the number of points"),
        (7, 0, 7, "is the point itself"),
    ] {
        let mut bad = exact.clone();
        bad.indices[[row, col]] = value;
        assert_eq!(
            joint_knn_from(&bad, perplexity, &opts),
            Err(AffinityError::InvalidNeighbour {
                row,
                neighbour: value,
                problem
            })
        );
    }
    let mut twice = exact.clone();
    twice.indices[[5, 1]] = twice.indices[[5, 0]];
    assert!(matches!(
        joint_knn_from(&twice, perplexity, &opts),
        Err(AffinityError::InvalidNeighbour {
            row: 5,
            problem: "is listed twice",
            ..
        })
    ));
}
