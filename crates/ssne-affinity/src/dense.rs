//! Dense affinities over all pairs of one mini-batch: conditional `p(j|i)` and joint `P`.

use rayon::prelude::*;
use ssne_tensor::Real;
use ssne_tensor::ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis, Zip, s};

use crate::options::sigmas;
use crate::search::{RowFit, Summary, fit_row};
use crate::{AffinityError, Perplexity, SearchOptions, validate};

/// Conditional affinities `p(j|i)` of every point `i` over all other points.
#[derive(Debug, Clone, PartialEq)]
pub struct Conditional<R> {
    /// `n x n`; row `i` is the distribution `p(.|i)`: it sums to 1 and `p(i|i) = 0`.
    pub p: Array2<R>,
    /// Precision `beta_i = 1 / (2 sigma_i^2)` of each row (`0` for a uniform row,
    /// `inf` for a row whose mass sits on tied nearest neighbours).
    pub beta: Vec<f64>,
    /// `exp(H(P_i))`, the perplexity each row actually has.
    pub perplexity_reached: Vec<f64>,
    /// Rows whose perplexity is not within the tolerance of the target, ascending.
    pub unconverged: Vec<usize>,
}

impl<R> Conditional<R> {
    /// Bandwidth `sigma_i = 1 / sqrt(2 beta_i)` of each row's Gaussian.
    pub fn sigma(&self) -> Vec<f64> {
        sigmas(&self.beta)
    }
}

/// Joint affinities `P_ij = (p(j|i) + p(i|j)) / (2n)` over all pairs.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseP<R> {
    /// `n x n`, symmetric (bitwise), non-negative, zero diagonal, sums to 1.
    pub p: Array2<R>,
    /// Precision `beta_i` of each conditional row (see [`Conditional::beta`]).
    pub beta: Vec<f64>,
    /// The perplexity each conditional row reached.
    pub perplexity_reached: Vec<f64>,
    /// Conditional rows whose perplexity is off by more than the tolerance, ascending.
    pub unconverged: Vec<usize>,
}

impl<R> DenseP<R> {
    /// Bandwidth `sigma_i = 1 / sqrt(2 beta_i)` of each conditional row.
    pub fn sigma(&self) -> Vec<f64> {
        sigmas(&self.beta)
    }
}

/// Conditional affinities from a square matrix of SQUARED distances.
///
/// Row `i` gets `p(j|i) = exp(-beta_i d_ij) / sum_{k != i} exp(-beta_i d_ik)`
/// with `beta_i` searched (in `f64`) until the row's entropy is
/// `ln(perplexity)` within `opts.tolerance_nats`. The diagonal of `sq_dists` is
/// ignored and the matrix need not be symmetric.
///
/// The valid perplexities are `0 < perplexity <= n - 1`. At `n - 1` every row
/// is uniform (`beta = 0`); below 1, and below the number of points tied at a
/// row's smallest distance (duplicates), the target cannot be reached: such rows
/// spread their mass evenly over those nearest points and are listed in
/// `unconverged`.
///
/// # Errors
/// [`AffinityError::NotSquare`], [`AffinityError::Empty`] (0 x 0),
/// [`AffinityError::TooFewPoints`] (1 x 1), [`AffinityError::NonFinite`],
/// [`AffinityError::NegativeDistance`], [`AffinityError::PerplexityTooLarge`]
/// (`perplexity > n - 1`), [`AffinityError::InvalidTolerance`].
///
/// # Example
/// ```
/// use ssne_affinity::{conditional_dense, Perplexity, SearchOptions};
/// use ssne_tensor::ndarray::array;
///
/// let sq_dists = array![[0.0_f64, 1.0, 4.0], [1.0, 0.0, 2.0], [4.0, 2.0, 0.0]];
/// let cond = conditional_dense(sq_dists.view(), Perplexity::new(1.5)?, &SearchOptions::default())?;
/// assert_eq!(cond.p[[1, 1]], 0.0);
/// assert!((cond.p.row(0).sum() - 1.0).abs() < 1e-12);
/// assert!(cond.unconverged.is_empty());
/// # Ok::<(), ssne_affinity::AffinityError>(())
/// ```
pub fn conditional_dense<R: Real>(
    sq_dists: ArrayView2<'_, R>,
    perplexity: Perplexity,
    opts: &SearchOptions,
) -> Result<Conditional<R>, AffinityError> {
    check_sq_dists(sq_dists, perplexity, opts)?;
    let mut p = sq_dists.to_owned();
    let fits = conditional_in_place(p.view_mut(), perplexity, opts);
    let Summary {
        beta,
        perplexity_reached,
        unconverged,
    } = Summary::of(&fits);
    Ok(Conditional {
        p,
        beta,
        perplexity_reached,
        unconverged,
    })
}

