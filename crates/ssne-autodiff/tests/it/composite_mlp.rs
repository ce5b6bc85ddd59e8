//! MLP graphs with a softmax cross-entropy head: gradients with respect to
//! every parameter and to the inputs, VJPs along random directions, and the
//! Jacobian, all against finite differences.

use proptest::prelude::*;
use ssne_autodiff::check::{self, Tolerance};
use ssne_autodiff::{AutodiffError, Tape};
use ssne_tensor::ndarray::Array2;

use crate::{Activation, Mlp, random, rng, to_case};

const SIZES: [usize; 3] = [6, 5, 3];
const BATCH: usize = 4;

fn labels(seed: u64) -> Vec<u32> {
    (0..BATCH as u64)
        .map(|i| ((i * 7 + seed) % SIZES[2] as u64) as u32)
        .collect()
}

/// Checks the cross-entropy gradient with respect to each parameter in turn,
/// and to the input matrix.
fn check_all_gradients(mlp: &Mlp<f64>, x: &Array2<f64>, labels: &[u32], tol: Tolerance) -> Result<(), TestCaseError> {
    for leaf_idx in 0..mlp.params().len() {
        let f = |t: &mut Tape<f64>, leaf| {
            let input = t.constant_from(x.view());
            let params = mlp.vars_with_leaf(t, leaf_idx, leaf);
            let logits = mlp.forward(t, input, &params)?;
            t.softmax_cross_entropy(logits, labels)
        };
        to_case(check::gradient(f, mlp.params()[leaf_idx], tol))?;
    }
    let f = |t: &mut Tape<f64>, input| {
        let params = mlp.vars(t);
        let logits = mlp.forward(t, input, &params)?;
        t.softmax_cross_entropy(logits, labels)
    };
    to_case(check::gradient(f, x, tol))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn tanh_mlp_cross_entropy_gradients_match_finite_differences(seed in any::<u64>()) {
        let mut rng = rng(seed);
        let mlp = Mlp::<f64>::init(&mut rng, &SIZES, Activation::Tanh);
        let x = random(&mut rng, BATCH, SIZES[0], 1.0);
        let tol = Tolerance { atol: 1e-7, rtol: 1e-5, ..Tolerance::default() };
        check_all_gradients(&mlp, &x, &labels(seed), tol)?;
    }

    /// `seedᵀ J` of the logits with respect to the input and to the first
    /// weight matrix, along a random direction.
    #[test]
    fn vjp_matches_directional_finite_differences(seed in any::<u64>()) {
        let mut rng = rng(seed);
        let mlp = Mlp::<f64>::init(&mut rng, &SIZES, Activation::Tanh);
        let x = random(&mut rng, BATCH, SIZES[0], 1.0);
        let out_seed = random(&mut rng, BATCH, SIZES[2], 1.0);
        let direction = random(&mut rng, BATCH, SIZES[0], 1.0);
        let tol = Tolerance { atol: 1e-7, rtol: 1e-5, ..Tolerance::default() };
        let wrt_input = |t: &mut Tape<f64>, input| {
            let params = mlp.vars(t);
            mlp.forward(t, input, &params)
        };
        to_case(check::vjp_directional(wrt_input, &x, &out_seed, &direction, tol))?;

        let w_direction = random(&mut rng, SIZES[0], SIZES[1], 1.0);
        let wrt_weight = |t: &mut Tape<f64>, w| {
            let input = t.constant_from(x.view());
            let params = mlp.vars_with_leaf(t, 0, w);
            mlp.forward(t, input, &params)
        };
        to_case(check::vjp_directional(wrt_weight, mlp.params()[0], &out_seed, &w_direction, tol))?;
    }

    /// The Jacobian of one row's logits with respect to that row (a saliency
    /// map per class).
    #[test]
    fn jacobian_of_a_small_mlp_matches_finite_differences(seed in any::<u64>()) {
        let mut rng = rng(seed);
        let mlp = Mlp::<f64>::init(&mut rng, &SIZES, Activation::Tanh);
        let x = random(&mut rng, 1, SIZES[0], 1.0);
        let f = |t: &mut Tape<f64>, input| {
            let params = mlp.vars(t);
            mlp.forward(t, input, &params)
        };
        let tol = Tolerance { atol: 1e-7, rtol: 1e-5, ..Tolerance::default() };
        to_case(check::jacobian(f, &x, tol))?;
    }
}

/// ReLU networks, on fixed seeds (a random pre-activation within one
/// finite-difference step of 0 would make the check meaningless, and fixed
/// seeds keep the test deterministic).
#[test]
fn relu_mlp_cross_entropy_gradients_match_finite_differences() {
    for seed in 0..8 {
        let mut rng = rng(seed);
        let mlp = Mlp::<f64>::init(&mut rng, &SIZES, Activation::Relu);
        let x = random(&mut rng, BATCH, SIZES[0], 1.0);
        check_all_gradients(&mlp, &x, &labels(seed), Tolerance::default()).unwrap();
    }
}

