//! [`SparseP`]: the symmetric joint affinities of a whole data set in CSR form.

use rayon::prelude::*;
use ssne_tensor::Real;
use ssne_tensor::ndarray::{Array2, Axis};

use crate::AffinityError;
use crate::options::sigmas;

/// Joint affinities `P = (P_cond + P_cond^T) / (2n)` over k-nearest-neighbour
/// pairs, stored as compressed sparse rows.
///
/// Symmetric (bitwise: `P_ij` and `P_ji` are the same sum), non-negative, zero
/// diagonal, sums to 1. Row `i` holds the union of `i`'s neighbours and the
/// points that have `i` as a neighbour, columns ascending.
#[derive(Debug, Clone, PartialEq)]
pub struct SparseP<R> {
    n_points: usize,
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<R>,
    /// Precision `beta_i = 1 / (2 sigma_i^2)` of each conditional row.
    pub beta: Vec<f64>,
    /// The perplexity each conditional row reached.
    pub perplexity_reached: Vec<f64>,
    /// Conditional rows whose perplexity is off by more than the tolerance, ascending.
    pub unconverged: Vec<usize>,
}

impl<R: Real> SparseP<R> {
    /// Assembles the parts; `indptr` has `n_points + 1` non-decreasing entries
    /// ending at `indices.len() == values.len()`.
    pub(crate) fn from_parts(
        n_points: usize,
        indptr: Vec<usize>,
        indices: Vec<u32>,
        values: Vec<R>,
        summary: crate::search::Summary,
    ) -> Self {
        debug_assert_eq!(indptr.len(), n_points + 1);
        debug_assert_eq!(indptr.last().copied(), Some(indices.len()));
        debug_assert_eq!(indices.len(), values.len());
        Self {
            n_points,
            indptr,
            indices,
            values,
            beta: summary.beta,
            perplexity_reached: summary.perplexity_reached,
            unconverged: summary.unconverged,
        }
    }

    /// Number of points (rows and columns).
    pub fn n_points(&self) -> usize {
        self.n_points
    }

    /// Number of stored (non-zero) entries.
    pub fn nnz(&self) -> usize {
        self.values.len()
    }

    /// Row pointers: row `i` occupies `indptr[i]..indptr[i + 1]` of
    /// [`indices`](Self::indices) and [`values`](Self::values).
    pub fn indptr(&self) -> &[usize] {
        &self.indptr
    }

    /// Column index of every stored entry, ascending within each row.
    pub fn indices(&self) -> &[u32] {
        &self.indices
    }

    /// Value of every stored entry.
    pub fn values(&self) -> &[R] {
        &self.values
    }

    /// Columns and values of row `i`, or `None` if `i >= n_points`.
    pub fn row(&self, i: usize) -> Option<(&[u32], &[R])> {
        let range = *self.indptr.get(i)?..*self.indptr.get(i + 1)?;
        Some((&self.indices[range.clone()], &self.values[range]))
    }

    /// Bandwidth `sigma_i = 1 / sqrt(2 beta_i)` of each conditional row.
    pub fn sigma(&self) -> Vec<f64> {
        sigmas(&self.beta)
    }

    /// The full `n x n` matrix (mind the memory: `n^2` elements).
    pub fn to_dense(&self) -> Array2<R> {
        let mut dense = Array2::zeros((self.n_points, self.n_points));
        for (i, mut out) in dense.outer_iter_mut().enumerate() {
            let (cols, vals) = self.row_unchecked(i);
            for (&j, &v) in cols.iter().zip(vals) {
                out[j as usize] = v;
            }
        }
        dense
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
        if let Some(&point) = points.iter().find(|&&p| p >= self.n_points) {
            return Err(AffinityError::PointOutOfRange {
                point,
                n_points: self.n_points,
            });
        }
        // For each point, the batch positions where it occurs, as a linked list
        // (head per point, next per position): O(n + batch) and duplicates allowed.
        const END: usize = usize::MAX;
        let mut head = vec![END; self.n_points];
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
                let (cols, vals) = self.row_unchecked(point);
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

    /// Row `i` for an index already known to be in range.
    fn row_unchecked(&self, i: usize) -> (&[u32], &[R]) {
        let range = self.indptr[i]..self.indptr[i + 1];
        (&self.indices[range.clone()], &self.values[range])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::Summary;

    /// 3 points: P_01 = P_10 = 0.3, P_12 = P_21 = 0.2.
    fn example() -> SparseP<f64> {
        SparseP::from_parts(
            3,
            vec![0, 1, 3, 4],
            vec![1, 0, 2, 1],
            vec![0.3, 0.3, 0.2, 0.2],
            Summary::of(&[]),
        )
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