/// Joint affinities of the rows of `x` (one mini-batch): squared distances of
/// all pairs through [`ssne_tensor::sq_dists`], conditional rows as in
/// [`conditional_dense`], then `P = (P_cond + P_cond^T) / (2n)`.
///
/// Time `O(n^2 d)` for the distances (one GEMM) plus `O(n^2)` per search step
/// (a handful per row); memory two `n x n` matrices.
///
/// # Errors
/// [`AffinityError::Empty`], [`AffinityError::TooFewPoints`] (one point),
/// [`AffinityError::NonFinite`], [`AffinityError::Overflow`],
/// [`AffinityError::PerplexityTooLarge`] (`perplexity > n - 1`),
/// [`AffinityError::InvalidTolerance`].
///
/// # Example
/// ```
/// use ssne_affinity::{joint_dense, Perplexity, SearchOptions};
/// use ssne_tensor::ndarray::array;
///
/// let x = array![[0.0_f32, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0]];
/// let joint = joint_dense(x.view(), Perplexity::new(2.0)?, &SearchOptions::default())?;
/// assert_eq!(joint.p[[0, 3]], joint.p[[3, 0]]);
/// assert!((joint.p.sum() - 1.0).abs() < 1e-6);
/// # Ok::<(), ssne_affinity::AffinityError>(())
/// ```
pub fn joint_dense<R: Real>(
    x: ArrayView2<'_, R>,
    perplexity: Perplexity,
    opts: &SearchOptions,
) -> Result<DenseP<R>, AffinityError> {
    opts.validate()?;
    validate::points(x)?;
    check_dense_perplexity(x.nrows(), perplexity)?;
    Ok(joint_in_place(ssne_tensor::sq_dists(x), perplexity, opts))
}

/// [`joint_dense`] for squared distances the caller already has (e.g. computed
/// once and reused); the matrix is consumed and reused as scratch space.
///
/// # Errors
/// As [`conditional_dense`].
///
/// # Example
/// ```
/// use ssne_affinity::{joint_from_sq_dists, Perplexity, SearchOptions};
/// use ssne_tensor::{ndarray::array, sq_dists};
///
/// let x = array![[0.0_f64, 0.0], [1.0, 0.0], [0.0, 2.0]];
/// let joint = joint_from_sq_dists(sq_dists(x.view()), Perplexity::new(1.5)?, &SearchOptions::default())?;
/// assert!((joint.p.sum() - 1.0).abs() < 1e-12);
/// # Ok::<(), ssne_affinity::AffinityError>(())
/// ```
pub fn joint_from_sq_dists<R: Real>(
    sq_dists: Array2<R>,
    perplexity: Perplexity,
    opts: &SearchOptions,
) -> Result<DenseP<R>, AffinityError> {
    check_sq_dists(sq_dists.view(), perplexity, opts)?;
    Ok(joint_in_place(sq_dists, perplexity, opts))
}

