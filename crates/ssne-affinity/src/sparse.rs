//! Affinities over k nearest neighbours: per-row conditionals and the whole
//! data set's symmetric joint `P` in CSR form.

use rayon::prelude::*;
use ssne_tensor::ndarray::{Array2, ArrayView2, Axis};
use ssne_tensor::{Csr, Real};

use crate::knn::knn_validated;
use crate::options::sigmas;
use crate::search::{RowFit, Summary, fit_row};
use crate::sparse_p::SparseP;
use crate::{AffinityError, Knn, Perplexity, SearchOptions, validate};

/// Conditional affinities of each point over its `k` stored neighbours.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionalKnn<R> {
    /// `n x k` neighbour indices (copied from the [`Knn`]).
    pub indices: Array2<u32>,
    /// `n x k`; `p[[i, c]] = p(indices[[i, c]] | i)`, each row sums to 1.
    pub p: Array2<R>,
    /// Precision `beta_i = 1 / (2 sigma_i^2)` of each row.
    pub beta: Vec<f64>,
    /// The perplexity each row reached.
    pub perplexity_reached: Vec<f64>,
    /// Rows whose perplexity is off by more than the tolerance, ascending.
    pub unconverged: Vec<usize>,
}

impl<R> ConditionalKnn<R> {
    /// Bandwidth `sigma_i = 1 / sqrt(2 beta_i)` of each row.
    pub fn sigma(&self) -> Vec<f64> {
        sigmas(&self.beta)
    }
}

/// Conditional affinities over each row's neighbours: `p(j|i)` proportional to
/// `exp(-beta_i d_ij)` over the `k` neighbours `j` of `i`, with `beta_i`
/// searched so the row's perplexity is the target. This is what placing new
/// points against a training set needs (with a [`Knn`] from [`knn_between`](crate::knn_between)).
///
/// Requires `perplexity < k`. The rows of `knn` need not be sorted.
///
/// # Errors
/// [`AffinityError::ShapeMismatch`] (`indices` and `sq_dists` differ in shape),
/// [`AffinityError::Empty`] (no rows), [`AffinityError::PerplexityNotBelowK`],
/// [`AffinityError::NonFinite`], [`AffinityError::NegativeDistance`],
/// [`AffinityError::InvalidTolerance`].
///
/// # Example
/// ```
/// use ssne_affinity::{conditional_knn, knn_between, Perplexity, SearchOptions};
/// use ssne_tensor::ndarray::array;
///
/// let train = array![[0.0_f32, 0.0], [1.0, 0.0], [0.0, 1.0], [3.0, 3.0]];
/// let new = array![[0.2_f32, 0.1]];
/// let nn = knn_between(new.view(), train.view(), 3)?;
/// let cond = conditional_knn(&nn, Perplexity::new(2.0)?, &SearchOptions::default())?;
/// assert!((cond.p.sum() - 1.0).abs() < 1e-6);
/// assert!((cond.perplexity_reached[0] - 2.0).abs() < 1e-3);
/// # Ok::<(), ssne_affinity::AffinityError>(())
/// ```
pub fn conditional_knn<R: Real>(
    knn: &Knn<R>,
    perplexity: Perplexity,
    opts: &SearchOptions,
) -> Result<ConditionalKnn<R>, AffinityError> {
    opts.validate()?;
    let (n_points, k) = knn_shape(knn)?;
    if n_points == 0 {
        return Err(AffinityError::Empty {
            n_points,
            n_features: k,
        });
    }
    check_below_k(perplexity, k)?;
    validate::sq_dists(knn.sq_dists.view())?;
    let (probs, fits) = conditional_rows(knn.sq_dists.view(), perplexity, opts);
    let Summary {
        beta,
        perplexity_reached,
        unconverged,
    } = Summary::of(&fits);
    Ok(ConditionalKnn {
        indices: knn.indices.clone(),
        p: probs.mapv(R::from_f64),
        beta,
        perplexity_reached,
        unconverged,
    })
}

