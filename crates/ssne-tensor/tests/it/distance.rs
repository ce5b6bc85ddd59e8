//! Pairwise squared distances against the definition.

use proptest::prelude::*;
use ssne_tensor::ndarray::{Array2, array};
use ssne_tensor::{TensorError, row_sq_norms, sq_dists, sq_dists_between};

use crate::seeded;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn sq_dists_matches_definition(n in 1usize..80, d in 1usize..20, seed in 0u64..1000) {
        let x = seeded(n, d, seed).mapv(|v| v * 10.0);
        let dist = sq_dists(x.view());
        for i in 0..n {
            prop_assert_eq!(dist[[i, i]], 0.0);
            for j in 0..n {
                let want: f64 = x.row(i).iter().zip(x.row(j).iter()).map(|(a, b)| (a - b) * (a - b)).sum();
                prop_assert!(dist[[i, j]] >= 0.0);
                prop_assert_eq!(dist[[i, j]], dist[[j, i]]);
                prop_assert!((dist[[i, j]] - want).abs() <= 1e-9 * (1.0 + want), "{} vs {}", dist[[i, j]], want);
            }
        }
    }

    #[test]
    fn sq_dists_between_matches_definition(m in 1usize..40, n in 1usize..40, d in 1usize..10, seed in 0u64..1000) {
        let x = seeded(m, d, seed);
        let y = seeded(n, d, seed + 7);
        let dist = sq_dists_between(x.view(), y.view()).expect("same width");
        for i in 0..m {
            for j in 0..n {
                let want: f64 = x.row(i).iter().zip(y.row(j).iter()).map(|(a, b)| (a - b) * (a - b)).sum();
                prop_assert!((dist[[i, j]] - want).abs() <= 1e-12 * (1.0 + want));
            }
        }
    }
}

#[test]
fn identical_rows_are_at_exactly_zero_and_never_negative() {
    // Large, identical rows: |x|^2 + |y|^2 - 2x.y cancels catastrophically.
    let row = [1234.5_f32, -987.25, 3.0e3, 17.0];
    let x = Array2::from_shape_fn((4, 4), |(_, j)| row[j]);
    let d = sq_dists(x.view());
    assert!(d.iter().all(|&v| v == 0.0), "{d:?}");
    let between = sq_dists_between(x.view(), x.view()).expect("same width");
    assert!(between.iter().all(|&v| v >= 0.0));
}

#[test]
fn norms_and_mismatch() {
    assert_eq!(
        row_sq_norms(array![[3.0_f64, 4.0], [0.0, 0.0]].view()),
        array![25.0, 0.0]
    );
    let err = sq_dists_between(Array2::<f32>::zeros((2, 3)).view(), Array2::<f32>::zeros((2, 4)).view());
    assert!(matches!(
        err,
        Err(TensorError::ShapeMismatch {
            op: "sq_dists_between",
            ..
        })
    ));
}

#[test]
fn empty_input_gives_empty_output() {
    assert_eq!(sq_dists(Array2::<f32>::zeros((0, 5)).view()).dim(), (0, 0));
}
