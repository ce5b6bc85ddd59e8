//! The error type of `ssne-autodiff`.

use ssne_tensor::TensorError;

/// Everything a tape operation can reject. Ops validate their inputs before
/// recording anything, so an `Err` leaves the tape unchanged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AutodiffError {
    /// The [`Var`](crate::Var) belongs to another tape, or to this tape before
    /// its last [`clear`](crate::Tape::clear).
    #[error(
        "variable {index} is stale: it was made by tape generation {var_generation}, the tape is at {tape_generation}"
    )]
    StaleVar {
        /// Node index stored in the variable.
        index: u32,
        /// Generation stored in the variable.
        var_generation: u64,
        /// Current generation of the tape it was used with.
        tape_generation: u64,
    },
    /// Two operands whose shapes do not fit together for `op`.
    #[error("{op}: shapes {left:?} and {right:?} do not fit together")]
    ShapeMismatch {
        /// The operation, e.g. `"matmul"`.
        op: &'static str,
        /// Shape of the left (or only) operand.
        left: [usize; 2],
        /// Shape of the right operand, or the shape that was required.
        right: [usize; 2],
    },
    /// [`backward`](crate::Tape::backward) was called on a value that is not `[1, 1]`.
    #[error("backward needs a [1, 1] loss, got shape {shape:?}")]
    NotScalar {
        /// Shape of the value that was passed.
        shape: [usize; 2],
    },
    /// The seed of a [`vjp`](crate::Tape::vjp) does not have the output's shape.
    #[error("vjp seed has shape {seed:?}, the output has shape {output:?}")]
    SeedShape {
        /// Shape of the output.
        output: [usize; 2],
        /// Shape of the seed that was passed.
        seed: [usize; 2],
    },
    /// A class label is not below the number of logit columns.
    #[error("label {label} of row {row} is out of range for {n_classes} classes")]
    LabelOutOfRange {
        /// Row whose label is wrong.
        row: usize,
        /// The label.
        label: u32,
        /// Number of classes (columns of the logits).
        n_classes: usize,
    },
    /// The number of labels differs from the number of logit rows.
    #[error("{labels} labels for {rows} rows of logits")]
    LabelCount {
        /// Number of labels passed.
        labels: usize,
        /// Number of rows of the logits.
        rows: usize,
    },
    /// An op that needs at least `min` rows received fewer.
    #[error("{op} needs at least {min} rows, got {rows}")]
    TooFewRows {
        /// The operation.
        op: &'static str,
        /// Rows passed.
        rows: usize,
        /// Rows required.
        min: usize,
    },
    /// An entry of the t-SNE affinity matrix P is negative or not finite.
    #[error("P[{row}, {col}] = {value} is not a finite non-negative affinity")]
    InvalidAffinity {
        /// Row of the entry.
        row: usize,
        /// Column of the entry.
        col: usize,
        /// The entry, widened to `f64`.
        value: f64,
    },
    /// A scalar parameter (kernel degrees of freedom, loss weight) is out of range.
    #[error("{op}: {name} = {value} is invalid; it must be {requirement}")]
    InvalidParameter {
        /// The operation.
        op: &'static str,
        /// Name of the parameter.
        name: &'static str,
        /// The value that was passed.
        value: f64,
        /// What would have been valid.
        requirement: &'static str,
    },
    /// An edge of [`tsne_coupled`](crate::Tape::tsne_coupled) names a row that
    /// does not exist, or links a row to itself.
    #[error(
        "edge {edge_idx} = ({head}, {tail}) is invalid for {n_rows} rows (indices must be distinct and below {n_rows})"
    )]
    InvalidEdge {
        /// Position of the edge in the slice.
        edge_idx: usize,
        /// Head row index.
        head: u32,
        /// Tail row index.
        tail: u32,
        /// Number of rows of the embedding.
        n_rows: usize,
    },
    /// [`tsne_coupled`](crate::Tape::tsne_coupled) was given no edges.
    #[error("the t-SNE edge losses (tsne_coupled, tsne_negative, log_mean_kernel) need at least one edge")]
    NoEdges,
    /// The loss of `op` is not finite, e.g. every kernel weight underflowed to 0.
    #[error("{op}: the result is not finite ({value})")]
    NonFinite {
        /// The operation.
        op: &'static str,
        /// The offending value.
        value: f64,
    },
    /// [`jacobian`](crate::Tape::jacobian) was asked for the derivative with
    /// respect to a node that keeps no gradient (a constant or an op result).
    #[error("node {index} is not a leaf made by `var`, so it has no gradient")]
    NotAVar {
        /// Node index of the variable.
        index: u32,
    },
    /// A kernel of `ssne-tensor` rejected its operands.
    #[error(transparent)]
    Tensor(#[from] TensorError),
}

/// `Result` with [`AutodiffError`] as the default error.
pub type Result<T, E = AutodiffError> = std::result::Result<T, E>;
