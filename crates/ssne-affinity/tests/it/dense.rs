//! Invariants of the dense conditional and joint affinities (proptest).

use proptest::prelude::*;
use ssne_affinity::{Perplexity, SearchOptions, conditional_dense, joint_dense};
use ssne_tensor::ndarray::Array2;
use ssne_tensor::sq_dists;

/// Points either with continuous coordinates, or on a small integer grid so
/// that duplicates and tied distances are common (and distances are exact).
pub(crate) fn points() -> impl Strategy<Value = Array2<f64>> {
    (2_usize..=24, 1_usize..=4, any::<bool>()).prop_flat_map(|(n, dim, grid)| {
        let coord = if grid {
            (-2_i32..=2).prop_map(f64::from).boxed()
        } else {
            (-5.0_f64..5.0).boxed()
        };
        proptest::collection::vec(coord, n * dim)
            .prop_map(move |v| Array2::from_shape_vec((n, dim), v).expect("n * dim values"))
    })
}

/// Points and a perplexity in the valid dense range (0.5 ..= n - 1).
pub(crate) fn points_and_perplexity() -> impl Strategy<Value = (Array2<f64>, f64)> {
    points().prop_flat_map(|x| {
        let max = (x.nrows() - 1) as f64;
        (Just(x), (0.0_f64..=1.0).prop_map(move |f| 0.5 + f * (max - 0.5)))
    })
}

/// Number of off-diagonal entries of row `i` tied at the row's minimum.
fn ties_at_min(d: &Array2<f64>, i: usize) -> usize {
    let off = || (0..d.ncols()).filter(move |&j| j != i).map(move |j| d[[i, j]]);
    let min = off().fold(f64::INFINITY, f64::min);
    off().filter(|&v| v == min).count()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn conditional_rows_are_distributions_at_the_target((x, perplexity) in points_and_perplexity()) {
        let opts = SearchOptions::default();
        let d = sq_dists(x.view());
        let cond = conditional_dense(d.view(), Perplexity::new(perplexity).unwrap(), &opts).unwrap();
        let n = x.nrows();
        for i in 0..n {
            let row = cond.p.row(i);
            prop_assert_eq!(row[i], 0.0);
            prop_assert!(row.iter().all(|&p| p.is_finite() && p >= 0.0));
            prop_assert!((row.sum() - 1.0).abs() < 1e-12);
            let h = crate::entropy(row.iter().copied());
            prop_assert!((cond.perplexity_reached[i].ln() - h).abs() < 1e-9);
            if cond.unconverged.contains(&i) {
                // Only an unreachable target may be missed: below the entropy
                // floor ln(ties) (or below 1, which is below every floor).
                prop_assert!(perplexity <= ties_at_min(&d, i) as f64 * (1.0 + 1e-9), "row {} missed", i);
            } else {
                prop_assert!((h - perplexity.ln()).abs() < opts.tolerance_nats + 1e-9);
            }
        }
    }

    #[test]
    fn joint_is_symmetric_non_negative_and_sums_to_one((x, perplexity) in points_and_perplexity()) {
        let joint = joint_dense(x.view(), Perplexity::new(perplexity).unwrap(), &SearchOptions::default()).unwrap();
        let n = x.nrows();
        for i in 0..n {
            prop_assert_eq!(joint.p[[i, i]], 0.0);
            for j in 0..n {
                prop_assert_eq!(joint.p[[i, j]].to_bits(), joint.p[[j, i]].to_bits());
                prop_assert!(joint.p[[i, j]] >= 0.0);
            }
        }
        prop_assert!((joint.p.sum() - 1.0).abs() < 1e-12);
        prop_assert_eq!(joint.beta.len(), n);
    }

    #[test]
    fn permuting_the_points_permutes_p(
        (x, perplexity, perm) in points_and_perplexity().prop_flat_map(|(x, p)| {
            let n = x.nrows();
            (Just(x), Just(p), Just((0..n).collect::<Vec<_>>()).prop_shuffle())
        })
    ) {
        // A tight tolerance, so that the two searches (which see each row's
        // distances in a different order) agree far below the comparison threshold.
        let opts = SearchOptions { tolerance_nats: 1e-11, max_steps: 200 };
        let perplexity = Perplexity::new(perplexity).unwrap();
        let x_perm = Array2::from_shape_fn(x.dim(), |(i, j)| x[[perm[i], j]]);
        let joint = joint_dense(x.view(), perplexity, &opts).unwrap();
        let joint_perm = joint_dense(x_perm.view(), perplexity, &opts).unwrap();
        let n = x.nrows();
        let want = Array2::from_shape_fn((n, n), |(i, j)| joint.p[[perm[i], perm[j]]]);
        prop_assert!(crate::max_abs_diff(joint_perm.p.view(), want.view()) < 1e-9);
        let mut unconverged: Vec<usize> = joint_perm.unconverged.iter().map(|&i| perm[i]).collect();
        unconverged.sort_unstable();
        prop_assert_eq!(unconverged, joint.unconverged);
    }

    #[test]
    fn f32_input_matches_f64((x, perplexity) in points_and_perplexity()) {
        let perplexity = Perplexity::new(perplexity).unwrap();
        let opts = SearchOptions::default();
        let p64 = joint_dense(x.view(), perplexity, &opts).unwrap();
        let x32 = x.mapv(|v| v as f32);
        let p32 = joint_dense(x32.view(), perplexity, &opts).unwrap();
        let total: f64 = p32.p.iter().map(|&v| f64::from(v)).sum();
        prop_assert!((total - 1.0).abs() < 1e-5);
        // Rounding the data and distances to f32 moves each beta a little; P follows.
        let diff = crate::max_abs_diff(p32.p.mapv(f64::from).view(), p64.p.view());
        prop_assert!(diff < 1e-3 / x.nrows() as f64, "diff {}", diff);
    }
}
