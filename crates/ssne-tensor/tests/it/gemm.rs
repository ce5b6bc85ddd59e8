//! GEMM against a naive triple loop, for every transposition and shape.

use proptest::prelude::*;
use ssne_tensor::ndarray::{Array2, ArrayView2, s};
use ssne_tensor::{TensorError, Trans, gemm, matmul};

use crate::{on_threads, seeded};

fn naive(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Array2<f64> {
    let (m, k) = a.dim();
    let n = b.ncols();
    Array2::from_shape_fn((m, n), |(i, j)| (0..k).map(|p| a[[i, p]] * b[[p, j]]).sum())
}

fn trans_strategy() -> impl Strategy<Value = Trans> {
    prop_oneof![Just(Trans::N), Just(Trans::T)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn gemm_matches_naive(m in 1usize..150, k in 1usize..40, n in 1usize..30, ta in trans_strategy(), tb in trans_strategy(), seed in 0u64..1000) {
        let a = match ta { Trans::N => seeded(m, k, seed), Trans::T => seeded(k, m, seed) };
        let b = match tb { Trans::N => seeded(k, n, seed + 1), Trans::T => seeded(n, k, seed + 1) };
        let a_op = if ta == Trans::T { a.t().to_owned() } else { a.clone() };
        let b_op = if tb == Trans::T { b.t().to_owned() } else { b.clone() };
        let expected = naive(a_op.view(), b_op.view());
        let mut c = seeded(m, n, seed + 2);
        let c0 = c.clone();
        gemm(0.5, a.view(), ta, b.view(), tb, 2.0, c.view_mut()).expect("shapes agree");
        for ((x, e), c0) in c.iter().zip(expected.iter()).zip(c0.iter()) {
            let want = 0.5 * e + 2.0 * c0;
            prop_assert!((x - want).abs() <= 1e-12 * (1.0 + want.abs()), "{x} vs {want}");
        }
    }
}

#[test]
fn large_parallel_product_matches_naive_in_f32() {
    // Big enough to take the parallel path (m > one row block, > 2^20 multiply-adds).
    let a = seeded(300, 200, 7).mapv(|v| v as f32);
    let b = seeded(200, 50, 8).mapv(|v| v as f32);
    let c = matmul(a.view(), Trans::N, b.view(), Trans::N).expect("shapes agree");
    let expected = naive(a.mapv(f64::from).view(), b.mapv(f64::from).view());
    for (x, e) in c.iter().zip(expected.iter()) {
        assert!((f64::from(*x) - e).abs() < 1e-4, "{x} vs {e}");
    }
}

#[test]
fn wide_parallel_product_split_by_columns_matches_naive() {
    // n > m and above the parallel threshold: the column-split path, with transposes.
    let a = seeded(40, 300, 17);
    let b = seeded(900, 300, 18);
    let c = matmul(a.view(), Trans::N, b.view(), Trans::T).expect("shapes agree");
    let expected = naive(a.view(), b.t());
    for (x, e) in c.iter().zip(expected.iter()) {
        assert!((x - e).abs() < 1e-10, "{x} vs {e}");
    }
    let one = on_threads(1, || {
        matmul(a.view(), Trans::N, b.view(), Trans::T).expect("shapes agree")
    });
    assert_eq!(one, c);
}

#[test]
fn strided_and_sliced_views_work() {
    let big = seeded(40, 40, 3);
    let a = big.slice(s![..;2, 1..21]);
    let b = big.slice(s![5..25, ..;-3]);
    let c = matmul(a, Trans::N, b, Trans::N).expect("shapes agree");
    let expected = naive(a.to_owned().view(), b.to_owned().view());
    for (x, e) in c.iter().zip(expected.iter()) {
        assert!((x - e).abs() < 1e-12);
    }
}

#[test]
fn shape_mismatch_is_an_error() {
    let a = Array2::<f32>::zeros((3, 4));
    let b = Array2::<f32>::zeros((5, 2));
    assert_eq!(
        matmul(a.view(), Trans::N, b.view(), Trans::N),
        Err(TensorError::ShapeMismatch {
            op: "gemm",
            left: [3, 4],
            right: [5, 2]
        })
    );
    let mut c = Array2::<f32>::zeros((3, 3));
    let b = Array2::<f32>::zeros((4, 2));
    assert!(matches!(
        gemm(1.0, a.view(), Trans::N, b.view(), Trans::N, 0.0, c.view_mut()),
        Err(TensorError::ShapeMismatch {
            op: "gemm (output)",
            ..
        })
    ));
}

#[test]
fn empty_inner_dimension_scales_c_by_beta() {
    let a = Array2::<f64>::zeros((2, 0));
    let b = Array2::<f64>::zeros((0, 3));
    let mut c = Array2::<f64>::ones((2, 3));
    gemm(1.0, a.view(), Trans::N, b.view(), Trans::N, 0.5, c.view_mut()).expect("shapes agree");
    assert!(c.iter().all(|&v| v == 0.5));
}

#[test]
fn result_is_bitwise_identical_on_one_and_two_threads() {
    let a = seeded(1000, 300, 11).mapv(|v| v as f32);
    let b = seeded(300, 100, 12).mapv(|v| v as f32);
    let one = on_threads(1, || {
        matmul(a.view(), Trans::N, b.view(), Trans::N).expect("shapes agree")
    });
    let two = on_threads(2, || {
        matmul(a.view(), Trans::N, b.view(), Trans::N).expect("shapes agree")
    });
    assert_eq!(one, two);
}
