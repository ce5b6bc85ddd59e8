//! Principal component analysis: the top-k directions of a data set by seeded
//! randomized subspace iteration, for storing a model's reference inputs small.
//!
//! The data are centred, a random `l = k + oversampling` dimensional basis is
//! multiplied by the (never formed) covariance a few times with modified
//! Gram-Schmidt in between, and the small `l x l` projected covariance is
//! diagonalised by cyclic Jacobi rotations (Rayleigh-Ritz). All of it runs in
//! `f64`; the products go through `ssne-tensor`'s GEMM over fixed row blocks in a
//! fixed order, so the result depends on the seed only, never on the thread count.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use ssne_data::FeatureRows;
use ssne_tensor::ndarray::{Array1, Array2, ArrayView2, Axis, Zip, s};
use ssne_tensor::{Trans, gemm, matmul};

/// The stream of the seed's `ChaCha8Rng` used by PCA (an arbitrary tag, "PCA1",
/// far from the small stream numbers of the training draws).
const PCA_STREAM: u64 = 0x5043_4131;
/// Rows converted to `f64` at a time: bounds the extra memory to `ROW_BLOCK x d`
/// doubles however many rows the data has.
const ROW_BLOCK: usize = 1024;
/// Rows projected at a time by [`Pca::transform_rows`].
const TRANSFORM_BLOCK: usize = 4096;
/// A basis vector keeping less than this fraction of its norm after
/// orthogonalisation is numerically inside the span of the earlier ones.
const DEPENDENT: f64 = 1e-9;
/// Jacobi stops when the off-diagonal norm is this small relative to the matrix's.
const JACOBI_TOL: f64 = 1e-15;
/// Jacobi converges quadratically (under ten sweeps in practice); this only bounds
/// the work on pathological input.
const JACOBI_MAX_SWEEPS: usize = 64;

/// Why a PCA could not be fitted or applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PcaError {
    /// No rows or no columns.
    #[error("PCA needs data, got {rows} rows of {cols} features")]
    Empty {
        /// Rows given.
        rows: usize,
        /// Columns given.
        cols: usize,
    },
    /// `k` is 0 or above the smaller of the row and feature counts.
    #[error("{k} principal components requested; between 1 and {max} exist for {rows} rows of {cols} features")]
    Components {
        /// Components requested.
        k: usize,
        /// The most that exist, `min(rows, cols)`.
        max: usize,
        /// Rows of the data.
        rows: usize,
        /// Features of the data.
        cols: usize,
    },
    /// The data contain NaN or infinity.
    #[error("non-finite value at row {row}, column {col}")]
    NonFinite {
        /// Row of the first non-finite value.
        row: usize,
        /// Its column.
        col: usize,
    },
    /// Data of another width than the projection was fitted on.
    #[error("the data have {found} features but the projection was fitted on {expected}")]
    FeatureCount {
        /// Features of the fitted data.
        expected: usize,
        /// Features of the data given.
        found: usize,
    },
}

impl From<PcaError> for crate::ModelError {
    fn from(e: PcaError) -> Self {
        match e {
            PcaError::Empty { rows, .. } => crate::ModelError::TooFewPoints {
                what: "a PCA of the reference inputs",
                needed: 1,
                found: rows,
            },
            PcaError::Components { k, max, .. } => crate::error::config_error(
                "reference_space",
                format!("PCA with {k} components"),
                format!("1 to {max} components (the smaller of the rows and features)"),
            ),
            PcaError::NonFinite { row, col } => crate::ModelError::NonFinite { row, col },
            PcaError::FeatureCount { expected, found } => crate::ModelError::FeatureCount { expected, found },
        }
    }
}

/// How hard the subspace iteration works; the defaults suit PCA-10 to PCA-100 of
/// MNIST-like data (slowly decaying spectra).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PcaOptions {
    /// Extra basis vectors beyond `k`: the top `k` directions converge at the rate
    /// of the eigenvalue ratio `lambda_{k+oversampling} / lambda_k`, not `lambda_{k+1} / lambda_k`.
    pub oversampling: usize,
    /// Multiplications of the basis by the covariance, each followed by
    /// re-orthonormalisation (the Rayleigh-Ritz step adds one more).
    pub passes: usize,
}