/// Joint affinities of a whole data set over `k = min(n - 1, floor(3 * perplexity))`
/// nearest neighbours (at least 1), as [`joint_knn_with_k`].
///
/// # Errors
/// As [`joint_knn_with_k`], except that a perplexity too large for the data
/// set (`perplexity >= n - 1`) is [`AffinityError::PerplexityTooLarge`].
///
/// # Example
/// ```
/// use ssne_affinity::{joint_knn, Perplexity, SearchOptions};
/// use ssne_tensor::ndarray::Array2;
///
/// let x = Array2::from_shape_fn((100, 3), |(i, j)| ((i * 7 + j * 3) % 11) as f32);
/// let p = joint_knn(x.view(), Perplexity::new(10.0)?, &SearchOptions::default())?;
/// let total: f64 = p.csr().values().iter().map(|&v| f64::from(v)).sum();
/// assert!((total - 1.0).abs() < 1e-5);
/// # Ok::<(), ssne_affinity::AffinityError>(())
/// ```
pub fn joint_knn<R: Real>(
    x: ArrayView2<'_, R>,
    perplexity: Perplexity,
    opts: &SearchOptions,
) -> Result<SparseP<R>, AffinityError> {
    opts.validate()?;
    validate::points(x)?;
    let k = knn_neighbour_count(perplexity, x.nrows())?;
    joint_knn_validated(x, k, perplexity, opts)
}

/// The neighbour count `k` that [`joint_knn`] uses for `perplexity` on
/// `n_points` points (`3 * perplexity`, at most `n_points - 1`), or the error it
/// would return: callers can check a data size before any work.
///
/// # Errors
/// [`AffinityError::TooFewPoints`] below 2 points, and
/// [`AffinityError::PerplexityTooLarge`] when `perplexity >= k`.
///
/// # Example
/// ```
/// use ssne_affinity::{knn_neighbour_count, Perplexity};
///
/// assert_eq!(knn_neighbour_count(Perplexity::new(30.0)?, 10_000)?, 90);
/// assert!(knn_neighbour_count(Perplexity::new(30.0)?, 31).is_err());
/// # Ok::<(), ssne_affinity::AffinityError>(())
/// ```
pub fn knn_neighbour_count(perplexity: Perplexity, n_points: usize) -> Result<usize, AffinityError> {
    if n_points < 2 {
        return Err(AffinityError::TooFewPoints { n_points, min: 2 });
    }
    // floor(3p) saturates at usize::MAX for huge p; min then picks n - 1.
    let k = ((3.0 * perplexity.get()).floor() as usize).clamp(1, n_points - 1);
    if perplexity.get() >= k as f64 {
        return Err(AffinityError::PerplexityTooLarge {
            perplexity: perplexity.get(),
            n_points,
            max: (n_points - 1) as f64,
        });
    }
    Ok(k)
}

/// Joint affinities of a whole data set over each point's `k` nearest
/// neighbours: exact [`knn`](crate::knn), conditional rows as in
/// [`conditional_knn`], then `P = (P_cond + P_cond^T) / (2n)` in CSR.
///
/// Time `O(n^2 d)` for the neighbours (blocked GEMM) plus `O(n k)` per search
/// step; memory `O(n k)`.
///
/// # Errors
/// [`AffinityError::Empty`], [`AffinityError::TooFewPoints`],
/// [`AffinityError::NonFinite`], [`AffinityError::Overflow`],
/// [`AffinityError::KZero`], [`AffinityError::KTooLarge`] (`k > n - 1`),
/// [`AffinityError::PerplexityNotBelowK`], [`AffinityError::InvalidTolerance`],
/// [`AffinityError::TooManyPoints`].
///
/// # Example
/// ```
/// use ssne_affinity::{joint_knn_with_k, Perplexity, SearchOptions};
/// use ssne_tensor::ndarray::array;
///
/// let x = array![[0.0_f64, 0.0], [1.0, 0.0], [0.0, 1.0], [4.0, 4.0], [5.0, 4.0]];
/// let p = joint_knn_with_k(x.view(), 2, Perplexity::new(1.5)?, &SearchOptions::default())?;
/// let dense = p.to_dense();
/// assert_eq!(dense, dense.t());
/// assert!((dense.sum() - 1.0).abs() < 1e-12);
/// # Ok::<(), ssne_affinity::AffinityError>(())
/// ```
pub fn joint_knn_with_k<R: Real>(
    x: ArrayView2<'_, R>,
    k: usize,
    perplexity: Perplexity,
    opts: &SearchOptions,
) -> Result<SparseP<R>, AffinityError> {
    opts.validate()?;
    validate::points(x)?;
    let n_points = x.nrows();
    if n_points < 2 {
        return Err(AffinityError::TooFewPoints { n_points, min: 2 });
    }
    validate::k(k, n_points - 1)?;
    check_below_k(perplexity, k)?;
    joint_knn_validated(x, k, perplexity, opts)
}

