//! The MLP classifier with its 2-D embedding head: its [`spec`] (shape), its
//! parameters (here), **the** forward pass on an autodiff tape that training,
//! embedding and saliency all differentiate ([`tape`]), and a tape-free copy of
//! that forward pass for prediction ([`inference`]), and its vector-Jacobian
//! product with respect to the input without a tape ([`vjp`]), for saliency. Both passes apply each
//! layer with the same kernels: the GEMMs, `add_row_bias` and the element-wise
//! activation functions of `ssne_tensor`.

mod inference;
mod projection;

pub(crate) use inference::INFER_CHUNK;
mod spec;
mod tape;
mod vjp;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use ssne_tensor::ndarray::{Array2, Axis};

pub(crate) use projection::check_projection;
pub use spec::{HeadInput, NetworkSpec};
pub use tape::{BoundNetwork, Forward, Trainable};
pub use vjp::NetworkOutput;

use crate::Result;
use crate::activation::Activation;

/// A fully connected layer `y = x W + b` with `W` of shape `[inputs, outputs]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dense {
    /// Weights, `[inputs, outputs]`.
    pub weight: Array2<f32>,
    /// Bias, `[1, outputs]`.
    pub bias: Array2<f32>,
}

impl Dense {
    fn init(n_in: usize, n_out: usize, he: bool, rng: &mut ChaCha8Rng) -> Self {
        // He keeps ReLU activations' variance stable; Glorot suits symmetric activations.
        let weight = if he {
            let std = (2.0 / n_in as f64).sqrt();
            let normal = Normal::new(0.0, std).unwrap_or_else(|_| unreachable!("std is finite and > 0"));
            Array2::from_shape_simple_fn((n_in, n_out), || normal.sample(rng) as f32)
        } else {
            let limit = (6.0 / (n_in + n_out) as f64).sqrt();
            Array2::from_shape_simple_fn((n_in, n_out), || rng.random_range(-limit..limit) as f32)
        };
        Dense {
            weight,
            bias: Array2::zeros((1, n_out)),
        }
    }
}

/// The classifier layers and the embedding head.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    /// The architecture.
    pub spec: NetworkSpec,
    /// Classifier layers, input first.
    pub layers: Vec<Dense>,
    /// The embedding head.
    pub head: Dense,
    /// Inputs that were constant in the training data have their first-layer
    /// weights held at zero (`false` here): they carry no information, and
    /// untrained random weights would otherwise dominate gradient saliency.
    /// With an input projection the mask holds the projection's rows instead.
    pub input_mask: Option<Vec<bool>>,
    /// A fixed linear map of the inputs applied before the first layer,
    /// `x W + b` with `W` of shape `[n_features, K]` (for a PCA-K of the
    /// training inputs, the principal directions as columns and `b = -mean W`),
    /// present exactly when [`NetworkSpec::input_projection`] is `Some(K)`.
    /// It never trains and is not among [`Network::parameters_mut`]; every
    /// forward pass and every gradient with respect to the inputs goes through it.
    pub input_projection: Option<Dense>,
}

impl Network {
    /// A freshly initialised network: He normal weights before ReLU layers,
    /// Glorot uniform elsewhere, zero biases.
    ///
    /// # Errors
    /// [`crate::ModelError::Config`] when the spec is invalid or asks for an
    /// input projection (which comes from data: [`Network::init_projected`]).
    pub fn init(spec: NetworkSpec, rng: &mut ChaCha8Rng) -> Result<Self> {
        spec.validate()?;
        if let Some(k) = spec.input_projection {
            return Err(crate::error::config_error(
                "network.input_projection",
                k,
                "a projection to start from (Network::init_projected)",
            ));
        }
        Ok(Self::init_layers(spec, None, rng))
    }

    fn init_layers(spec: NetworkSpec, input_projection: Option<Dense>, rng: &mut ChaCha8Rng) -> Self {
        let n_layers = spec.layer_widths.len() - 1;
        let layers = (0..n_layers)
            .map(|i| {
                let is_hidden = i + 1 < n_layers;
                let he = is_hidden && spec.hidden_activation == Activation::Relu;
                let n_in = if i == 0 {
                    spec.first_layer_inputs()
                } else {
                    spec.layer_widths[i]
                };
                Dense::init(n_in, spec.layer_widths[i + 1], he, rng)
            })
            .collect();
        let head = Dense::init(spec.head_in_width(), spec.embedding_dim, false, rng);
        Network {
            spec,
            layers,
            head,
            input_mask: None,
            input_projection,
        }
    }