impl Default for PcaOptions {
    fn default() -> Self {
        PcaOptions {
            oversampling: 10,
            passes: 6,
        }
    }
}

/// A fitted projection onto the top principal directions.
#[derive(Debug, Clone, PartialEq)]
pub struct Pca {
    /// Per-feature mean of the fitted data, `[d]`.
    pub mean: Array1<f32>,
    /// The principal directions as orthonormal rows, `[k, d]`, by decreasing
    /// variance; each row's largest-magnitude entry is positive.
    pub components: Array2<f32>,
    /// Variance of the fitted data along each component (sums of squares over
    /// `n - 1`), non-increasing.
    pub explained_variance: Vec<f64>,
    /// Total variance of the fitted data (the sum over all features), so that
    /// `explained_variance / total_variance` is the share each component keeps.
    pub total_variance: f64,
}

impl Pca {
    /// Fits the top `k` principal directions of the rows of `x` with the default
    /// [`PcaOptions`]; `seed` fixes the random start, so the result is the same on
    /// every run and thread count.
    ///
    /// # Errors
    /// [`PcaError::Empty`], [`PcaError::Components`] (`k = 0` or `k > min(n, d)`),
    /// [`PcaError::NonFinite`].
    ///
    /// # Example
    /// ```
    /// use ssne_model::pca::Pca;
    /// use ssne_tensor::ndarray::array;
    ///
    /// // Points on the line y = 2x (plus an offset): one direction holds all the variance.
    /// let x = array![[0.0_f32, 1.0], [1.0, 3.0], [2.0, 5.0], [3.0, 7.0]];
    /// let pca = Pca::fit(x.view(), 1, 7)?;
    /// let c = pca.components.row(0);
    /// assert!((c[0] - 1.0 / 5f32.sqrt()).abs() < 1e-6 && (c[1] - 2.0 / 5f32.sqrt()).abs() < 1e-6);
    /// let projected = pca.transform(x.view())?;
    /// assert_eq!(projected.dim(), (4, 1));
    /// assert!((pca.explained_variance[0] / pca.total_variance - 1.0).abs() < 1e-12);
    /// # Ok::<(), ssne_model::pca::PcaError>(())
    /// ```
    pub fn fit(x: ArrayView2<'_, f32>, k: usize, seed: u64) -> Result<Pca, PcaError> {
        Self::fit_with(x, k, seed, PcaOptions::default())
    }

    /// [`Pca::fit`] with explicit [`PcaOptions`].
    ///
    /// # Errors
    /// As [`Pca::fit`].
    pub fn fit_with(x: ArrayView2<'_, f32>, k: usize, seed: u64, options: PcaOptions) -> Result<Pca, PcaError> {
        Self::fit_rows(FeatureRows::F32(x), k, seed, options)
    }