/// Joint affinities over neighbour lists found by any search (e.g. [`nn_descent`](crate::nn_descent)
/// or [`knn`](crate::knn)): conditional rows as in [`conditional_knn`], then
/// `P = (P_cond + P_cond^T) / (2n)` in CSR. Row `i` of `knn` lists the neighbours of point `i`.
///
/// # Errors
/// [`AffinityError::ShapeMismatch`], [`AffinityError::Empty`],
/// [`AffinityError::PerplexityNotBelowK`], [`AffinityError::NonFinite`],
/// [`AffinityError::NegativeDistance`], [`AffinityError::InvalidTolerance`], and
/// [`AffinityError::InvalidNeighbour`] for an index out of range, the row's own
/// point, or a repeated neighbour.
///
/// # Example
/// ```
/// use ssne_affinity::{NnDescentOptions, Perplexity, SearchOptions, joint_knn_from, nn_descent};
/// use ssne_tensor::ndarray::Array2;
///
/// let x = Array2::from_shape_fn((200, 3), |(i, j)| ((i * 7 + j * 3) % 11) as f32);
/// let nn = nn_descent(x.view(), 30, &NnDescentOptions::for_points(200, 1))?;
/// let p = joint_knn_from(&nn, Perplexity::new(10.0)?, &SearchOptions::default())?;
/// let total: f64 = p.csr().values().iter().map(|&v| f64::from(v)).sum();
/// assert!((total - 1.0).abs() < 1e-5);
/// # Ok::<(), ssne_affinity::AffinityError>(())
/// ```
pub fn joint_knn_from<R: Real>(
    knn: &Knn<R>,
    perplexity: Perplexity,
    opts: &SearchOptions,
) -> Result<SparseP<R>, AffinityError> {
    opts.validate()?;
    let (n_points, k) = knn_shape(knn)?;
    if n_points == 0 || k == 0 {
        return Err(AffinityError::Empty {
            n_points,
            n_features: k,
        });
    }
    check_below_k(perplexity, k)?;
    validate::sq_dists(knn.sq_dists.view())?;
    // `find_map_first`: the first bad row in index order, whatever the thread count.
    let bad = (0..n_points).into_par_iter().find_map_first(|row| {
        let mut seen: Vec<u32> = knn.indices.row(row).to_vec();
        if let Some(&neighbour) = seen.iter().find(|&&j| j as usize >= n_points) {
            return Some((row, neighbour, "is not below the number of points"));
        }
        if seen.contains(&(row as u32)) {
            return Some((row, row as u32, "is the point itself"));
        }
        seen.sort_unstable();
        seen.windows(2)
            .find(|w| w[0] == w[1])
            .map(|w| (row, w[0], "is listed twice"))
    });
    if let Some((row, neighbour, problem)) = bad {
        return Err(AffinityError::InvalidNeighbour {
            row,
            neighbour,
            problem,
        });
    }
    let (probs, fits) = conditional_rows(knn.sq_dists.view(), perplexity, opts);
    Ok(SparseP::from_parts(
        symmetrize(knn.indices.view(), probs.view()),
        Summary::of(&fits),
    ))
}

fn check_below_k(perplexity: Perplexity, k: usize) -> Result<(), AffinityError> {
    if perplexity.get() < k as f64 {
        Ok(())
    } else {
        Err(AffinityError::PerplexityNotBelowK {
            perplexity: perplexity.get(),
            k,
        })
    }
}

