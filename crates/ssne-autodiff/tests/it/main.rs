//! Integration tests of `ssne-autodiff`: composite graphs against finite
//! differences, precision, thread-count independence and buffer reuse.

mod alloc_count;
mod composite_mlp;
mod composite_tsne;
mod determinism;
mod precision;
mod reuse;

use proptest::test_runner::TestCaseError;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ssne_autodiff::check::GradientMismatch;
use ssne_autodiff::{Real, Result, Tape, Var};
use ssne_tensor::ndarray::Array2;

/// A seeded matrix with entries uniform in `[-scale, scale)`.
pub(crate) fn random<R: Real>(rng: &mut ChaCha8Rng, rows: usize, cols: usize, scale: f64) -> Array2<R> {
    Array2::from_shape_simple_fn((rows, cols), || R::from_f64(rng.random_range(-scale..scale)))
}

pub(crate) fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Runs `f` on a fresh rayon pool of `threads` threads.
pub(crate) fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("building a test thread pool")
        .install(f)
}

/// Turns a failed check into a proptest failure with its message.
pub(crate) fn to_case(result: Result<(), GradientMismatch>) -> Result<(), TestCaseError> {
    result.map_err(|e| TestCaseError::fail(e.to_string()))
}

/// The hidden activation of a test MLP.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Activation {
    Tanh,
    Relu,
}

/// A small MLP: `layers[l] = (weight [in, out], bias [1, out])`, activation
/// between layers, none after the last.
#[derive(Clone, Debug)]
pub(crate) struct Mlp<R> {
    pub(crate) layers: Vec<(Array2<R>, Array2<R>)>,
    pub(crate) activation: Activation,
}

impl<R: Real> Mlp<R> {
    pub(crate) fn init(rng: &mut ChaCha8Rng, sizes: &[usize], activation: Activation) -> Self {
        let layers = sizes
            .windows(2)
            .map(|w| {
                let scale = (3.0 / w[0] as f64).sqrt() * 1.5;
                (random(rng, w[0], w[1], scale), random(rng, 1, w[1], 0.5))
            })
            .collect();
        Self { layers, activation }
    }

    /// All parameters in order `w0, b0, w1, b1, ...`.
    pub(crate) fn params(&self) -> Vec<&Array2<R>> {
        self.layers.iter().flat_map(|(w, b)| [w, b]).collect()
    }

    pub(crate) fn cast<S: Real>(&self) -> Mlp<S> {
        let cast = |a: &Array2<R>| a.mapv(|v| S::from_f64(v.to_f64()));
        Mlp {
            layers: self.layers.iter().map(|(w, b)| (cast(w), cast(b))).collect(),
            activation: self.activation,
        }
    }

    /// Records every parameter as a `var`.
    pub(crate) fn vars(&self, tape: &mut Tape<R>) -> Vec<Var> {
        self.params().into_iter().map(|p| tape.var_from(p.view())).collect()
    }

    /// Records every parameter as a constant except number `leaf_idx`, which is `leaf`.
    pub(crate) fn vars_with_leaf(&self, tape: &mut Tape<R>, leaf_idx: usize, leaf: Var) -> Vec<Var> {
        let params = self.params();
        params
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                if i == leaf_idx {
                    leaf
                } else {
                    tape.constant_from(p.view())
                }
            })
            .collect()
    }

    /// The forward pass on `tape`, with parameters `params` (as from [`Mlp::vars`]).
    pub(crate) fn forward(&self, tape: &mut Tape<R>, x: Var, params: &[Var]) -> Result<Var> {
        let mut h = x;
        let n_layers = params.len() / 2;
        for layer in 0..n_layers {
            h = tape.matmul(h, params[2 * layer])?;
            h = tape.add_bias(h, params[2 * layer + 1])?;
            if layer + 1 < n_layers {
                h = match self.activation {
                    Activation::Tanh => tape.tanh(h)?,
                    Activation::Relu => tape.relu(h)?,
                };
            }
        }
        Ok(h)
    }
}