    /// [`Pca::fit_with`] on rows in either storage (`u8` codes are decoded a block of rows at a
    /// time, never as a whole matrix): the same result for the same values.
    ///
    /// # Errors
    /// As [`Pca::fit`].
    pub fn fit_rows(x: FeatureRows<'_>, k: usize, seed: u64, options: PcaOptions) -> Result<Pca, PcaError> {
        let (n, d) = (x.nrows(), x.ncols());
        if n == 0 || d == 0 {
            return Err(PcaError::Empty { rows: n, cols: d });
        }
        if k == 0 || k > n.min(d) {
            return Err(PcaError::Components {
                k,
                max: n.min(d),
                rows: n,
                cols: d,
            });
        }
        check_rows_finite(x)?;
        let mean = column_means(x);
        let centred = Centred { x, mean: &mean };
        let scale = 1.0 / (n.max(2) - 1) as f64;
        let total_variance = centred.sum_of_squares() * scale;

        let l = (k + options.oversampling).min(d);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(PCA_STREAM);
        // The basis is kept as rows (`l x d`), so that every vector is contiguous
        // for Gram-Schmidt.
        let mut basis = Array2::<f64>::from_shape_simple_fn((l, d), || StandardNormal.sample(&mut rng));
        orthonormalise_rows(&mut basis, &mut rng);
        for _ in 0..options.passes {
            basis = centred.covariance_times(basis.view());
            orthonormalise_rows(&mut basis, &mut rng);
        }
        // Rayleigh-Ritz: the covariance restricted to the basis, diagonalised exactly.
        let image = centred.covariance_times(basis.view());
        let mut projected = matmul(basis.view(), Trans::N, image.view(), Trans::T).unwrap_or_else(|_| {
            unreachable!("basis and image are both l x d");
        });
        symmetrise(&mut projected);
        let (values, vectors) = jacobi_eigen(projected);
        let ritz = matmul(vectors.view(), Trans::T, basis.view(), Trans::N).unwrap_or_else(|_| {
            unreachable!("vectors are l x l and the basis l x d");
        });
        let mut components = Array2::zeros((k, d));
        for (mut out, row) in components.rows_mut().into_iter().zip(ritz.rows()) {
            // One sign convention makes the components (and the projected data) a
            // function of the data alone, whatever the random start.
            let pivot = row.iter().enumerate().fold(
                (0, 0.0_f64),
                |best, (i, &v)| if v.abs() > best.1.abs() { (i, v) } else { best },
            );
            let sign = if pivot.1 < 0.0 { -1.0 } else { 1.0 };
            Zip::from(&mut out).and(&row).for_each(|o, &v| *o = (sign * v) as f32);
        }
        // Ritz values of a positive semi-definite matrix are >= 0 up to rounding.
        let explained_variance = values.iter().take(k).map(|&v| v.max(0.0) * scale).collect();
        Ok(Pca {
            mean: mean.mapv(|v| v as f32),
            components,
            explained_variance,
            total_variance,
        })
    }

    /// Number of components (the width of the projected data).
    pub fn n_components(&self) -> usize {
        self.components.nrows()
    }

    /// Number of features of the data the projection applies to.
    pub fn n_features(&self) -> usize {
        self.components.ncols()
    }

    /// The share of the fitted data's total variance the components keep.
    pub fn explained_ratio(&self) -> f64 {
        if self.total_variance > 0.0 {
            self.explained_variance.iter().sum::<f64>() / self.total_variance
        } else {
            1.0
        }
    }

    /// [`Pca::transform`] of rows in either storage, [`ROW_BLOCK`] rows at a time (the projection
    /// of a row does not depend on the rows beside it), so `u8` codes are never decoded whole.
    ///
    /// # Errors
    /// As [`Pca::transform`].
    pub fn transform_rows(&self, x: FeatureRows<'_>) -> Result<Array2<f32>, PcaError> {
        if x.ncols() != self.n_features() {
            return Err(PcaError::FeatureCount {
                expected: self.n_features(),
                found: x.ncols(),
            });
        }
        check_rows_finite(x)?;
        let mut out = Array2::zeros((x.nrows(), self.n_components()));
        for (start, chunk) in x.chunks(TRANSFORM_BLOCK) {
            let projected = self.transform(chunk.view())?;
            out.slice_mut(s![start..start + chunk.nrows(), ..]).assign(&projected);
        }
        Ok(out)
    }

