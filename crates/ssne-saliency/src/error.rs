//! The error type of `ssne-saliency`.

/// Everything a saliency computation or a picture can reject.
///
/// Variants carry the values needed to fix the call: the width that was
/// expected, the groups that exist, the shape that was asked for.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SaliencyError {
    /// Points of a different width than the network's input.
    #[error("the points have {found} features but the network expects {expected}")]
    FeatureCount {
        /// Input width of the network.
        expected: usize,
        /// Width of the points given.
        found: usize,
    },
    /// A class target beyond the classifier's outputs.
    #[error("class {class} is out of range: the classifier has {n_classes} classes")]
    ClassOutOfRange {
        /// The class asked for.
        class: u32,
        /// Number of classifier outputs.
        n_classes: usize,
    },
    /// A class target for a model that has no pretrained classifier (it was
    /// trained on unlabelled data).
    #[error("class saliency needs the pretrained classifier, and this model has none (trained without labels)")]
    NoClassifier,
    /// A per-row target (classes, directions or target points) whose row count
    /// is neither 1 nor the number of points.
    #[error("{what} has {found} rows; it needs 1 (shared) or one per point ({n_points})")]
    TargetRows {
        /// Which part of the target.
        what: &'static str,
        /// Rows given.
        found: usize,
        /// Points being explained.
        n_points: usize,
    },
    /// A direction whose width is not the map's dimension.
    #[error("the direction has {found} components but the map is {expected}-dimensional")]
    DirectionWidth {
        /// Dimension of the map.
        expected: usize,
        /// Components given.
        found: usize,
    },
    /// A baseline whose shape does not fit the points.
    #[error("the baseline has shape {found:?}; it needs [1, {n_features}] or [{n_points}, {n_features}]")]
    BaselineShape {
        /// Shape given.
        found: [usize; 2],
        /// Points being explained.
        n_points: usize,
        /// Features per point.
        n_features: usize,
    },
    /// Maps of a different shape than the points they explain.
    #[error("the maps have shape {found:?}; they need one row per point and one column per feature, {expected:?}")]
    MapShape {
        /// Shape given.
        found: [usize; 2],
        /// `[points, features]`.
        expected: [usize; 2],
    },
    /// A group name that is not among the groups.
    #[error("unknown group {name:?}; the groups are {known:?}")]
    UnknownGroup {
        /// The name asked for.
        name: String,
        /// The names that exist.
        known: Vec<String>,
    },
    /// A group without points: it has no centre.
    #[error("group {name:?} has no points, so it has no centre")]
    EmptyGroup {
        /// The group.
        name: String,
    },
    /// A group member index beyond the data.
    #[error("group {group:?} names point {index}, but the data has {n_points} points")]
    PointOutOfRange {
        /// The group.
        group: String,
        /// The offending index.
        index: usize,
        /// Number of points in the data.
        n_points: usize,
    },
    /// Labels and data of different lengths.
    #[error("{n_labels} labels for {n_points} points")]
    LabelCount {
        /// Labels given.
        n_labels: usize,
        /// Points in the data.
        n_points: usize,
    },
    /// An image shape whose pixel count is not the number of values.
    #[error("image shape {shape:?} has {} pixels, but the map has {n_values} values", shape[0] * shape[1])]
    ImageShape {
        /// The shape asked for, `[height, width]`.
        shape: [usize; 2],
        /// Values per map.
        n_values: usize,
    },
    /// An out-of-range setting (a step count, a noise level, a scale).
    #[error("invalid {name} = {value}: {allowed}")]
    InvalidParameter {
        /// The setting.
        name: &'static str,
        /// The value given.
        value: String,
        /// What would be valid.
        allowed: &'static str,
    },
    /// Exact additive attribution asked of a network that is not positively
    /// homogeneous (train it with `Preset::Additive`).
    #[error(
        "exact additive attribution needs a network without biases whose activations are ReLU or identity; \
         the {network} has {}{}{} (train it with the additive preset)",
        if *biases { "non-zero biases" } else { "" },
        if *biases && !activations.is_empty() { " and " } else { "" },
        if activations.is_empty() { String::new() } else { format!("{} activations", activations.join(", ")) }
    )]
    NotAdditive {
        /// Which network the target differentiates: `"map"` or `"classifier"`.
        network: &'static str,
        /// Whether it has non-zero biases.
        biases: bool,
        /// Its activations that are not positively homogeneous (e.g. `"tanh"`).
        activations: Vec<&'static str>,
    },
    /// An ensemble needs at least one model.
    #[error("an ensemble needs at least one model")]
    EmptyEnsemble,
    /// A picture size that cannot be made: a side of 0 pixels or more than
    /// [`MAX_SIDE`](crate::picture::MAX_SIDE).
    #[error("a {width}x{height} picture cannot be made: each side must be 1 to {max} pixels")]
    PictureSize {
        /// Width in pixels (saturated).
        width: usize,
        /// Height in pixels (saturated).
        height: usize,
        /// The largest side allowed.
        max: usize,
    },
    /// The PNG encoder failed.
    #[error("encoding PNG: {0}")]
    Png(#[from] png::EncodingError),
    /// Writing a file failed (the error names the path).
    #[error(transparent)]
    Data(#[from] ssne_data::DataError),
    /// The model rejected the call.
    #[error(transparent)]
    Model(#[from] ssne_model::ModelError),
    /// The tape rejected an operation (a shape bug: please report it).
    #[error(transparent)]
    Autodiff(#[from] ssne_autodiff::AutodiffError),
}

/// Shorthand for results of this crate.
pub type Result<T, E = SaliencyError> = std::result::Result<T, E>;

pub(crate) fn invalid(name: &'static str, value: impl std::fmt::Display, allowed: &'static str) -> SaliencyError {
    SaliencyError::InvalidParameter {
        name,
        value: value.to_string(),
        allowed,
    }
}
