//! The k-NN (sparse) affinities: CSR invariants, agreement with the dense path
//! at k = n - 1, sub-matrices, and the conditional rows over neighbours.

use proptest::prelude::*;
use ssne_affinity::{
    Perplexity, SearchOptions, conditional_knn, joint_dense, joint_knn, joint_knn_with_k, knn, knn_between,
};

fn tight() -> SearchOptions {
    SearchOptions {
        tolerance_nats: 1e-11,
        max_steps: 200,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn sparse_equals_dense_when_k_is_n_minus_1(
        (x, perplexity) in crate::dense::points_and_perplexity()
            .prop_filter("k-NN needs perplexity < n - 1", |(x, p)| *p < (x.nrows() - 1) as f64))
    {
        let perplexity = Perplexity::new(perplexity).unwrap();
        let dense = joint_dense(x.view(), perplexity, &tight()).unwrap();
        let sparse = joint_knn_with_k(x.view(), x.nrows() - 1, perplexity, &tight()).unwrap();
        prop_assert!(crate::max_abs_diff(sparse.to_dense().view(), dense.p.view()) < 1e-9);
        prop_assert_eq!(&sparse.unconverged, &dense.unconverged);
        for (a, b) in sparse.beta.iter().zip(&dense.beta) {
            prop_assert!(a == b || (a - b).abs() < 1e-6 * a.abs().max(1e-300), "beta {} vs {}", a, b);
        }
    }

    #[test]
    fn sparse_p_is_a_symmetric_distribution(
        (x, perplexity) in (4_usize..80, 1_usize..5, any::<u64>(), 0.0_f64..1.0).prop_map(|(n, dim, seed, f)| {
            let x = crate::random_points(n, dim, seed);
            let perplexity = 1.0 + f * ((n - 1) as f64 / 3.0 - 1.0).max(0.0);
            (x, perplexity)
        }))
    {
        let p = joint_knn(x.view(), Perplexity::new(perplexity).unwrap(), &SearchOptions::default()).unwrap();
        let n = x.nrows();
        prop_assert_eq!(p.n_points(), n);
        prop_assert_eq!(p.csr().row_ptr().len(), n + 1);
        prop_assert_eq!(p.csr().col_indices().len(), p.nnz());
        let total: f64 = p.csr().values().iter().sum();
        prop_assert!((total - 1.0).abs() < 1e-12);
        for i in 0..n {
            let (cols, vals) = p.row(i).unwrap();
            prop_assert!(cols.windows(2).all(|w| w[0] < w[1]), "columns ascending");
            for (&j, &v) in cols.iter().zip(vals) {
                prop_assert!(j as usize != i && v > 0.0);
                let (cols_j, vals_j) = p.row(j as usize).unwrap();
                let back = cols_j.iter().position(|&c| c as usize == i).map(|at| vals_j[at]);
                prop_assert_eq!(back.map(f64::to_bits), Some(v.to_bits()));
            }
        }
        // The sub-matrix of every point is the dense matrix.
        let all: Vec<usize> = (0..n).collect();
        prop_assert_eq!(p.submatrix(&all).unwrap(), p.to_dense());
    }

    #[test]
    fn conditional_knn_rows_reach_the_perplexity(
        (x, k, perplexity) in (5_usize..60, 1_usize..5, any::<u64>(), 0.0_f64..1.0).prop_flat_map(|(n, dim, seed, f)| {
            let x = crate::random_points(n, dim, seed);
            (Just(x), 2..n, Just(f))
        }).prop_map(|(x, k, f)| (x, k, 1.0 + f * (k as f64 - 1.0) * 0.999)))
    {
        let nn = knn(x.view(), k).unwrap();
        let opts = SearchOptions::default();
        let cond = conditional_knn(&nn, Perplexity::new(perplexity).unwrap(), &opts).unwrap();
        prop_assert_eq!(&cond.indices, &nn.indices);
        prop_assert!(cond.unconverged.is_empty());
        for i in 0..x.nrows() {
            let row = cond.p.row(i);
            prop_assert!((row.sum() - 1.0).abs() < 1e-12);
            // Nearer neighbours never get less probability.
            prop_assert!(row.windows(2).into_iter().all(|w| w[0] >= w[1]));
            prop_assert!((crate::entropy(row.iter().copied()) - perplexity.ln()).abs() < opts.tolerance_nats + 1e-9);
        }
    }
}

#[test]
fn submatrix_is_the_unnormalised_block_of_p() {
    let x = crate::random_points(50, 3, 7);
    let p = joint_knn(x.view(), Perplexity::new(5.0).unwrap(), &SearchOptions::default()).unwrap();
    let dense = p.to_dense();
    let batch = [42, 3, 17, 3, 0];
    let block = p.submatrix(&batch).unwrap();
    for (a, &i) in batch.iter().enumerate() {
        for (b, &j) in batch.iter().enumerate() {
            assert_eq!(block[[a, b]], dense[[i, j]]);
        }
    }
    assert!(block.sum() < 1.0, "a block of P is not renormalised");
}

#[test]
fn new_points_placed_against_a_training_set() {
    let train = crate::random_points(40, 2, 11);
    let new = crate::random_points(5, 2, 12);
    let nn = knn_between(new.view(), train.view(), 15).unwrap();
    let cond = conditional_knn(&nn, Perplexity::new(5.0).unwrap(), &SearchOptions::default()).unwrap();
    assert_eq!(cond.p.dim(), (5, 15));
    assert!(cond.unconverged.is_empty());
    for (reached, sigma) in cond.perplexity_reached.iter().zip(cond.sigma()) {
        assert!((reached - 5.0).abs() < 1e-3);
        assert!(sigma.is_finite() && sigma > 0.0);
    }
}
