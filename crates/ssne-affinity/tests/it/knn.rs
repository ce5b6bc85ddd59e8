//! Exact k-NN against a brute-force reference.

use proptest::prelude::*;
use ssne_affinity::{knn, knn_between};
use ssne_tensor::ndarray::{Array2, ArrayView2};

/// Integer-grid points: every squared distance is a small integer, computed
/// exactly by the GEMM formula too, so ties are real and comparisons exact.
fn grid_points(max_n: usize) -> impl Strategy<Value = Array2<f64>> {
    (1..=max_n, 1_usize..=3).prop_flat_map(|(n, dim)| {
        proptest::collection::vec((-3_i32..=3).prop_map(f64::from), n * dim)
            .prop_map(move |v| Array2::from_shape_vec((n, dim), v).expect("n * dim values"))
    })
}

/// For each query, all `(sq_dist, idx)` sorted by distance then index (self excluded if asked).
fn brute_force(queries: ArrayView2<'_, f64>, reference: ArrayView2<'_, f64>, skip_self: bool) -> Vec<Vec<(f64, u32)>> {
    queries
        .outer_iter()
        .enumerate()
        .map(|(i, q)| {
            let mut all: Vec<(f64, u32)> = reference
                .outer_iter()
                .enumerate()
                .filter(|&(j, _)| !(skip_self && i == j))
                .map(|(j, r)| (q.iter().zip(r.iter()).map(|(a, b)| (a - b) * (a - b)).sum(), j as u32))
                .collect();
            all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            all
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn knn_equals_brute_force_with_ties((x, k) in grid_points(40)
        .prop_filter("two points", |x| x.nrows() >= 2)
        .prop_flat_map(|x| { let n = x.nrows(); (Just(x), 1..n) }))
    {
        let want = brute_force(x.view(), x.view(), true);
        let got = knn(x.view(), k).unwrap();
        let got32 = knn(x.mapv(|v| v as f32).view(), k).unwrap();
        prop_assert_eq!(&got.indices, &got32.indices);
        for (i, row) in want.iter().enumerate() {
            for (c, &(sq_dist, idx)) in row[..k].iter().enumerate() {
                prop_assert_eq!(got.indices[[i, c]], idx, "row {} rank {}", i, c);
                prop_assert_eq!(got.sq_dists[[i, c]], sq_dist);
                prop_assert_eq!(f64::from(got32.sq_dists[[i, c]]), sq_dist);
            }
        }
    }

    #[test]
    fn knn_between_equals_brute_force(
        (queries, reference, k) in (grid_points(12), grid_points(30)).prop_flat_map(|(q, r)| {
            let dim = q.ncols().min(r.ncols());
            let q = q.slice(ssne_tensor::ndarray::s![.., ..dim]).to_owned();
            let r = r.slice(ssne_tensor::ndarray::s![.., ..dim]).to_owned();
            let n = r.nrows();
            (Just(q), Just(r), 1..=n)
        }))
    {
        let want = brute_force(queries.view(), reference.view(), false);
        let got = knn_between(queries.view(), reference.view(), k).unwrap();
        for (i, row) in want.iter().enumerate() {
            let expect: Vec<u32> = row[..k].iter().map(|e| e.1).collect();
            prop_assert_eq!(got.indices.row(i).to_vec(), expect);
        }
    }

    #[test]
    fn knn_on_continuous_points_is_a_valid_nearest_set(
        (x, k) in (3_usize..60, 1_usize..6, any::<u64>()).prop_flat_map(|(n, dim, seed)| {
            (Just(crate::random_points(n, dim, seed)), 1..n)
        }))
    {
        let want = brute_force(x.view(), x.view(), true);
        let got = knn(x.view(), k).unwrap();
        for (i, row) in want.iter().enumerate() {
            let kth_best = row[k - 1].0;
            let mut previous = 0.0;
            for c in 0..k {
                let j = got.indices[[i, c]] as usize;
                prop_assert!(j != i);
                let exact = row.iter().find(|e| e.1 as usize == j).map(|e| e.0).unwrap();
                // GEMM distances round differently from the direct sum.
                prop_assert!((got.sq_dists[[i, c]] - exact).abs() < 1e-12 * (1.0 + exact));
                prop_assert!(exact <= kth_best + 1e-12);
                prop_assert!(got.sq_dists[[i, c]] >= previous);
                previous = got.sq_dists[[i, c]];
            }
        }
    }
}
