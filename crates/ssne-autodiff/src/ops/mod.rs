//! The differentiable operations, one module per family; each holds its forward
//! pass, its backward rule and the property tests proving the rule.

pub(crate) mod activation;
pub(crate) mod elementwise;
pub(crate) mod log_mean_kernel;
pub(crate) mod matmul;
pub(crate) mod pairwise;
pub(crate) mod reduce;
pub(crate) mod softmax;
pub(crate) mod sq_dists;
pub(crate) mod tsne_coupled;
pub(crate) mod tsne_kl;
pub(crate) mod tsne_negative;

use ssne_tensor::Real;
use ssne_tensor::ndarray::{ArrayView2, ArrayViewMut2, Zip};

use crate::{AutodiffError, Result};

/// Element-wise loops shorter than this stay on the calling thread: below it the
/// cost of splitting exceeds the work. Element-wise results do not depend on
/// the split, so this only affects speed.
const PAR_MIN_ELEMS: usize = 1 << 15;

/// `f(dst, a)` for every pair of elements, in parallel for large arrays.
pub(crate) fn zip2<R: Real>(dst: ArrayViewMut2<'_, R>, a: ArrayView2<'_, R>, f: impl Fn(&mut R, R) + Sync + Send) {
    let parallel = dst.len() >= PAR_MIN_ELEMS;
    let zip = Zip::from(dst).and(a);
    if parallel {
        zip.par_for_each(|d, &a| f(d, a));
    } else {
        zip.for_each(|d, &a| f(d, a));
    }
}

/// `f(dst, a, b)` for every triple of elements, in parallel for large arrays.
pub(crate) fn zip3<R: Real>(
    dst: ArrayViewMut2<'_, R>,
    a: ArrayView2<'_, R>,
    b: ArrayView2<'_, R>,
    f: impl Fn(&mut R, R, R) + Sync + Send,
) {
    let parallel = dst.len() >= PAR_MIN_ELEMS;
    let zip = Zip::from(dst).and(a).and(b);
    if parallel {
        zip.par_for_each(|d, &a, &b| f(d, a, b));
    } else {
        zip.for_each(|d, &a, &b| f(d, a, b));
    }
}

/// Fails unless both shapes are equal.
pub(crate) fn same_shape(op: &'static str, left: [usize; 2], right: [usize; 2]) -> Result<()> {
    if left == right {
        Ok(())
    } else {
        Err(AutodiffError::ShapeMismatch { op, left, right })
    }
}

/// The argument checks of the edge-sampled t-SNE losses: at least two rows, at
/// least one edge, every pair (edges first, then `extra` pairs, counted on) two
/// different rows of `y`, and a finite non-negative attraction weight.
pub(crate) fn check_edge_loss(
    op: &'static str,
    n_rows: usize,
    edges: &[(u32, u32)],
    extra: &[(u32, u32)],
    attraction_weight: f64,
) -> Result<()> {
    if n_rows < 2 {
        return Err(AutodiffError::TooFewRows {
            op,
            rows: n_rows,
            min: 2,
        });
    }
    if edges.is_empty() {
        return Err(AutodiffError::NoEdges);
    }
    let invalid = |&(head, tail): &(u32, u32)| head == tail || head as usize >= n_rows || tail as usize >= n_rows;
    if let Some((edge_idx, &(head, tail))) = edges.iter().chain(extra).enumerate().find(|(_, e)| invalid(e)) {
        return Err(AutodiffError::InvalidEdge {
            edge_idx,
            head,
            tail,
            n_rows,
        });
    }
    if !(attraction_weight.is_finite() && attraction_weight >= 0.0) {
        return Err(AutodiffError::InvalidParameter {
            op,
            name: "attraction_weight",
            value: attraction_weight,
            requirement: "finite and non-negative",
        });
    }
    Ok(())
}
