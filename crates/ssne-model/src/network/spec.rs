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
        }
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
