//! The error type of `ssne-tensor`.

/// What can go wrong in a tensor kernel: shapes that do not fit together, or sparse rows that
/// are not a valid [`Csr`](crate::Csr).
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
    /// A column of a sparse row outside `0..ncols`, or not greater than the one before it (rows
    /// list their entries in strictly increasing column order).
    #[error("sparse row {row}: column {col} is out of order or outside 0..{ncols}")]
    SparseColumn {
        /// The row holding the entry.
        row: usize,
        /// Its column.
        col: u32,
        /// Number of columns of the matrix.
        ncols: usize,
    },
    /// A sparse matrix with more rows or columns than `u32` indices can number.
    #[error("a sparse matrix of {nrows} x {ncols} has dimensions beyond u32 indices")]
    SparseTooLarge {
        /// Number of rows.
        nrows: usize,
        /// Number of columns.
        ncols: usize,
    },
}