    /// Projects the rows of `x` onto the components: `(x - mean) components^T`, `[m, k]`.
    ///
    /// # Errors
    /// [`PcaError::FeatureCount`], [`PcaError::NonFinite`].
    pub fn transform(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f32>, PcaError> {
        if x.ncols() != self.n_features() {
            return Err(PcaError::FeatureCount {
                expected: self.n_features(),
                found: x.ncols(),
            });
        }
        check_finite(x)?;
        // Centring before the product (rather than subtracting mean . components
        // after) avoids cancellation for data far from the origin.
        let mut centred = x.to_owned();
        Zip::from(centred.rows_mut()).par_for_each(|mut row| row -= &self.mean);
        Ok(
            matmul(centred.view(), Trans::N, self.components.view(), Trans::T).unwrap_or_else(|_| {
                unreachable!("the widths were checked above");
            }),
        )
    }
}

fn check_finite(x: ArrayView2<'_, f32>) -> Result<(), PcaError> {
    match crate::non_finite::find_non_finite(x) {
        Some((row, col)) => Err(PcaError::NonFinite { row, col }),
        None => Ok(()),
    }
}

fn check_rows_finite(x: FeatureRows<'_>) -> Result<(), PcaError> {
    let found = match x {
        FeatureRows::F32(x) => crate::non_finite::find_non_finite(x),
        rows => rows.find_non_finite(),
    };
    match found {
        Some((row, col)) => Err(PcaError::NonFinite { row, col }),
        None => Ok(()),
    }
}

fn column_means(x: FeatureRows<'_>) -> Array1<f64> {
    let mut sums = Array1::<f64>::zeros(x.ncols());
    for (_, chunk) in x.chunks(ROW_BLOCK) {
        for row in chunk.rows() {
            Zip::from(&mut sums).and(&row).for_each(|s, &v| *s += f64::from(v));
        }
    }
    sums / x.nrows() as f64
}

/// The data minus its mean, produced in `f64` row blocks on demand.
struct Centred<'x, 'm> {
    x: FeatureRows<'x>,
    mean: &'m Array1<f64>,
}

impl Centred<'_, '_> {
    fn block(&self, start: usize) -> Array2<f64> {
        let rows = self.x.chunk(start..start + ROW_BLOCK);
        let mut out = rows.mapv(f64::from);
        Zip::from(out.rows_mut()).for_each(|mut row| row -= self.mean);
        out
    }

    fn sum_of_squares(&self) -> f64 {
        (0..self.x.nrows())
            .step_by(ROW_BLOCK)
            .map(|start| self.block(start).iter().map(|v| v * v).sum::<f64>())
            .sum()
    }

