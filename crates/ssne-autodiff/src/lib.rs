//! Reverse-mode automatic differentiation tape over ssne-tensor matrices, with the t-SNE loss
