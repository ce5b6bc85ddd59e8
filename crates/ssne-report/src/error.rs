//! The one error type of the crate.

/// What can stop a report from being built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The model has no fine-tuned map to show.
    #[error("the model is only pretrained; fine-tune it before making a report")]
    NotFinetuned,
    /// The page computes the network in JavaScript, and this network cannot be written there.
    #[error("the report cannot compute this network in the page: {reason}")]
    Unsupported {
        /// What the page cannot express.
        reason: String,
    },
    /// The points were already scaled: the page needs the inputs as the user gave them.
    #[error(
        "the {what} are already scaled ({found:?}); give them as loaded, the report applies the model's scaling itself"
    )]
    AlreadyScaled {
        /// Which rows.
        what: &'static str,
        /// Their scaling.
        found: ssne_data::ScalingKind,
    },
    /// Two inputs that must agree in size do not.
    #[error("{what}: expected {expected}, found {found}")]
    Mismatch {
        /// What was compared.
        what: &'static str,
        /// The size the model or the points imply.
        expected: usize,
        /// The size given.
        found: usize,
    },
    /// The model's computation failed (shapes, non-finite inputs).
    #[error(transparent)]
    Model(#[from] ssne_model::ModelError),
    /// A saliency map failed.
    #[error(transparent)]
    Saliency(#[from] ssne_saliency::SaliencyError),
    /// The data could not be scaled.
    #[error(transparent)]
    Data(#[from] ssne_data::DataError),
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, ReportError>;
