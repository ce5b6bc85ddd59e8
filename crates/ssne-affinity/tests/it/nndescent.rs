//! NN-descent: recall against exact search, thread-count determinism, parameter checks.

use ssne_affinity::{AffinityError, NnDescentOptions, knn_recall, nn_descent};
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