fn joint_knn_validated<R: Real>(
    x: ArrayView2<'_, R>,
    k: usize,
    perplexity: Perplexity,
    opts: &SearchOptions,
) -> Result<SparseP<R>, AffinityError> {
    let nn = knn_validated(x, k)?;
    let (probs, fits) = conditional_rows(nn.sq_dists.view(), perplexity, opts);
    Ok(SparseP::from_parts(
        symmetrize(nn.indices.view(), probs.view()),
        Summary::of(&fits),
    ))
}

/// Searches every row of neighbour distances (validated) and returns the
/// probabilities in `f64`, so that the symmetrization adds unrounded values.
fn conditional_rows<R: Real>(
    sq_dists: ArrayView2<'_, R>,
    perplexity: Perplexity,
    opts: &SearchOptions,
) -> (Array2<f64>, Vec<RowFit>) {
    let target = perplexity.target_entropy();
    let mut probs = Array2::<f64>::zeros(sq_dists.dim());
    let fits = probs
        .axis_iter_mut(Axis(0))
        .into_par_iter()
        .zip(sq_dists.axis_iter(Axis(0)))
        .map_init(
            || (Vec::new(), Vec::new()),
            |(shifted, row_probs): &mut (Vec<f64>, Vec<f64>), (mut out, row)| {
                // Rows need not be sorted, so find the minimum rather than take row[0].
                let min = row.iter().fold(f64::INFINITY, |m, &v| m.min(v.to_f64()));
                shifted.clear();
                shifted.extend(row.iter().map(|&v| v.to_f64() - min));
                row_probs.clear();
                row_probs.resize(shifted.len(), 0.0);
                let fit = fit_row(shifted, target, opts, row_probs);
                out.iter_mut().zip(row_probs.iter()).for_each(|(o, &p)| *o = p);
                fit
            },
        )
        .collect();
    (probs, fits)
}

/// The non-zeros of `(C + C^T) / (2n)` for the conditional matrix `C` given by neighbour
/// lists. Entry `(i, j)` is `(c_ij + c_ji) / (2n)` and entry `(j, i)` is
/// `(c_ji + c_ij) / (2n)`, the same bits because `+` is commutative; a
/// direction absent from the k-NN graph contributes an exact `0.0`.
///
/// `C` and its transpose are [`Csr`] values (`ssne_tensor`'s, the one sparse type), so row `i`
/// of each lists its entries by increasing column and the two merge in one pass.
fn symmetrize<R: Real>(indices: ArrayView2<'_, u32>, cond: ArrayView2<'_, f64>) -> Csr<R> {
    let n_points = indices.nrows();
    let scale = 1.0 / (2.0 * n_points as f64);
    let own_rows = indices.outer_iter().zip(cond.outer_iter()).map(|(nbrs, probs)| {
        let mut own: Vec<(u32, f64)> = nbrs.iter().copied().zip(probs.iter().copied()).collect();
        own.sort_unstable_by_key(|&(j, _)| j);
        own
    });
    // Cannot fail: neighbour indices are distinct points below `n_points` (which `knn` keeps
    // within u32), sorted just above.
    let c = Csr::from_sorted_rows(n_points, own_rows).expect("k-NN lists are distinct indices below n");
    let mut c_t = Csr::new();
    c.transpose_into(&mut c_t);
    let rows: Vec<Vec<(u32, R)>> = (0..n_points)
        .into_par_iter()
        .map(|i| {
            let (own_cols, own_vals) = c.row(i);
            let (in_cols, in_vals) = c_t.row(i);
            merge_row(
                own_cols.iter().copied().zip(own_vals.iter().copied()),
                in_cols.iter().copied().zip(in_vals.iter().copied()),
                scale,
            )
        })
        .collect();
    // Cannot fail: each merged row is a sorted subset of the columns of C's and C^T's rows.
    Csr::from_sorted_rows(n_points, rows).expect("merged rows stay sorted and in range")
}