    /// `basis Xc^T Xc` for a basis stored as rows (`l x d`): the covariance (up to
    /// the factor `1 / (n - 1)`) applied to every basis vector, again as rows.
    fn covariance_times(&self, basis: ArrayView2<'_, f64>) -> Array2<f64> {
        let mut out = Array2::<f64>::zeros(basis.dim());
        for start in (0..self.x.nrows()).step_by(ROW_BLOCK) {
            let block = self.block(start);
            let scores = matmul(block.view(), Trans::N, basis, Trans::T).unwrap_or_else(|_| {
                unreachable!("block and basis have d columns each");
            });
            gemm(
                1.0,
                scores.view(),
                Trans::T,
                block.view(),
                Trans::N,
                1.0,
                out.view_mut(),
            )
            .unwrap_or_else(|_| {
                unreachable!("scores^T block is l x d like out");
            });
        }
        out
    }
}

/// Modified Gram-Schmidt on the rows, twice per row ("twice is enough" for
/// orthogonality to working precision). A row that is numerically dependent on
/// the earlier ones is replaced by a fresh random one, so the result always has
/// orthonormal rows (needs rows <= columns).
fn orthonormalise_rows(basis: &mut Array2<f64>, rng: &mut ChaCha8Rng) {
    let l = basis.nrows();
    for i in 0..l {
        for _attempt in 0..8 {
            let before = basis.row(i).dot(&basis.row(i)).sqrt();
            let (done, mut rest) = basis.view_mut().split_at(Axis(0), i);
            let mut row = rest.row_mut(0);
            for _ in 0..2 {
                for prev in done.rows() {
                    let r = prev.dot(&row);
                    row.scaled_add(-r, &prev);
                }
            }
            let after = row.dot(&row).sqrt();
            if after > DEPENDENT * before && after > 0.0 {
                row /= after;
                break;
            }
            row.iter_mut().for_each(|v| *v = StandardNormal.sample(rng));
        }
    }
}

fn symmetrise(a: &mut Array2<f64>) {
    let n = a.nrows();
    for i in 0..n {
        for j in (i + 1)..n {
            let v = 0.5 * (a[[i, j]] + a[[j, i]]);
            a[[i, j]] = v;
            a[[j, i]] = v;
        }
    }
}

/// Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations, in `f64`:
/// the eigenvalues in decreasing order and the matching unit eigenvectors as the
/// columns of the second result. Only the symmetric part of `a` is meaningful.
pub(crate) fn jacobi_eigen(mut a: Array2<f64>) -> (Vec<f64>, Array2<f64>) {
    let n = a.nrows();
    let mut v = Array2::<f64>::eye(n);
    let scale = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    for _sweep in 0..JACOBI_MAX_SWEEPS {
        let mut off = 0.0;
        for p in 0..n {
            for q in (p + 1)..n {
                off += a[[p, q]] * a[[p, q]];
            }
        }
        if off.sqrt() <= JACOBI_TOL * scale {
            break;
        }
        for p in 0..n {
            for q in (p + 1)..n {
                let apq = a[[p, q]];
                if apq == 0.0 {
                    continue;
                }
                // Golub & Van Loan's symmetric Schur decomposition of the 2 x 2 block:
                // the smaller rotation angle, which keeps the iteration stable.
                let tau = (a[[q, q]] - a[[p, p]]) / (2.0 * apq);
                let t = if tau.abs() > 1e150 {
                    0.5 / tau
                } else {
                    tau.signum() / (tau.abs() + (1.0 + tau * tau).sqrt())
                };
                let c = (1.0 + t * t).sqrt().recip();
                let sn = t * c;
                rotate(&mut a, &mut v, p, q, c, sn);
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| a[[j, j]].total_cmp(&a[[i, i]]).then(i.cmp(&j)));
    let values = order.iter().map(|&i| a[[i, i]]).collect();
    let mut vectors = Array2::zeros((n, n));
    for (out, &i) in order.iter().enumerate() {
        vectors.column_mut(out).assign(&v.column(i));
    }
    (values, vectors)
}

/// `a <- J^T a J` and `v <- v J` for the rotation J in the plane (p, q) that
/// zeroes `a[p, q]`.
fn rotate(a: &mut Array2<f64>, v: &mut Array2<f64>, p: usize, q: usize, c: f64, s: f64) {
    let n = a.nrows();
    for k in 0..n {
        let (akp, akq) = (a[[k, p]], a[[k, q]]);
        a[[k, p]] = c * akp - s * akq;
        a[[k, q]] = s * akp + c * akq;
    }
    for k in 0..n {
        let (apk, aqk) = (a[[p, k]], a[[q, k]]);
        a[[p, k]] = c * apk - s * aqk;
        a[[q, k]] = s * apk + c * aqk;
    }
    a[[p, q]] = 0.0;
    a[[q, p]] = 0.0;
    for k in 0..n {
        let (vkp, vkq) = (v[[k, p]], v[[k, q]]);
        v[[k, p]] = c * vkp - s * vkq;
        v[[k, q]] = s * vkp + c * vkq;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use ssne_tensor::ndarray::{Array1, Array2, ArrayView2, array};

    use super::*;

    fn gaussian(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Array2::from_shape_simple_fn((rows, cols), || StandardNormal.sample(&mut rng))
    }

    /// `rows` orthonormal rows of length `cols` (rows <= cols).
    fn orthonormal_rows(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
        let mut q = gaussian(rows, cols, seed);
        orthonormalise_rows(&mut q, &mut ChaCha8Rng::seed_from_u64(seed + 1));
        q
    }

    /// Data whose sample covariance is exactly `Q^T diag(lambda) Q` (rows of `Q` are
    /// the eigenvectors), shifted away from the origin.
    fn data_with_spectrum(n: usize, q: &Array2<f64>, lambda: &[f64], seed: u64) -> Array2<f32> {
        let d = q.ncols();
        // Orthonormal, centred columns: centre a Gaussian matrix's columns, then
        // orthonormalise them (combinations of centred vectors stay centred).
        let mut g = gaussian(n, d, seed);
        let means = g.mean_axis(Axis(0)).expect("rows");
        g.rows_mut().into_iter().for_each(|mut r| r -= &means);
        let mut u_t = g.reversed_axes().as_standard_layout().into_owned();
        orthonormalise_rows(&mut u_t, &mut ChaCha8Rng::seed_from_u64(seed));
        let root = ((n - 1) as f64).sqrt();
        let mut scaled = q.clone();
        for (mut row, &l) in scaled.rows_mut().into_iter().zip(lambda) {
            row *= root * l.sqrt();
        }
        let xc = u_t.t().dot(&scaled);
        Array2::from_shape_fn((n, d), |(i, j)| (xc[[i, j]] + 3.0 + 0.1 * j as f64) as f32)
    }

    fn covariance(x: ArrayView2<'_, f32>) -> Array2<f64> {
        let x = x.mapv(f64::from);
        let mean = x.mean_axis(Axis(0)).expect("rows");
        let c = &x - &mean;
        c.t().dot(&c) / (x.nrows().max(2) - 1) as f64
    }

    fn assert_orthonormal_rows(m: &Array2<f32>, tol: f32) {
        let gram = m.dot(&m.t());
        for ((i, j), &v) in gram.indexed_iter() {
            let expected = if i == j { 1.0 } else { 0.0 };
            assert!((v - expected).abs() <= tol, "gram[{i},{j}] = {v}");
        }
    }

    #[test]
    fn jacobi_recovers_a_known_decomposition() {
        let q = orthonormal_rows(12, 12, 3);
        let lambda: Vec<f64> = (0..12).map(|i| 10.0 - i as f64 * 0.75).collect();
        let a = q.t().dot(&Array2::from_diag(&Array1::from(lambda.clone()))).dot(&q);
        let (values, vectors) = jacobi_eigen(a.clone());
        for (v, l) in values.iter().zip(&lambda) {
            assert!((v - l).abs() < 1e-12 * 10.0, "{v} vs {l}");
        }
        for (i, v) in vectors.columns().into_iter().enumerate() {
            let residual = &a.dot(&v) - &(&v * values[i]);
            assert!(residual.iter().all(|r| r.abs() < 1e-12 * 10.0));
            assert!((v.dot(&q.row(i)).abs() - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn jacobi_of_a_zero_or_diagonal_matrix_is_immediate() {
        let (values, vectors) = jacobi_eigen(Array2::zeros((3, 3)));
        assert_eq!(values, vec![0.0; 3]);
        assert_eq!(vectors, Array2::eye(3));
        let (values, _) = jacobi_eigen(Array2::from_diag(&array![1.0, 3.0, 2.0]));
        assert_eq!(values, vec![3.0, 2.0, 1.0]);
    }

    #[test]
    fn fit_recovers_eigenvalues_and_subspace_of_a_known_spectrum() {
        // d = 60 and l = k + 10 = 15 < d: the subspace iteration does the work.
        let (n, d, k) = (400, 60, 5);
        let q = orthonormal_rows(d, d, 11);
        let lambda: Vec<f64> = (0..d).map(|i| 100.0 * 0.7_f64.powi(i as i32)).collect();
        let x = data_with_spectrum(n, &q, &lambda, 12);
        let pca = Pca::fit(x.view(), k, 5).expect("fits");
        assert_eq!(pca.components.dim(), (k, d));
        for (i, (&got, &want)) in pca.explained_variance.iter().zip(&lambda).enumerate() {
            assert!((got - want).abs() <= 1e-5 * want, "lambda_{i}: {got} vs {want}");
            // Distinct eigenvalues: each component is its eigenvector up to sign.
            let c = pca.components.row(i).mapv(f64::from);
            assert!((c.dot(&q.row(i)).abs() - 1.0).abs() < 1e-5, "component {i}");
        }
        let total: f64 = lambda.iter().sum();
        assert!((pca.total_variance - total).abs() <= 1e-5 * total);
        let mean = x.mapv(f64::from).mean_axis(Axis(0)).expect("rows");
        assert!(
            pca.mean
                .iter()
                .zip(&mean)
                .all(|(&a, &b)| (f64::from(a) - b).abs() < 1e-5)
        );
    }

    #[test]
    fn components_are_orthonormal_and_variances_non_increasing() {
        let x = gaussian(300, 40, 21).mapv(|v| v as f32) * &Array1::from_shape_fn(40, |j| 1.0 + j as f32 * 0.1);
        let pca = Pca::fit(x.view(), 12, 2).expect("fits");
        assert_orthonormal_rows(&pca.components, 1e-6);
        assert!(pca.explained_variance.windows(2).all(|w| w[0] >= w[1]));
        assert!(pca.explained_ratio() > 0.0 && pca.explained_ratio() <= 1.0 + 1e-12);
        for row in pca.components.rows() {
            let pivot = row
                .iter()
                .copied()
                .fold(0.0_f32, |m, v| if v.abs() > m.abs() { v } else { m });
            assert!(pivot > 0.0);
        }
    }

    #[test]
    fn projected_training_data_has_zero_mean_and_diagonal_covariance() {
        let q = orthonormal_rows(30, 30, 31);
        let lambda: Vec<f64> = (0..30).map(|i| 50.0 / (1.0 + i as f64)).collect();
        let x = data_with_spectrum(500, &q, &lambda, 32);
        let pca = Pca::fit(x.view(), 8, 9).expect("fits");
        let z = pca.transform(x.view()).expect("transforms");
        assert_eq!(z.dim(), (500, 8));
        let mean = z.mapv(f64::from).mean_axis(Axis(0)).expect("rows");
        assert!(mean.iter().all(|m| m.abs() < 1e-4), "{mean}");
        let c = covariance(z.view());
        for ((i, j), &v) in c.indexed_iter() {
            let expected = if i == j { pca.explained_variance[i] } else { 0.0 };
            assert!(
                (v - expected).abs() < 1e-4 * lambda[0],
                "cov[{i},{j}] = {v}, expected {expected}"
            );
        }
    }

    #[test]
    fn rank_deficient_data_still_give_orthonormal_components() {
        // 3 rows: the centred data span 2 directions; the third component has no variance.
        let x = array![[1.0_f32, 0.0, 2.0, 5.0], [0.0, 1.0, 2.0, 5.0], [1.0, 1.0, 2.0, 5.0]];
        let pca = Pca::fit(x.view(), 3, 1).expect("fits");
        assert_orthonormal_rows(&pca.components, 1e-6);
        assert!(pca.explained_variance[2].abs() < 1e-12);
        let constant = Array2::from_elem((5, 3), 2.5_f32);
        let pca = Pca::fit(constant.view(), 2, 1).expect("fits");
        assert_orthonormal_rows(&pca.components, 1e-6);
        assert_eq!(pca.total_variance, 0.0);
        assert_eq!(pca.explained_ratio(), 1.0);
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let x = Array2::from_shape_fn((4, 3), |(i, j)| (i * 3 + j) as f32);
        assert_eq!(
            Pca::fit(x.view(), 0, 1),
            Err(PcaError::Components {
                k: 0,
                max: 3,
                rows: 4,
                cols: 3
            })
        );
        assert!(matches!(
            Pca::fit(x.view(), 4, 1),
            Err(PcaError::Components { max: 3, .. })
        ));
        assert!(matches!(
            Pca::fit(x.slice(s![..2, ..]), 3, 1),
            Err(PcaError::Components { max: 2, .. })
        ));
        assert_eq!(
            Pca::fit(Array2::<f32>::zeros((0, 3)).view(), 1, 1),
            Err(PcaError::Empty { rows: 0, cols: 3 })
        );
        let mut nan = x.clone();
        nan[[2, 1]] = f32::NAN;
        assert_eq!(Pca::fit(nan.view(), 1, 1), Err(PcaError::NonFinite { row: 2, col: 1 }));
        let pca = Pca::fit(x.view(), 2, 1).expect("fits");
        assert_eq!(
            pca.transform(Array2::zeros((2, 5)).view()),
            Err(PcaError::FeatureCount { expected: 3, found: 5 })
        );
        assert_eq!(pca.transform(nan.view()), Err(PcaError::NonFinite { row: 2, col: 1 }));
    }

    #[test]
    fn the_fit_depends_on_the_seed_only_not_on_the_thread_count() {
        let x = gaussian(2500, 50, 41).mapv(|v| v as f32);
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a pool")
                .install(|| Pca::fit(x.view(), 10, 3).expect("fits"))
        };
        let one = on(1);
        assert_eq!(one, on(2));
        assert_eq!(one, on(3));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn small_matrices_give_the_top_eigenpairs_of_the_covariance(
            (n, d, k, values) in (2usize..30, 1usize..10).prop_flat_map(|(n, d)| {
                (Just(n), Just(d), 1..=n.min(d), proptest::collection::vec(-4.0f32..4.0, n * d))
            }),
            seed in 0u64..1000,
        ) {
            // Checked without any eigensolver, since the fit uses one: each pair
            // solves A v = lambda v, the vectors are orthonormal, the variances
            // add up to the trace, and nothing outside the fitted subspace has
            // more variance than the k-th component.
            let x = Array2::from_shape_vec((n, d), values).expect("n x d");
            let pca = Pca::fit(x.view(), k, seed).expect("fits");
            let a = covariance(x.view());
            let trace = a.diag().sum();
            let scale = trace.max(1e-12);
            prop_assert!((pca.total_variance - trace).abs() <= 1e-9 * scale, "total {} vs trace {}", pca.total_variance, trace);
            let lambda = &pca.explained_variance;
            prop_assert_eq!(lambda.len(), k);
            prop_assert!(lambda.windows(2).all(|w| w[0] >= w[1]) && lambda[k - 1] >= -1e-9 * scale, "{:?}", lambda);
            let captured: f64 = lambda.iter().sum();
            prop_assert!(captured <= trace + 1e-9 * scale, "captured {} above the trace {}", captured, trace);
            if k == d {
                prop_assert!((captured - trace).abs() <= 1e-9 * scale, "all {} components keep {} of {}", d, captured, trace);
            }
            assert_orthonormal_rows(&pca.components, 1e-5);
            let vectors = pca.components.mapv(f64::from);
            for (i, v) in vectors.rows().into_iter().enumerate() {
                let residual = &a.dot(&v) - &(&v * lambda[i]);
                let norm = residual.dot(&residual).sqrt();
                prop_assert!(norm <= 1e-5 * scale, "component {}: |A v - lambda v| = {}", i, norm);
            }
            // The largest variance left outside the subspace, from below: power
            // iteration's Rayleigh quotient never exceeds the true top eigenvalue.
            let outside = Array2::<f64>::eye(d) - vectors.t().dot(&vectors);
            let deflated = outside.dot(&a).dot(&outside);
            let mut u = Array1::from_shape_fn(d, |j| 1.0 + j as f64 * 0.37);
            let mut left = 0.0;
            for _ in 0..300 {
                let next = deflated.dot(&u);
                let norm = next.dot(&next).sqrt();
                if norm <= 1e-300 {
                    break;
                }
                left = u.dot(&next) / u.dot(&u);
                u = next / norm;
            }
            prop_assert!(left <= lambda[k - 1] + 1e-6 * scale, "variance {} left outside beats component {} ({})", left, k, lambda[k - 1]);
        }
    }
}