/// Checks shared by the entry points that take squared distances.
fn check_sq_dists<R: Real>(
    sq_dists: ArrayView2<'_, R>,
    perplexity: Perplexity,
    opts: &SearchOptions,
) -> Result<(), AffinityError> {
    opts.validate()?;
    let (rows, cols) = sq_dists.dim();
    if rows != cols {
        return Err(AffinityError::NotSquare { rows, cols });
    }
    if rows == 0 {
        return Err(AffinityError::Empty {
            n_points: 0,
            n_features: 0,
        });
    }
    check_dense_perplexity(rows, perplexity)?;
    validate::sq_dists(sq_dists)
}

/// Dense affinities need two points and `perplexity <= n - 1`.
fn check_dense_perplexity(n_points: usize, perplexity: Perplexity) -> Result<(), AffinityError> {
    if n_points < 2 {
        return Err(AffinityError::TooFewPoints { n_points, min: 2 });
    }
    let max = (n_points - 1) as f64;
    if perplexity.get() > max {
        return Err(AffinityError::PerplexityTooLarge {
            perplexity: perplexity.get(),
            n_points,
            max,
        });
    }
    Ok(())
}

/// Conditional rows, then symmetrization; inputs already validated.
fn joint_in_place<R: Real>(mut sq_dists: Array2<R>, perplexity: Perplexity, opts: &SearchOptions) -> DenseP<R> {
    let fits = conditional_in_place(sq_dists.view_mut(), perplexity, opts);
    let p = symmetrize(sq_dists.view());
    let Summary {
        beta,
        perplexity_reached,
        unconverged,
    } = Summary::of(&fits);
    DenseP {
        p,
        beta,
        perplexity_reached,
        unconverged,
    }
}

/// Replaces each row of squared distances by its conditional distribution.
/// Rows are independent, so each is searched by one task with its own scratch.
fn conditional_in_place<R: Real>(
    mut sq_dists: ArrayViewMut2<'_, R>,
    perplexity: Perplexity,
    opts: &SearchOptions,
) -> Vec<RowFit> {
    let target = perplexity.target_entropy();
    sq_dists
        .axis_iter_mut(Axis(0))
        .into_par_iter()
        .enumerate()
        .map_init(
            || (Vec::new(), Vec::new()),
            |(shifted, probs): &mut (Vec<f64>, Vec<f64>), (i, mut row)| {
                // Row i without its diagonal entry, as f64.
                shifted.clear();
                extend_f64(shifted, row.slice(s![..i]));
                extend_f64(shifted, row.slice(s![i + 1..]));
                // Subtracting the smallest distance keeps the largest weight at exactly
                // exp(0) = 1, so no row can underflow to all zeros; it cancels in p.
                let min = shifted.iter().fold(f64::INFINITY, |m, &v| m.min(v));
                shifted.iter_mut().for_each(|v| *v -= min);
                probs.clear();
                probs.resize(shifted.len(), 0.0);
                let fit = fit_row(shifted, target, opts, probs);
                let (before, after) = probs.split_at(i);
                store(row.slice_mut(s![..i]), before);
                row[i] = R::zero();
                store(row.slice_mut(s![i + 1..]), after);
                fit
            },
        )
        .collect()
}

/// Appends `src` widened to `f64`; the slice path (every row of a standard-layout
/// matrix) vectorises, the strided fallback does not.
fn extend_f64<R: Real>(dst: &mut Vec<f64>, src: ArrayView1<'_, R>) {
    match src.as_slice() {
        Some(values) => dst.extend(values.iter().map(|&v| v.to_f64())),
        None => dst.extend(src.iter().map(|&v| v.to_f64())),
    }
}

/// Writes `src` into `dst`, rounding to `R` (slice fast path as in [`extend_f64`]).
fn store<R: Real>(mut dst: ArrayViewMut1<'_, R>, src: &[f64]) {
    match dst.as_slice_mut() {
        Some(out) => out.iter_mut().zip(src).for_each(|(o, &p)| *o = R::from_f64(p)),
        None => dst.iter_mut().zip(src).for_each(|(o, &p)| *o = R::from_f64(p)),
    }
}

