//! The error type of `ssne-tensor`.

/// What can go wrong in a tensor kernel: only shapes that do not fit together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TensorError {
    /// Two operands whose shapes are incompatible for `op`.
    #[error("{op}: shapes {left:?} and {right:?} do not fit together")]
    ShapeMismatch {
        /// The operation that was attempted, e.g. `"gemm"`.
        op: &'static str,
        /// Shape of the left operand (after any transposition).
        left: [usize; 2],
        /// Shape of the right operand (after any transposition), or of the output.
        right: [usize; 2],
    },
}