/// Merges a row's own `(j, c_ij)` and incoming `(j, c_ji)` lists (both sorted by `j`).
fn merge_row<R: Real>(
    own: impl ExactSizeIterator<Item = (u32, f64)>,
    incoming: impl Iterator<Item = (u32, f64)>,
    scale: f64,
) -> Vec<(u32, R)> {
    let mut out = Vec::with_capacity(2 * own.len());
    let mut own = own.peekable();
    let mut incoming = incoming.peekable();
    loop {
        let (j, a, b) = match (own.peek().copied(), incoming.peek().copied()) {
            (Some((j, a)), Some((l, b))) if j == l => {
                own.next();
                incoming.next();
                (j, a, b)
            }
            (Some((j, a)), Some((l, _))) if j < l => {
                own.next();
                (j, a, 0.0)
            }
            (Some((j, a)), None) => {
                own.next();
                (j, a, 0.0)
            }
            (_, Some((l, b))) => {
                incoming.next();
                (l, 0.0, b)
            }
            (None, None) => break,
        };
        let value = (a + b) * scale;
        // Both directions can be exactly 0 (underflow, or beta = inf on tied
        // neighbours): CSR keeps non-zeros only.
        if value > 0.0 {
            out.push((j, R::from_f64(value)));
        }
    }
    out
}

/// The (points, neighbours) shape of `knn`, after checking that its indices and distances agree.
fn knn_shape<R: Real>(knn: &Knn<R>) -> Result<(usize, usize), AffinityError> {
    if knn.indices.dim() != knn.sq_dists.dim() {
        return Err(AffinityError::ShapeMismatch {
            what: "Knn::indices and Knn::sq_dists",
            left: [knn.indices.nrows(), knn.indices.ncols()],
            right: [knn.sq_dists.nrows(), knn.sq_dists.ncols()],
        });
    }
    Ok(knn.indices.dim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssne_tensor::ndarray::array;

    #[test]
    fn symmetrize_small_graph_by_hand() {
        // 3 points, k = 2: every pair is an edge in both directions.
        let indices = array![[1_u32, 2], [0, 2], [1, 0]];
        let cond = array![[0.75, 0.25], [0.5, 0.5], [0.875, 0.125]];
        let p = symmetrize::<f64>(indices.view(), cond.view());
        assert_eq!(p.row_ptr(), [0, 2, 4, 6]);
        assert_eq!(p.col_indices(), [1, 2, 0, 2, 0, 1]);
        let s = 1.0 / 6.0;
        let want = [
            (0.75 + 0.5) * s,   // (0,1)
            (0.25 + 0.125) * s, // (0,2)
            (0.5 + 0.75) * s,   // (1,0)
            (0.5 + 0.875) * s,  // (1,2)
            (0.125 + 0.25) * s, // (2,0)
            (0.875 + 0.5) * s,  // (2,1)
        ];
        assert_eq!(p.values(), want);
    }

    #[test]
    fn one_directional_edges_keep_their_value() {
        // 0 and 1 point to each other; 2 points to 0 only, so (0, 2) comes from 2's row alone.
        let indices = array![[1_u32], [0], [0]];
        let cond = array![[1.0], [1.0], [1.0]];
        let p = symmetrize::<f64>(indices.view(), cond.view());
        assert_eq!(p.row_ptr(), [0, 2, 3, 4]);
        assert_eq!(p.col_indices(), [1, 2, 0, 0]);
        assert_eq!(p.values(), [2.0 / 6.0, 1.0 / 6.0, 2.0 / 6.0, 1.0 / 6.0]);
    }

    #[test]
    fn perplexity_must_be_below_k() {
        let nn = Knn {
            indices: array![[1_u32, 2], [0, 2], [0, 1]],
            sq_dists: array![[1.0_f32, 2.0], [1.0, 3.0], [2.0, 3.0]],
        };
        assert_eq!(
            conditional_knn(&nn, Perplexity::new(2.0).unwrap(), &SearchOptions::default()),
            Err(AffinityError::PerplexityNotBelowK { perplexity: 2.0, k: 2 })
        );
        let bad = Knn {
            indices: array![[1_u32, 2]],
            sq_dists: array![[1.0_f32]],
        };
        assert!(matches!(
            conditional_knn(&bad, Perplexity::new(0.5).unwrap(), &SearchOptions::default()),
            Err(AffinityError::ShapeMismatch { .. })
        ));
    }
}
