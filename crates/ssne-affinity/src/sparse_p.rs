//! [`SparseP`]: the symmetric joint affinities of a whole data set, stored as an
//! [`ssne_tensor::Csr`] with the summary of the perplexity searches.

use rayon::prelude::*;
use ssne_tensor::ndarray::{Array2, Axis};
use ssne_tensor::{Csr, Real};

use crate::AffinityError;
use crate::options::sigmas;

/// Joint affinities `P = (P_cond + P_cond^T) / (2n)` over k-nearest-neighbour
/// pairs, stored as compressed sparse rows.
///
/// Symmetric (bitwise: `P_ij` and `P_ji` are the same sum), non-negative, zero
/// diagonal, sums to 1. Row `i` holds the union of `i`'s neighbours and the
/// points that have `i` as a neighbour, columns ascending.
///
/// The matrix itself is an [`ssne_tensor::Csr`] (the workspace's one sparse type, see
/// [`csr`](Self::csr)), so its parts, rows and transpose are the tensor crate's.
#[derive(Debug, Clone)]
pub struct SparseP<R> {
    p: Csr<R>,
    /// Precision `beta_i = 1 / (2 sigma_i^2)` of each conditional row.
    pub beta: Vec<f64>,
    /// The perplexity each conditional row reached.
    pub perplexity_reached: Vec<f64>,
    /// Conditional rows whose perplexity is off by more than the tolerance, ascending.
    pub unconverged: Vec<usize>,
}

impl<R: Real> SparseP<R> {
    /// Joins a square `p` with the summary of the searches of its conditional rows.
    pub(crate) fn from_parts(p: Csr<R>, summary: crate::search::Summary) -> Self {
        debug_assert_eq!(p.nrows(), p.ncols());
        Self {
            p,
            beta: summary.beta,
            perplexity_reached: summary.perplexity_reached,
            unconverged: summary.unconverged,
        }
    }

    /// The matrix: `n_points x n_points`, its non-zero entries only, columns ascending in each
    /// row ([`Csr::row_ptr`], [`Csr::col_indices`] and [`Csr::values`] give its parts).
    pub fn csr(&self) -> &Csr<R> {
        &self.p
    }

    /// Number of points (rows and columns).
    pub fn n_points(&self) -> usize {
        self.p.nrows()
    }

    /// Number of stored (non-zero) entries.
    pub fn nnz(&self) -> usize {
        self.p.nnz()
    }

    /// Columns and values of row `i`, or `None` if `i >= n_points`.
    pub fn row(&self, i: usize) -> Option<(&[u32], &[R])> {
        (i < self.n_points()).then(|| self.p.row(i))
    }

    /// Bandwidth `sigma_i = 1 / sqrt(2 beta_i)` of each conditional row.
    pub fn sigma(&self) -> Vec<f64> {
        sigmas(&self.beta)
    }

    /// The full `n x n` matrix (mind the memory: `n^2` elements).
    pub fn to_dense(&self) -> Array2<R> {
        self.p.to_dense()
    }

    /// The dense block of `P` on `points` (rows and columns in the given
    /// order; a repeated point repeats its row and column), NOT renormalised:
    /// it is the slice of the data set's `P` that a mini-batch sees.
    ///
    /// # Errors
    /// [`AffinityError::PointOutOfRange`] for an index `>= n_points`.
    ///
    /// # Example
    /// ```
    /// use ssne_affinity::{joint_knn, Perplexity, SearchOptions};
    /// use ssne_tensor::ndarray::array;
    ///
    /// let x = array![[0.0_f64], [1.0], [2.0], [4.0], [8.0]];
    /// let p = joint_knn(x.view(), Perplexity::new(1.5)?, &SearchOptions::default())?;
    /// let block = p.submatrix(&[3, 0])?;
    /// assert_eq!(block[[0, 1]], p.to_dense()[[3, 0]]);
    /// # Ok::<(), ssne_affinity::AffinityError>(())
    /// ```
    pub fn submatrix(&self, points: &[usize]) -> Result<Array2<R>, AffinityError> {
        if let Some(&point) = points.iter().find(|&&p| p >= self.n_points()) {
            return Err(AffinityError::PointOutOfRange {
                point,
                n_points: self.n_points(),
            });
        }
        // For each point, the batch positions where it occurs, as a linked list
        // (head per point, next per position): O(n + batch) and duplicates allowed.
        const END: usize = usize::MAX;
        let mut head = vec![END; self.n_points()];
        let mut next = vec![END; points.len()];
        for (pos, &point) in points.iter().enumerate().rev() {
            next[pos] = head[point];
            head[point] = pos;
        }
        let mut block = Array2::zeros((points.len(), points.len()));
        block
            .axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(points.par_iter())
            .for_each(|(mut out, &point)| {
                let (cols, vals) = self.p.row(point);
                for (&j, &v) in cols.iter().zip(vals) {
                    let mut pos = head[j as usize];
                    while pos != END {
                        out[pos] = v;
                        pos = next[pos];
                    }
                }
            });
        Ok(block)
    }
}

/// Equal matrices and equal search summaries.
impl<R: Real> PartialEq for SparseP<R> {
    fn eq(&self, other: &Self) -> bool {
        self.p == other.p
            && self.beta == other.beta
            && self.perplexity_reached == other.perplexity_reached
            && self.unconverged == other.unconverged
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::Summary;

    /// 3 points: P_01 = P_10 = 0.3, P_12 = P_21 = 0.2.
    fn example() -> SparseP<f64> {
        let rows = [vec![(1, 0.3)], vec![(0, 0.3), (2, 0.2)], vec![(1, 0.2)]];
        SparseP::from_parts(Csr::from_sorted_rows(3, rows).unwrap(), Summary::of(&[]))
    }

    #[test]
    fn accessors_and_dense_view() {
        let p = example();
        assert_eq!((p.n_points(), p.nnz()), (3, 4));
        assert_eq!(p.row(1), Some((&[0_u32, 2][..], &[0.3, 0.2][..])));
        assert_eq!(p.row(3), None);
        let dense = p.to_dense();
        assert_eq!(dense.row(1).to_vec(), vec![0.3, 0.0, 0.2]);
        assert_eq!(dense, dense.t());
    }

    #[test]
    fn submatrix_follows_the_given_order_and_repeats() {
        let p = example();
        let block = p.submatrix(&[2, 1, 2]).unwrap();
        assert_eq!(block.row(0).to_vec(), vec![0.0, 0.2, 0.0]);
        assert_eq!(block.row(1).to_vec(), vec![0.2, 0.0, 0.2]);
        assert_eq!(block.row(2).to_vec(), vec![0.0, 0.2, 0.0]);
        assert_eq!(
            p.submatrix(&[0, 3]),
            Err(AffinityError::PointOutOfRange { point: 3, n_points: 3 })
        );
        assert_eq!(p.submatrix(&[]).map(|b| b.dim()), Ok((0, 0)));
    }
}
