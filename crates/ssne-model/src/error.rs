//! The error type of `ssne-model`.

use std::path::PathBuf;

/// Everything that can go wrong while building, training, using or storing a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A configuration value is out of range; says which and what is allowed.
    #[error("invalid configuration: {field} = {value}: {allowed}")]
    Config {
        /// The configuration field, e.g. `"finetune.batch_size"`.
        field: &'static str,
        /// The value that was given.
        value: String,
        /// What would be valid.
        allowed: String,
    },
    /// Data with a different number of features than the model was trained on.
    #[error("the data has {found} features per point but the model expects {expected}")]
    FeatureCount {
        /// Features the model was trained with.
        expected: usize,
        /// Features in the data given.
        found: usize,
    },
    /// The observer asked training to stop ([`TrainObserver::should_stop`](crate::TrainObserver::should_stop)).
    #[error("training was interrupted while {} after step {done} of {total}", .stage.describe())]
    Interrupted {
        /// The stage that was running.
        stage: crate::Stage,
        /// Units of the stage's work complete (steps; batches while computing affinities).
        done: usize,
        /// Units of work the stage has in all.
        total: usize,
    },
    /// The operation needs labels and the data has none.
    #[error("{what} needs labelled data, and the data has no labels")]
    NoLabels {
        /// What needed the labels.
        what: &'static str,
    },
    /// A label is not below the number of classes of the network.
    #[error("label {label} at row {row} is not below the {n_classes} classes of the network")]
    LabelOutOfRange {
        /// The offending label.
        label: u32,
        /// Its row.
        row: usize,
        /// Number of outputs of the classifier.
        n_classes: usize,
    },
    /// The data's labels include classes the model was not trained on, so figures that compare
    /// labels (k-NN accuracy, classifier accuracy, per-class maps) would be meaningless.
    #[error(
        "the data has labels the model does not know: {}; the model's classes are {}. \
         Give data labelled like the training data",
        .unknown.join(", "),
        .known.join(", ")
    )]
    UnknownLabels {
        /// The data's labels (as the user wrote them) that are none of the model's classes; at most ten.
        unknown: Vec<String>,
        /// The model's classes (as the user wrote them); at most twenty.
        known: Vec<String>,
    },
    /// The fine-tuning perplexity is too large for the number of training rows.
    #[error(
        "perplexity {perplexity} needs at least {needed} training rows, and there are {found}; \
         use a perplexity below {limit}, or train on more rows"
    )]
    PerplexityTooLargeForRows {
        /// The perplexity asked for.
        perplexity: f64,
        /// The fewest rows that perplexity can be fine-tuned on.
        needed: usize,
        /// The training rows (or, for the batch schemes, the smallest batch).
        found: usize,
        /// The perplexity must stay below this for `found` rows.
        limit: usize,
    },
    /// Too few points for the requested operation.
    #[error("{what} needs at least {needed} points, got {found}")]
    TooFewPoints {
        /// What needed them.
        what: &'static str,
        /// The minimum.
        needed: usize,
        /// What was given.
        found: usize,
    },
    /// Two things that must come in equal numbers do not (rows and labels,
    /// reference inputs and map positions, ...).
    #[error("{what}: expected {expected}, found {found}")]
    CountMismatch {
        /// What must match, and with what.
        what: &'static str,
        /// The count required.
        expected: usize,
        /// The count given.
        found: usize,
    },
    /// The data contains NaN or infinity.
    #[error("non-finite value at row {row}, column {col}")]
    NonFinite {
        /// Row of the first non-finite value.
        row: usize,
        /// Column of the first non-finite value.
        col: usize,
    },
    /// Training diverged: the loss became NaN or infinite.
    #[error("training diverged at {stage} step {step}: the loss is {loss}; lower the learning rate")]
    Diverged {
        /// `"pretraining"` or `"fine-tuning"`.
        stage: &'static str,
        /// The step at which it happened.
        step: usize,
        /// The loss value.
        loss: f64,
    },
    /// Refined placement needs the training inputs, and the model does not keep them.
    #[error(
        "this model does not keep its training inputs, so new points cannot be refined: retrain with reference inputs kept"
    )]
    NoReferenceInputs,
    /// A model file or training-state file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A training checkpoint cannot continue this run.
    #[error("cannot resume: {what}")]
    ResumeMismatch {
        /// What differs between the checkpoint and the run.
        what: String,
    },
    /// A model file is not valid: wrong magic, other format version, bad checksum, truncated,
    /// or contents that do not fit together.
    #[error("{path}: {problem}")]
    BadModelFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// A training-state file (a checkpoint of a run, to resume from) is not valid: wrong magic,
    /// other format version, bad checksum, truncated, or contents that do not fit together.
    #[error("{path}: {problem}")]
    BadTrainingState {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// An error from the autodiff tape (a shape bug or invalid labels).
    #[error(transparent)]
    Autodiff(#[from] ssne_autodiff::AutodiffError),
    /// An error computing affinities (e.g. perplexity too large for the batch).
    #[error(transparent)]
    Affinity(#[from] ssne_affinity::AffinityError),
    /// An error from a tensor kernel.
    #[error(transparent)]
    Tensor(#[from] ssne_tensor::TensorError),
    /// An error from the data layer.
    #[error(transparent)]
    Data(#[from] ssne_data::DataError),
}

/// Shorthand for results of this crate.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;

pub(crate) fn config_error(
    field: &'static str,
    value: impl std::fmt::Display,
    allowed: impl Into<String>,
) -> ModelError {
    ModelError::Config {
        field,
        value: value.to_string(),
        allowed: allowed.into(),
    }
}
