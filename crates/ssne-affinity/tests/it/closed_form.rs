//! Hand-computed values on 4-point examples.

use ssne_affinity::{Perplexity, SearchOptions, conditional_dense, joint_dense, joint_knn_with_k};
use ssne_tensor::ndarray::array;

fn tight() -> SearchOptions {
    SearchOptions {
        tolerance_nats: 1e-12,
        max_steps: 200,
    }
}

/// The corners of the unit square, (0,0), (1,0), (1,1), (0,1). Every point has
/// two neighbours at squared distance 1 and one (the opposite corner) at 2.
///
/// At beta = ln 2 the weights are e^{-beta} = 1/2 for the adjacent corners and
/// e^{-2 beta} = 1/4 for the opposite one: p = (1/2, 1/2, 1/4) / (5/4) =
/// (0.4, 0.4, 0.2), entropy H = -(0.8 ln 0.4 + 0.2 ln 0.2) = 1.0549201679861442
/// nats, perplexity e^H = 2.5^0.8 * 5^0.2 = 2.8716802...
/// Asking for that perplexity must therefore give beta = ln 2 = 0.6931471805599453
/// (sigma = 1 / sqrt(2 ln 2) = 0.8493218002880191) in every row, and the joint
/// P_ij = (p(j|i) + p(i|j)) / (2n) = 0.8 / 8 = 0.1 for adjacent corners and
/// 0.4 / 8 = 0.05 for opposite ones.
#[test]
fn unit_square() {
    let perplexity = 2.5_f64.powf(0.8) * 5_f64.powf(0.2);
    assert!((perplexity.ln() - 1.054_920_167_986_144_2).abs() < 1e-15);
    let x = array![[0.0_f64, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]];
    let joint = joint_dense(x.view(), Perplexity::new(perplexity).unwrap(), &tight()).unwrap();
    assert!(joint.unconverged.is_empty());
    for (&beta, &sigma) in joint.beta.iter().zip(&joint.sigma()) {
        assert!((beta - std::f64::consts::LN_2).abs() < 1e-10, "beta {beta}");
        assert!((sigma - 0.849_321_800_288_019_1).abs() < 1e-10, "sigma {sigma}");
    }
    let want = array![
        [0.0, 0.1, 0.05, 0.1],
        [0.1, 0.0, 0.1, 0.05],
        [0.05, 0.1, 0.0, 0.1],
        [0.1, 0.05, 0.1, 0.0]
    ];
    assert!(crate::max_abs_diff(joint.p.view(), want.view()) < 1e-10, "{}", joint.p);

    // The k-NN path with k = n - 1 = 3 sees the same neighbourhoods.
    let sparse = joint_knn_with_k(x.view(), 3, Perplexity::new(perplexity).unwrap(), &tight()).unwrap();
    assert!(crate::max_abs_diff(sparse.to_dense().view(), want.view()) < 1e-10);
    assert_eq!(sparse.nnz(), 12);
}

/// Points 0, 1, 2, 4 on a line; squared distances from point 1 are 1, 1, 9.
/// At beta = ln(2) / 8 the weights after subtracting the minimum (1) are
/// e^0, e^0, e^{-8 beta} = 1, 1, 1/2, so p(.|1) = (0.4, 0, 0.4, 0.2): the same
/// entropy as the square, hence the same perplexity 2.5^0.8 * 5^0.2. The other
/// rows are checked against p(j|i) = exp(-beta_i d_ij) / sum_k exp(-beta_i d_ik)
/// with the beta_i the search returned.
#[test]
fn points_on_a_line() {
    let perplexity = 2.5_f64.powf(0.8) * 5_f64.powf(0.2);
    let sq_dists = array![
        [0.0_f64, 1.0, 4.0, 16.0],
        [1.0, 0.0, 1.0, 9.0],
        [4.0, 1.0, 0.0, 4.0],
        [16.0, 9.0, 4.0, 0.0]
    ];
    let cond = conditional_dense(sq_dists.view(), Perplexity::new(perplexity).unwrap(), &tight()).unwrap();
    assert!(cond.unconverged.is_empty());
    assert!((cond.beta[1] - std::f64::consts::LN_2 / 8.0).abs() < 1e-10);
    let want_row_1 = [0.4, 0.0, 0.4, 0.2];
    for (got, want) in cond.p.row(1).iter().zip(want_row_1) {
        assert!((got - want).abs() < 1e-10);
    }
    for i in 0..4 {
        let weights: Vec<f64> = (0..4)
            .map(|j| {
                if i == j {
                    0.0
                } else {
                    (-cond.beta[i] * sq_dists[[i, j]]).exp()
                }
            })
            .collect();
        let z: f64 = weights.iter().sum();
        for (j, w) in weights.iter().enumerate() {
            assert!((cond.p[[i, j]] - w / z).abs() < 1e-12, "({i}, {j})");
        }
        assert!((crate::entropy(cond.p.row(i).iter().copied()) - perplexity.ln()).abs() < 1e-9);
        assert!((cond.perplexity_reached[i] - perplexity).abs() < 1e-8);
    }
}