/// Rows of the output per task, and the side of the square tiles in which the
/// transpose is read (a 64 x 64 tile of `f64` is 32 KiB, about one L1 cache).
const TILE: usize = 64;

/// `(C + C^T) / (2n)` computed in `f64`; `a + b == b + a` exactly, so the result
/// is bitwise symmetric.
fn symmetrize<R: Real>(cond: ArrayView2<'_, R>) -> Array2<R> {
    let n = cond.nrows();
    let scale = 1.0 / (2.0 * n as f64);
    let pair = move |a: R, b: R| R::from_f64((a.to_f64() + b.to_f64()) * scale);
    let mut p = Array2::<R>::zeros((n, n));
    let flat = cond.as_slice();
    p.axis_chunks_iter_mut(Axis(0), TILE)
        .into_par_iter()
        .enumerate()
        .for_each(|(block_idx, mut out_rows)| {
            let r0 = block_idx * TILE;
            let r1 = r0 + out_rows.nrows();
            for c0 in (0..n).step_by(TILE) {
                let c1 = (c0 + TILE).min(n);
                match (flat, out_rows.as_slice_mut()) {
                    // Row-major input (the usual case): plain index arithmetic,
                    // which ndarray's Zip over a transposed view does not match.
                    (Some(flat), Some(out)) => {
                        for r in r0..r1 {
                            let out_row = &mut out[(r - r0) * n..(r - r0 + 1) * n];
                            let row = &flat[r * n..(r + 1) * n];
                            for c in c0..c1 {
                                out_row[c] = pair(row[c], flat[c * n + r]);
                            }
                        }
                    }
                    _ => Zip::from(out_rows.slice_mut(s![.., c0..c1]))
                        .and(cond.slice(s![r0..r1, c0..c1]))
                        .and(cond.slice(s![c0..c1, r0..r1]).t())
                        .for_each(|out, &a, &b| *out = pair(a, b)),
                }
            }
        });
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssne_tensor::ndarray::array;

    #[test]
    fn symmetrize_is_exactly_symmetric_with_zero_diagonal() {
        let n = 150; // more than two tiles, not a multiple of the tile size
        let cond = Array2::from_shape_fn((n, n), |(i, j)| {
            if i == j {
                0.0_f32
            } else {
                ((i * 31 + j * 17) % 97) as f32 / 97.0
            }
        });
        let p = symmetrize(cond.view());
        // The strided path (column-major input) gives the same bits.
        let cond_f = cond.t().as_standard_layout().reversed_axes().to_owned();
        assert!(cond_f.as_slice().is_none());
        assert_eq!(symmetrize(cond_f.view()), p);
        for i in 0..n {
            assert_eq!(p[[i, i]], 0.0);
            for j in 0..n {
                assert_eq!(p[[i, j]].to_bits(), p[[j, i]].to_bits());
                let want = (f64::from(cond[[i, j]]) + f64::from(cond[[j, i]])) / (2.0 * n as f64);
                assert!((f64::from(p[[i, j]]) - want).abs() <= 1e-7 * want.max(1e-30));
            }
        }
    }

    #[test]
    fn conditional_rows_exclude_the_diagonal_whatever_it_holds() {
        // The diagonal 100.0 would dominate if it were not skipped.
        let d = array![[100.0_f64, 1.0, 2.0], [1.0, 100.0, 1.0], [2.0, 1.0, 100.0]];
        let cond = conditional_dense(d.view(), Perplexity::new(1.9).unwrap(), &SearchOptions::default()).unwrap();
        for i in 0..3 {
            assert_eq!(cond.p[[i, i]], 0.0);
            assert!((cond.p.row(i).sum() - 1.0).abs() < 1e-12);
        }
        // Row 1 is equidistant from 0 and 2, so it can only be uniform.
        assert_eq!(cond.p[[1, 0]], cond.p[[1, 2]]);
        assert_eq!(cond.unconverged, vec![1]);
    }
}
