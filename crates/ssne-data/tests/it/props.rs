//! Properties of shuffling and splitting: rows are permuted, never lost, and seeds reproduce.

use ndarray::Array2;
use proptest::prelude::*;
use ssne_data::{Dataset, Split};

/// Rows as sortable bit patterns, with the label appended.
fn row_multiset(data: &Dataset) -> Vec<Vec<u32>> {
    let mut rows: Vec<Vec<u32>> = data
        .features
        .outer_iter()
        .zip(data.labels.as_deref().unwrap_or(&[]))
        .map(|(row, &label)| row.iter().map(|v| v.to_bits()).chain([label]).collect())
        .collect();
    rows.sort();
    rows
}

fn dataset() -> impl Strategy<Value = Dataset> {
    (0_usize..40, 1_usize..5).prop_flat_map(|(n_points, n_features)| {
        (
            proptest::collection::vec(-100.0_f32..100.0, n_points * n_features),
            proptest::collection::vec(0_u32..4, n_points),
        )
            .prop_map(move |(values, labels)| {
                let features = Array2::from_shape_vec((n_points, n_features), values).unwrap();
                Dataset::new(features, Some(labels)).unwrap()
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn shuffle_permutes_rows(data in dataset(), seed in any::<u64>()) {
        let shuffled = data.shuffled(seed);
        prop_assert_eq!(row_multiset(&shuffled), row_multiset(&data));
        prop_assert_eq!(shuffled.features.dim(), data.features.dim());
    }

    #[test]
    fn same_seed_same_order(data in dataset(), seed in any::<u64>()) {
        prop_assert_eq!(data.shuffled(seed), data.shuffled(seed));
        let (a_first, a_second) = data.split(Split::Fraction(0.7), Some(seed)).unwrap();
        let (b_first, b_second) = data.split(Split::Fraction(0.7), Some(seed)).unwrap();
        prop_assert_eq!(a_first, b_first);
        prop_assert_eq!(a_second, b_second);
    }

    #[test]
    fn split_keeps_every_row_once(data in dataset(), fraction in 0.0_f64..=1.0, seed in proptest::option::of(any::<u64>())) {
        let (first, second) = data.split(Split::Fraction(fraction), seed).unwrap();
        prop_assert_eq!(first.n_points() + second.n_points(), data.n_points());
        prop_assert_eq!(first.n_points(), (fraction * data.n_points() as f64).round() as usize);
        let mut both = row_multiset(&first);
        both.extend(row_multiset(&second));
        both.sort();
        prop_assert_eq!(both, row_multiset(&data));
    }

    #[test]
    fn count_split_past_the_end_is_an_error(data in dataset(), extra in 1_usize..10) {
        let n_points = data.n_points();
        let is_bad_split = matches!(
            data.split(Split::Count(n_points + extra), None),
            Err(ssne_data::DataError::BadSplit { .. })
        );
        prop_assert!(is_bad_split);
    }
}

#[test]
fn different_seeds_give_different_orders() {
    let features = Array2::from_shape_fn((50, 1), |(i, _)| i as f32);
    let data = Dataset::new(features, None).unwrap();
    assert_ne!(data.shuffled(1).features, data.shuffled(2).features);
    // A seeded order is fixed across runs and platforms (ChaCha8): pin the first rows.
    let first: Vec<f32> = data.shuffled(42).features.column(0).iter().take(5).copied().collect();
    assert_eq!(first, pinned_order_seed_42());
}

/// The first five rows of `shuffled(42)` on 0..50, recorded from this implementation; a change
/// means saved splits would no longer reproduce.
fn pinned_order_seed_42() -> Vec<f32> {
    vec![38.0, 28.0, 11.0, 35.0, 29.0]
}
