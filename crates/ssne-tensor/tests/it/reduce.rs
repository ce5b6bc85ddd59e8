//! The blocked sum: exact enough and independent of the thread count.

use ssne_tensor::{SUM_BLOCK, sum_f64};

use crate::{on_threads, seeded};

#[test]
fn sum_matches_kahan_reference() {
    let xs: Vec<f32> = seeded(1, 100_003, 5).iter().map(|&v| v as f32 * 1000.0).collect();
    let mut sum = 0.0_f64;
    let mut comp = 0.0_f64;
    for &x in &xs {
        let y = f64::from(x) - comp;
        let t = sum + y;
        comp = (t - sum) - y;
        sum = t;
    }
    assert!((sum_f64(&xs) - sum).abs() < 1e-6 * (1.0 + sum.abs()));
}

#[test]
fn sum_is_identical_on_any_thread_count() {
    let xs: Vec<f32> = seeded(1, 20 * SUM_BLOCK + 17, 9).iter().map(|&v| v as f32).collect();
    let one = on_threads(1, || sum_f64(&xs));
    let two = on_threads(2, || sum_f64(&xs));
    let three = on_threads(3, || sum_f64(&xs));
    assert_eq!(one.to_bits(), two.to_bits());
    assert_eq!(one.to_bits(), three.to_bits());
}

#[test]
fn empty_sum_is_zero() {
    assert_eq!(sum_f64::<f32>(&[]), 0.0);
}