/// One backward pass gives the gradient of every var at once, equal to the
/// gradients taken one leaf at a time, and can be repeated.
#[test]
fn one_pass_serves_parameters_and_inputs_and_can_be_repeated() {
    let mut rng = rng(3);
    let mlp = Mlp::<f64>::init(&mut rng, &SIZES, Activation::Tanh);
    let x = random::<f64>(&mut rng, BATCH, SIZES[0], 1.0);
    let mut tape = Tape::<f64>::new();
    let input = tape.var_from(x.view());
    let params = mlp.vars(&mut tape);
    let logits = mlp.forward(&mut tape, input, &params).unwrap();
    let loss = tape.softmax_cross_entropy(logits, &labels(3)).unwrap();
    let first = tape.backward(loss).unwrap();
    let second = tape.backward(loss).unwrap();
    for &v in params.iter().chain([&input]) {
        assert_eq!(first.get(v).unwrap(), second.get(v).unwrap());
    }

    let mut single = Tape::<f64>::new();
    let leaf = single.var_from(mlp.params()[2].view());
    let input_c = single.constant_from(x.view());
    let mixed = mlp.vars_with_leaf(&mut single, 2, leaf);
    let logits = mlp.forward(&mut single, input_c, &mixed).unwrap();
    let loss = single.softmax_cross_entropy(logits, &labels(3)).unwrap();
    let alone = single.backward(loss).unwrap();
    let diff = (&alone.get(leaf).unwrap() - &first.get(params[2]).unwrap()).mapv(f64::abs);
    assert!(diff.iter().all(|&d| d < 1e-14), "{diff:?}");
    assert!(alone.get(input_c).is_none());
}

#[test]
fn the_jacobian_rows_are_vjps_with_one_hot_seeds() {
    let mut rng = rng(5);
    let mlp = Mlp::<f64>::init(&mut rng, &SIZES, Activation::Tanh);
    let x = random::<f64>(&mut rng, 2, SIZES[0], 1.0);
    let mut tape = Tape::<f64>::new();
    let input = tape.var_from(x.view());
    let params = mlp.vars(&mut tape);
    let logits = mlp.forward(&mut tape, input, &params).unwrap();
    let jac = tape.jacobian(logits, input).unwrap();
    assert_eq!(jac.dim(), (2 * SIZES[2], 2 * SIZES[0]));
    for out_elem in 0..2 * SIZES[2] {
        let mut seed = Array2::zeros((2, SIZES[2]));
        seed[[out_elem / SIZES[2], out_elem % SIZES[2]]] = 1.0;
        let g = tape.vjp(logits, seed.view()).unwrap();
        let g = g.get(input).unwrap();
        assert!(jac.row(out_elem).iter().zip(g.iter()).all(|(a, b)| a == b));
    }
    // Rows of the batch do not interact: the off-diagonal blocks are zero.
    assert!(
        jac.slice(ssne_tensor::ndarray::s![..SIZES[2], SIZES[0]..])
            .iter()
            .all(|&v| v == 0.0)
    );
    assert_eq!(
        tape.jacobian(logits, params[0]).unwrap().dim(),
        (2 * SIZES[2], SIZES[0] * SIZES[1])
    );
    let not_a_var = tape.constant(Array2::zeros((1, 1)));
    assert!(matches!(
        tape.jacobian(logits, not_a_var),
        Err(AutodiffError::NotAVar { .. })
    ));
    assert!(matches!(
        tape.jacobian(logits, logits),
        Err(AutodiffError::NotAVar { .. })
    ));
}

#[test]
fn stale_and_misshapen_inputs_are_errors() {
    let mut tape = Tape::<f64>::new();
    let x = tape.var(Array2::zeros((2, 3)));
    let y = tape.tanh(x).unwrap();
    assert_eq!(
        tape.backward(y).unwrap_err(),
        AutodiffError::NotScalar { shape: [2, 3] }
    );
    assert_eq!(
        tape.vjp(y, Array2::zeros((3, 2)).view()).unwrap_err(),
        AutodiffError::SeedShape {
            output: [2, 3],
            seed: [3, 2]
        }
    );
    let loss = tape.sum(y).unwrap();
    let grads = tape.backward(loss).unwrap();
    tape.clear();
    assert!(matches!(tape.backward(loss), Err(AutodiffError::StaleVar { .. })));
    assert!(matches!(tape.jacobian(loss, x), Err(AutodiffError::StaleVar { .. })));
    // Gradients already returned own their buffers and outlive the clear.
    assert_eq!(grads.get(x).unwrap().dim(), (2, 3));
}