    /// Number of input features.
    pub fn n_features(&self) -> usize {
        self.spec.n_features()
    }

    /// Mutable parameters in a fixed order: each layer's weight and bias, then the head's.
    pub fn parameters_mut(&mut self) -> Vec<&mut Array2<f32>> {
        let mut params: Vec<&mut Array2<f32>> = self
            .layers
            .iter_mut()
            .flat_map(|l| [&mut l.weight, &mut l.bias])
            .collect();
        params.push(&mut self.head.weight);
        params.push(&mut self.head.bias);
        params
    }

    /// Holds the first-layer weights of masked-out inputs at zero and records the mask.
    pub fn set_input_mask(&mut self, mask: Vec<bool>) {
        self.input_mask = Some(mask);
        self.apply_input_mask();
    }

    /// Zeroes the first-layer weights of masked-out inputs (after an optimiser
    /// step), or the projection's rows of them when there is a projection.
    pub fn apply_input_mask(&mut self) {
        let reads_inputs = match &mut self.input_projection {
            Some(projection) => Some(projection),
            None => self.layers.first_mut(),
        };
        if let (Some(mask), Some(first)) = (&self.input_mask, reads_inputs) {
            for (mut row, &keep) in first.weight.axis_iter_mut(Axis(0)).zip(mask) {
                if !keep {
                    row.fill(0.0);
                }
            }
        }
    }

    /// Whether every bias of the layers and the head is exactly zero (always
    /// so for a bias-free [`NetworkSpec`], whose biases never train). The
    /// input projection's offset counts as a bias here: it breaks
    /// homogeneity just the same.
    pub fn biases_are_zero(&self) -> bool {
        self.layers
            .iter()
            .map(|l| &l.bias)
            .chain(std::iter::once(&self.head.bias))
            .chain(self.input_projection.as_ref().map(|p| &p.bias))
            .all(|b| b.iter().all(|&v| v == 0.0))
    }

    /// Whether the network's function is positively homogeneous, so that
    /// `f(x) = J(x) x` holds exactly for the map and the logits: every bias is
    /// zero and every activation it applies is ReLU or identity. A
    /// [`NetworkSpec::is_homogeneous`] shape guarantees it for good; a network
    /// with biases has it only while they are all zero (freshly initialised).
    pub fn is_homogeneous(&self) -> bool {
        let homogeneous = |a: Activation| matches!(a, Activation::Relu | Activation::Identity);
        let hidden_ok = self.layers.len() < 2 || homogeneous(self.spec.hidden_activation);
        hidden_ok && homogeneous(self.spec.feature_activation) && self.biases_are_zero()
    }

    /// Errors unless `found` equals the network's input width.
    ///
    /// # Errors
    /// [`crate::ModelError::FeatureCount`].
    pub fn check_features(&self, found: usize) -> Result<()> {
        if found == self.n_features() {
            Ok(())
        } else {
            Err(crate::ModelError::FeatureCount {
                expected: self.n_features(),
                found,
            })
        }
    }
}

/// A network with non-zero biases, so that a bias added twice or not at all
/// shows; a spec with an input projection gets a random one with an offset.
#[cfg(test)]
pub(crate) fn test_network(spec: NetworkSpec, seed: u64) -> Network {
    use rand::SeedableRng;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut net = match spec.input_projection {
        None => Network::init(spec, &mut rng).expect("valid spec"),
        Some(k) => {
            let d = spec.n_features();
            let mut draw = ChaCha8Rng::seed_from_u64(seed ^ 0x5052_4f4a);
            let projection = Dense {
                weight: Array2::from_shape_simple_fn((d, k), || draw.random_range(-0.6..0.6)),
                bias: Array2::from_shape_simple_fn((1, k), || draw.random_range(-0.5..0.5)),
            };
            Network::init_projected(spec, projection, &mut rng).expect("valid spec")
        }
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed + 1);
    for p in net.parameters_mut() {
        if p.nrows() == 1 {
            p.mapv_inplace(|_| rng.random_range(-0.5..0.5));
        }
    }
    net
}
