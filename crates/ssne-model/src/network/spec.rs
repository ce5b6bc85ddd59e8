//! The shape of the network: widths, activations and how the embedding head is attached.

use crate::Result;
use crate::activation::Activation;
use crate::error::config_error;

/// Which layer feeds the embedding head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum HeadInput {
    /// The classifier's output units (the 10 logits for MNIST): the method's choice.
    Logits,
    /// The last hidden layer (100 units by default).
    Hidden,
}

/// The shape of the network: widths, activations and how the head is attached.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NetworkSpec {
    /// Widths from input to classifier output, e.g. `[784, 100, 10]`.
    pub layer_widths: Vec<usize>,
    /// Activation after every hidden layer.
    pub hidden_activation: Activation,
    /// Which layer feeds the embedding head.
    pub head_input: HeadInput,
    /// Activation applied to the head's input (identity in the paper; `Softmax`
    /// on the logits gives the "probabilities" head).
    pub feature_activation: Activation,
    /// Output dimension of the map (2).
    pub embedding_dim: usize,
    /// Fixed factor on the head's output, so that a bounded feature layer can
    /// still reach distances of t-SNE scale.
    pub output_scale: f32,
    /// Whether the layers and the head have biases. Without them (and with
    /// ReLU or identity activations, see [`NetworkSpec::is_homogeneous`]) the
    /// map is positively homogeneous, `Y(x) = J(x) x`, so a point's position
    /// splits exactly into per-input contributions. Bias-free networks keep
    /// their (zero-initialised) biases at zero: they never receive a gradient.
    pub biases: bool,
    /// Width `K` of a fixed linear projection of the inputs applied before the
    /// first layer ([`crate::Network::input_projection`], e.g. the training
    /// inputs' PCA-K), or `None` for none. The first layer then reads `K`
    /// values, while [`NetworkSpec::n_features`] stays the input width.
    pub input_projection: Option<usize>,
}

impl NetworkSpec {
    /// The paper's network for `n_features` inputs and `n_outputs` classes:
    /// `n_features`-100-`n_outputs`, ReLU, a linear 2-D head on the logits.
    pub fn paper(n_features: usize, n_outputs: usize) -> Self {
        NetworkSpec {
            layer_widths: vec![n_features, 100, n_outputs],
            hidden_activation: Activation::Relu,
            head_input: HeadInput::Logits,
            feature_activation: Activation::Identity,
            embedding_dim: 2,
            output_scale: 1.0,
            biases: true,
            input_projection: None,
        }
    }

    /// Whether the shape makes the map (and the logits) positively homogeneous
    /// of degree 1, `f(t x) = t f(x)` for `t > 0`: no biases, and only ReLU or
    /// identity activations (the output scale is a positive constant, which
    /// keeps it). Such a network is piecewise linear through the origin, so
    /// `f(x) = J(x) x` exactly (Euler's theorem) and input x gradient is an
    /// exact decomposition of `f(x)`. An input projection keeps it only
    /// without an offset, which [`crate::Network::is_homogeneous`] checks.
    ///
    /// ```
    /// use ssne_model::NetworkSpec;
    /// let mut spec = NetworkSpec::paper(784, 10);
    /// assert!(!spec.is_homogeneous(), "the paper's network has biases");
    /// spec.biases = false;
    /// assert!(spec.is_homogeneous());
    /// ```
    pub fn is_homogeneous(&self) -> bool {
        let homogeneous = |a: Activation| matches!(a, Activation::Relu | Activation::Identity);
        !self.biases && homogeneous(self.hidden_activation) && homogeneous(self.feature_activation)
    }

    /// Checks that the spec describes a network that can be built.
    ///
    /// # Errors
    /// [`crate::ModelError::Config`] naming the bad field.
    pub fn validate(&self) -> Result<()> {
        if self.layer_widths.len() < 2 || self.layer_widths.contains(&0) {
            return Err(config_error(
                "network.layer_widths",
                format!("{:?}", self.layer_widths),
                "at least an input and an output width, all > 0",
            ));
        }
        if self.head_input == HeadInput::Hidden && self.layer_widths.len() < 3 {
            return Err(config_error(
                "network.head_input",
                "hidden",
                "a network with at least one hidden layer",
            ));
        }
        if let Some(k) = self.input_projection
            && !(1..=self.layer_widths[0]).contains(&k)
        {
            return Err(config_error(
                "network.input_projection",
                k,
                format!("from 1 to the {} input features", self.layer_widths[0]),
            ));
        }
        if self.embedding_dim == 0 {
            return Err(config_error("network.embedding_dim", 0, "at least 1"));
        }
        if !(self.output_scale.is_finite() && self.output_scale > 0.0) {
            return Err(config_error(
                "network.output_scale",
                self.output_scale,
                "a finite number > 0",
            ));
        }
        Ok(())
    }

    /// Number of input features.
    pub fn n_features(&self) -> usize {
        self.layer_widths[0]
    }

    /// Number of values the first layer reads: the projection's width when
    /// there is one, else the input features.
    pub fn first_layer_inputs(&self) -> usize {
        self.input_projection.unwrap_or_else(|| self.n_features())
    }

    /// Number of classifier outputs.
    pub fn n_outputs(&self) -> usize {
        self.layer_widths[self.layer_widths.len() - 1]
    }

    pub(super) fn head_in_width(&self) -> usize {
        match self.head_input {
            HeadInput::Logits => self.n_outputs(),
            HeadInput::Hidden => self.layer_widths[self.layer_widths.len() - 2],
        }
    }
}
