//! Which network a target differentiates: the fine-tuned map or the pretrained classifier.

use ssne_model::{Network, ParametricTsne};

use crate::{Result, SaliencyError};

/// The networks of one model that saliency can differentiate.
///
/// A [`Target::Class`](crate::Target::Class) differentiates the pretrained
/// `classifier` (the network whose scores the classes were trained on);
/// every direction target differentiates the fine-tuned `map`.
///
/// Build it from a trained model with `Networks::from(&model)`, or from bare
/// networks (hand-built, freshly initialised) with [`Networks::new`].
#[derive(Debug, Clone, Copy)]
pub struct Networks<'a> {
    /// The fine-tuned network whose head output is the 2-D map.
    pub map: &'a Network,
    /// The pretrained classifier, when the model was trained with labels.
    pub classifier: Option<&'a Network>,
}

impl<'a> Networks<'a> {
    /// A map without a classifier (class targets will fail with
    /// [`SaliencyError::NoClassifier`]).
    pub fn new(map: &'a Network) -> Self {
        Networks { map, classifier: None }
    }

    /// The same, with `classifier` answering class targets.
    pub fn with_classifier(self, classifier: &'a Network) -> Self {
        Networks {
            classifier: Some(classifier),
            ..self
        }
    }

    /// Input width of the map.
    pub fn n_features(&self) -> usize {
        self.map.n_features()
    }

    /// Output dimension of the map (2 for a t-SNE map).
    pub fn embedding_dim(&self) -> usize {
        self.map.spec.embedding_dim
    }

    /// The classifier, or the error that says there is none.
    pub(crate) fn require_classifier(&self) -> Result<&'a Network> {
        self.classifier.ok_or(SaliencyError::NoClassifier)
    }

    /// Errors unless `found` is the map's input width.
    pub(crate) fn check_features(&self, found: usize) -> Result<()> {
        check_features(self.map, found)
    }
}

impl<'a> From<&'a ParametricTsne> for Networks<'a> {
    fn from(model: &'a ParametricTsne) -> Self {
        Networks {
            map: &model.network,
            classifier: model.classifier.as_ref(),
        }
    }
}

/// Errors unless `found` is the input width of `network`.
pub(crate) fn check_features(network: &Network, found: usize) -> Result<()> {
    let expected = network.n_features();
    if found == expected {
        Ok(())
    } else {
        Err(SaliencyError::FeatureCount { expected, found })
    }
}
