//! Softmax and log-sum-exp at the numeric edges.

use proptest::prelude::*;
use ssne_tensor::ndarray::{Array2, array};
use ssne_tensor::{log_sum_exp_rows, softmax_rows};

use crate::seeded;

#[test]
fn softmax_of_huge_logits_is_finite_and_exact() {
    let mut x = array![[1.0e4_f32, 1.0e4 - 1.0, -1.0e4], [-5.0e3, -5.0e3, -5.0e3]];
    softmax_rows(x.view_mut());
    let e = (-1.0_f64).exp();
    assert!((f64::from(x[[0, 0]]) - 1.0 / (1.0 + e)).abs() < 1e-6);
    assert!((f64::from(x[[0, 1]]) - e / (1.0 + e)).abs() < 1e-6);
    assert_eq!(x[[0, 2]], 0.0);
    for v in x.row(1) {
        assert!((v - 1.0 / 3.0).abs() < 1e-7);
    }
}

#[test]
fn log_sum_exp_of_huge_logits() {
    let lse = log_sum_exp_rows(array![[1.0e300_f64, 1.0e300], [-1.0e300, 0.0]].view());
    assert_eq!(lse[0], 1.0e300);
    assert_eq!(lse[1], 0.0);
    let inf = log_sum_exp_rows(array![[f64::NEG_INFINITY, f64::NEG_INFINITY]].view());
    assert_eq!(inf[0], f64::NEG_INFINITY);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn softmax_rows_sum_to_one_and_match_lse(n in 1usize..20, d in 1usize..12, scale in 0.1f64..500.0, seed in 0u64..1000) {
        let x: Array2<f64> = seeded(n, d, seed).mapv(|v| v * scale);
        let lse = log_sum_exp_rows(x.view());
        let mut s = x.clone();
        softmax_rows(s.view_mut());
        for i in 0..n {
            let total: f64 = s.row(i).sum();
            prop_assert!((total - 1.0).abs() < 1e-12);
            for j in 0..d {
                let want = (x[[i, j]] - lse[i]).exp();
                prop_assert!((s[[i, j]] - want).abs() < 1e-12);
            }
        }
    }
}
