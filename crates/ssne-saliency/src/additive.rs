//! Exact additive attribution of a positively homogeneous network
//! (`ssne_model::Preset::Additive`): the target's scalar is the sum of the
//! per-input contributions `x_j ∂F/∂x_j`, with no remainder.
//!
//! A network without biases whose activations are ReLU or identity is
//! piecewise linear through the origin, so `F(t x) = t F(x)` for `t > 0` and
//! Euler's theorem gives `F(x) = J(x) x` exactly. Input x gradient is then not
//! an estimate but the decomposition of `F(x)` relative to `F(0) = 0`: the
//! all-zero *network input*. The network sees the model's scaled rows, so with
//! a stored scaling the reference is the raw input that scales to zero (the
//! per-feature training minimum for unit-range scaling, the training mean for
//! standardisation); for the bundled MNIST sample (no scaling) it is the black
//! image, which the map places at its origin.

use ssne_tensor::ndarray::{Array1, Array2, ArrayView2, Axis};

use crate::attribution::{Attribution, InputTimesGradient};
use crate::networks::Networks;
use crate::target::{Plan, Target};
use crate::vjp::Output;
use crate::{Result, SaliencyError};

/// Exact additive attribution: `x ⊙ ∂F/∂x` for a positively homogeneous
/// network, refusing any other network with [`SaliencyError::NotAdditive`]
/// (on such a network the same product is only the first-order estimate that
/// [`InputTimesGradient`] gives).
///
/// # Example
/// ```
/// use rand::SeedableRng;
/// use ssne_model::{Network, NetworkSpec};
/// use ssne_saliency::{Additive, Attribution, Networks, SaliencyError, Target};
/// use ssne_tensor::ndarray::Array2;
///
/// let mut spec = NetworkSpec::paper(6, 3);
/// spec.biases = false;
/// let net = Network::init(spec, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0))?;
/// let x = Array2::<f32>::from_elem((2, 6), 0.5);
/// let target = Target::unit_direction(&[1.0, 0.0]);
/// let maps = Additive.attribute(Networks::new(&net), x.view(), &target)?;
/// assert_eq!(maps.dim(), (2, 6));
///
/// let mut bounded = NetworkSpec::paper(6, 3);
/// bounded.feature_activation = ssne_model::Activation::Tanh;
/// let tanh = Network::init(bounded, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0))?;
/// let refused = Additive.attribute(Networks::new(&tanh), x.view(), &target);
/// assert!(matches!(refused, Err(SaliencyError::NotAdditive { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Additive;

impl Attribution for Additive {
    fn attribute(&self, networks: Networks<'_>, x: ArrayView2<'_, f32>, target: &Target) -> Result<Array2<f32>> {
        check_homogeneous(networks, x, target)?;
        InputTimesGradient.attribute(networks, x, target)
    }
}

/// The exact decomposition of each point's target scalar, from
/// [`additive_contributions`].
#[derive(Debug, Clone, PartialEq)]
pub struct AdditiveMaps {
    /// Per-input contributions `x_j ∂F/∂x_j`, `[n, features]`.
    pub contributions: Array2<f32>,
    /// The target's scalar `F(x)` per point (`v · Y(x)` or the class score), in `f64`.
    pub score: Array1<f64>,
    /// `F(x) − Σ_j contributions_j` per point, summed in `f64`: zero up to the
    /// rounding of the `f32` forward and backward passes.
    pub remainder: Array1<f64>,
}

/// Splits each point's target scalar into per-input contributions that add up
/// to it exactly, and reports the remainder of the sum (a rounding check).
///
/// With the two unit directions `(1, 0)` and `(0, 1)` as targets this splits a
/// point's map position itself.
///
/// # Errors
/// [`SaliencyError::NotAdditive`] when the network the target differentiates
/// is not positively homogeneous (it has biases, or a tanh, sigmoid or softmax
/// activation), and the errors of [`Attribution::attribute`].
///
/// # Example
/// ```
/// use rand::SeedableRng;
/// use ssne_model::{Network, Preset, TrainConfig};
/// use ssne_saliency::{Networks, Target, additive_contributions};
/// use ssne_tensor::ndarray::Array2;
///
/// let spec = TrainConfig::preset(Preset::Additive, 0).network_spec(16, 3);
/// let net = Network::init(spec, &mut rand_chacha::ChaCha8Rng::seed_from_u64(7))?;
/// let x = Array2::from_shape_fn((4, 16), |(i, j)| ((i * 16 + j) % 5) as f32 / 4.0);
/// let split = additive_contributions(Networks::new(&net), x.view(), &Target::unit_direction(&[0.6, 0.8]))?;
/// for (r, s) in split.remainder.iter().zip(&split.score) {
///     assert!(r.abs() <= 1e-5 * s.abs().max(1.0));
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn additive_contributions(networks: Networks<'_>, x: ArrayView2<'_, f32>, target: &Target) -> Result<AdditiveMaps> {
    let contributions = Additive.attribute(networks, x, target)?;
    let score = target.score(networks, x)?;
    let remainder = contributions
        .axis_iter(Axis(0))
        .zip(&score)
        .map(|(c, &s)| s - c.iter().map(|&v| f64::from(v)).sum::<f64>())
        .collect();
    Ok(AdditiveMaps {
        contributions,
        score,
        remainder,
    })
}

/// Errors unless the output that `target` differentiates is homogeneous: the
/// logits need bias-free layers and homogeneous hidden units; the map also a
/// bias-free head and a homogeneous activation on the head's input.
fn check_homogeneous(networks: Networks<'_>, x: ArrayView2<'_, f32>, target: &Target) -> Result<()> {
    use ssne_model::Activation;
    let plan = Plan::new(target, networks, x)?;
    let network = plan.network;
    let spec = &network.spec;
    let map = matches!(plan.output, Output::Embedding);
    // An input projection's offset is a bias like any other.
    let mut biases = network
        .layers
        .iter()
        .chain(&network.input_projection)
        .any(|l| l.bias.iter().any(|&b| b != 0.0));
    if map {
        biases |= network.head.bias.iter().any(|&b| b != 0.0);
    }
    let mut applied = Vec::new();
    if network.layers.len() > 1 {
        applied.push(spec.hidden_activation);
    }
    if map {
        applied.push(spec.feature_activation);
    }
    let mut activations: Vec<&'static str> = applied
        .into_iter()
        .filter(|a| !matches!(a, Activation::Relu | Activation::Identity))
        .map(Activation::name)
        .collect();
    activations.dedup();
    if !biases && activations.is_empty() {
        return Ok(());
    }
    Err(SaliencyError::NotAdditive {
        network: if map { "map" } else { "classifier" },
        biases,
        activations,
    })
}
