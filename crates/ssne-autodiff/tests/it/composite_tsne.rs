//! A parametric t-SNE graph: an MLP maps points to 2-D, followed by `tsne_kl`
//! or `tsne_coupled`; gradients with respect to every parameter and to the
//! inputs against finite differences.

use proptest::prelude::*;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use ssne_autodiff::check::{self, Tolerance};
use ssne_autodiff::{Result, StudentT, Tape, Var};
use ssne_tensor::ndarray::Array2;

use crate::{Activation, Mlp, random, rng, to_case};

const SIZES: [usize; 3] = [5, 4, 2];
const N_POINTS: usize = 7;

/// A normalised random P with a few exact zeros, not symmetric.
fn affinities(rng: &mut ChaCha8Rng, n: usize) -> Array2<f64> {
    let mut p = Array2::from_shape_simple_fn((n, n), || {
        let v: f64 = rng.random_range(0.0..1.0);
        if v < 0.2 { 0.0 } else { v }
    });
    p.diag_mut().fill(0.0);
    let total = p.sum();
    p / total
}

fn edges(rng: &mut ChaCha8Rng, n: usize, n_edges: usize) -> Vec<(u32, u32)> {
    (0..n_edges)
        .map(|_| {
            let head = rng.random_range(0..n);
            let tail = (head + rng.random_range(1..n)) % n;
            (head as u32, tail as u32)
        })
        .collect()
}

/// Checks `loss(mlp(x))` with respect to every parameter and to `x`.
fn check_all<L>(mlp: &Mlp<f64>, x: &Array2<f64>, loss: L, tol: Tolerance) -> Result<(), TestCaseError>
where
    L: Fn(&mut Tape<f64>, Var) -> Result<Var>,
{
    for leaf_idx in 0..mlp.params().len() {
        let f = |t: &mut Tape<f64>, leaf| {
            let input = t.constant_from(x.view());
            let params = mlp.vars_with_leaf(t, leaf_idx, leaf);
            let y = mlp.forward(t, input, &params)?;
            loss(t, y)
        };
        to_case(check::gradient(f, mlp.params()[leaf_idx], tol))?;
    }
    let f = |t: &mut Tape<f64>, input| {
        let params = mlp.vars(t);
        let y = mlp.forward(t, input, &params)?;
        loss(t, y)
    };
    to_case(check::gradient(f, x, tol))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn mlp_with_tsne_kl_matches_finite_differences(seed in any::<u64>(), dof in 0.5..3.0f64) {
        let mut rng = rng(seed);
        let mlp = Mlp::<f64>::init(&mut rng, &SIZES, Activation::Tanh);
        let x = random(&mut rng, N_POINTS, SIZES[0], 1.0);
        let p = affinities(&mut rng, N_POINTS);
        let tol = Tolerance { atol: 1e-7, rtol: 1e-5, ..Tolerance::default() };
        for kernel in [StudentT::default(), StudentT { dof }] {
            check_all(&mlp, &x, |t, y| t.tsne_kl(y, p.view(), kernel), tol)?;
        }
    }

    #[test]
    fn mlp_with_tsne_coupled_matches_finite_differences(seed in any::<u64>(), dof in 0.5..3.0f64) {
        let mut rng = rng(seed);
        let mlp = Mlp::<f64>::init(&mut rng, &SIZES, Activation::Tanh);
        let x = random(&mut rng, N_POINTS, SIZES[0], 1.0);
        let edges = edges(&mut rng, N_POINTS, 5);
        let weight: f64 = rng.random_range(0.1..3.0);
        let tol = Tolerance { atol: 1e-7, rtol: 1e-5, ..Tolerance::default() };
        for kernel in [StudentT::default(), StudentT { dof }] {
            check_all(&mlp, &x, |t, y| t.tsne_coupled(y, &edges, kernel, weight), tol)?;
        }
    }
}

/// The VJP of the embedding, seeded with the t-SNE gradient, equals the
/// gradient of the composite loss: the chain rule through `tsne_kl` holds.
#[test]
fn loss_gradient_factors_through_the_embedding() {
    let mut rng = rng(9);
    let mlp = Mlp::<f64>::init(&mut rng, &SIZES, Activation::Relu);
    let x = random::<f64>(&mut rng, N_POINTS, SIZES[0], 1.0);
    let p = affinities(&mut rng, N_POINTS);

    let mut tape = Tape::<f64>::new();
    let input = tape.var_from(x.view());
    let params = mlp.vars(&mut tape);
    let y = mlp.forward(&mut tape, input, &params).unwrap();
    let loss = tape.tsne_kl(y, p.view(), StudentT::default()).unwrap();
    let full = tape.backward(loss).unwrap();

    let mut embed_tape = Tape::<f64>::new();
    let y_leaf = embed_tape.var_from(tape.value(y).unwrap());
    let loss2 = embed_tape.tsne_kl(y_leaf, p.view(), StudentT::default()).unwrap();
    let dl_dy = embed_tape.backward(loss2).unwrap().take(y_leaf).unwrap();
    let chained = tape.vjp(y, dl_dy.view()).unwrap();
    for &v in params.iter().chain([&input]) {
        let a = full.get(v).unwrap();
        let b = chained.get(v).unwrap();
        assert!(
            a.iter()
                .zip(b.iter())
                .all(|(a, b)| (a - b).abs() <= 1e-14 * (1.0 + a.abs()))
        );
    }
}
