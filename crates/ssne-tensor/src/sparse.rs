//! Products of a sparse matrix in compressed sparse rows with a dense one.
//!
//! Image inputs are mostly zeros (MNIST: about 80%), and the first layer of a
//! network multiplies them by a dense weight matrix: skipping the zeros does a
//! fifth of the multiply-adds. [`Csr::assign_if_sparse`] measures the density
//! while it compacts, so callers fall back to [`gemm`](crate::gemm) for data
//! that is not sparse.
//!
//! Every output row is computed by one task, over its entries in column order,
//! so results are bitwise identical on any number of threads.

use ndarray::{Array2, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis, CowArray, Ix2};
use rayon::prelude::*;

use crate::{Real, TensorError};

/// Largest share of non-zero entries for which the sparse product is used by
/// the callers in this workspace (the tape's `matmul`, the network's inference
/// path). Measured with the `csr_gemm` bench on MNIST-like rows: at this
/// density the sparse product (compaction included) is still clearly faster
/// than the dense GEMM, above it the margin shrinks to noise.
pub const SPARSE_MAX_DENSITY: f64 = 0.35;

/// Whether the left operand of an `[n, k] x [k, m]` product is worth a density
/// check and, if sparse enough, compression: the check reads `a` once, which is
/// noise against `m` multiply-adds per element of `a` only when `m` is not tiny;
/// the row kernel wants whole 8-column vectors; and a small `k` leaves few
/// zeros to skip. One rule for every caller, so training (the tape's `matmul`)
/// and inference choose the same kernel for the same shapes.
pub fn worth_compressing(n: usize, k: usize, m: usize) -> bool {
    m >= 8 && k >= 32 && n * k * m >= 1 << 16
}

/// Elements of one output row computed together: one 256-bit vector of `f32`.
const CHUNK: usize = 8;
/// Chunks of a row kept in registers at once for `f32` (13 x 8 = 104 columns:
/// a 100-unit layer in one pass over the row's entries, 13 of the 16 vector
/// registers). `f64` chunks take two registers each, hence half as many.
const MAX_CHUNKS_F32: usize = 13;
const MAX_CHUNKS_F64: usize = 6;
/// Below this many multiply-adds a product stays on the calling thread.
const PAR_MIN_MULADDS: usize = 1 << 18;
/// Work aimed at per parallel task, in multiply-adds.
const TASK_MULADDS: usize = 1 << 17;
/// Rows per parallel task of [`Csr::assign_if_sparse`] on large inputs.
const COMPACT_ROWS_PER_TASK: usize = 64;
/// Below this many elements compaction stays on the calling thread.
const COMPACT_PAR_MIN: usize = 1 << 17;

/// A matrix in compressed sparse row form: for each row, the columns and
/// values of its non-zero entries, in increasing column order.
///
/// Made from a dense matrix ([`Csr::from_dense`], [`Csr::assign_if_sparse`]),
/// from its rows ([`Csr::from_sorted_rows`]), or by transposing another
/// ([`Csr::transpose_into`]); refilling an existing
/// value reuses its buffers, so a training loop that compacts one batch per
/// step stops allocating after the first.
///
/// # Example
/// ```
/// use ssne_tensor::{Csr, csr_gemm, ndarray::{array, Array2}};
/// let x = array![[0.0_f32, 2.0, 0.0], [1.0, 0.0, 0.0]];
/// let a = Csr::from_dense(x.view()).expect("small dimensions");
/// assert_eq!(a.nnz(), 2);
/// let w = array![[1.0_f32, 1.0], [10.0, 20.0], [5.0, 5.0]];
/// let mut y = Array2::zeros((2, 2));
/// csr_gemm(1.0, &a, w.view(), 0.0, y.view_mut())?;
/// assert_eq!(y, array![[20.0, 40.0], [1.0, 1.0]]);
/// # Ok::<(), ssne_tensor::TensorError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Csr<R> {
    nrows: usize,
    ncols: usize,
    /// `row_ptr[i]..row_ptr[i + 1]` are the entries of row `i` (`nrows + 1` values).
    row_ptr: Vec<usize>,
    /// Column of each entry; the buffer may be longer than the entry count
    /// (it is never shortened, so refills do not re-initialise it).
    col_idx: Vec<u32>,
    /// Value of each entry, same length as `col_idx`.
    values: Vec<R>,
}

/// Equal shapes and entries (the buffers may hold stale values past the entries).
impl<R: Real> PartialEq for Csr<R> {
    fn eq(&self, other: &Self) -> bool {
        let nnz = self.nnz();
        (self.nrows, self.ncols) == (other.nrows, other.ncols)
            && self.row_ptr == other.row_ptr
            && self.col_idx[..nnz] == other.col_idx[..nnz]
            && self.values[..nnz] == other.values[..nnz]
    }
}

impl<R: Real> Default for Csr<R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R: Real> Csr<R> {
    /// An empty `0 x 0` matrix, to be filled by [`Csr::assign_if_sparse`].
    pub fn new() -> Self {
        Csr {
            nrows: 0,
            ncols: 0,
            row_ptr: vec![0],
            col_idx: Vec::new(),
            values: Vec::new(),
        }
    }

    /// The non-zero entries of `x`, whatever their density.
    ///
    /// `None` when a dimension of `x` exceeds `u32::MAX` (indices are stored
    /// as `u32` to halve their memory traffic).
    pub fn from_dense(x: ArrayView2<'_, R>) -> Option<Self> {
        let mut csr = Self::new();
        csr.assign_if_sparse(x, 1.0).then_some(csr)
    }

    /// The `rows.len() x ncols` matrix whose row `i` stores the `(column, value)` entries of
    /// `rows[i]`, which must be in strictly increasing column order. Every given entry is stored,
    /// zeros included (a caller that wants only non-zeros leaves them out).
    ///
    /// # Errors
    ///
    /// [`TensorError::SparseColumn`] for a column `>= ncols` or not greater than the one before
    /// it in its row, [`TensorError::SparseTooLarge`] when the row count or `ncols` exceeds
    /// `u32::MAX`.
    ///
    /// # Example
    /// ```
    /// use ssne_tensor::{Csr, ndarray::array};
    /// let a = Csr::from_sorted_rows(3, [vec![(1, 2.0_f64)], vec![], vec![(0, 1.0), (2, 0.0)]])?;
    /// assert_eq!((a.nnz(), a.row_ptr()), (3, &[0, 1, 1, 3][..]));
    /// assert_eq!(a.to_dense(), array![[0.0, 2.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]);
    /// # Ok::<(), ssne_tensor::TensorError>(())
    /// ```
    pub fn from_sorted_rows<Row>(ncols: usize, rows: impl IntoIterator<Item = Row>) -> Result<Self, TensorError>
    where
        Row: IntoIterator<Item = (u32, R)>,
    {
        let mut csr = Self::new();
        for (row, entries) in rows.into_iter().enumerate() {
            let mut previous = None;
            for (col, value) in entries {
                if col as usize >= ncols || previous.is_some_and(|p| col <= p) {
                    return Err(TensorError::SparseColumn { row, col, ncols });
                }
                previous = Some(col);
                csr.col_idx.push(col);
                csr.values.push(value);
            }
            csr.row_ptr.push(csr.col_idx.len());
        }
        let nrows = csr.row_ptr.len() - 1;
        if u32::try_from(nrows).is_err() || u32::try_from(ncols).is_err() {
            return Err(TensorError::SparseTooLarge { nrows, ncols });
        }
        csr.nrows = nrows;
        csr.ncols = ncols;
        Ok(csr)
    }

    /// Refills `self` with the non-zero entries of `x` (NaN counts as non-zero)
    /// if at most `max_density` of its entries are non-zero, and returns
    /// whether it did. Otherwise, or when a dimension of `x` exceeds
    /// `u32::MAX`, returns `false` and leaves `self` empty.
    ///
    /// A dense `x` costs little: small inputs are given up on as soon as the
    /// count passes the limit, large ones (counted first, then compacted in
    /// parallel) after one counting pass. The result does not depend on the
    /// thread count.
    pub fn assign_if_sparse(&mut self, x: ArrayView2<'_, R>, max_density: f64) -> bool {
        let (nrows, ncols) = x.dim();
        self.clear();
        if u32::try_from(nrows).is_err() || u32::try_from(ncols).is_err() {
            return false;
        }
        let x = x.as_standard_layout();
        // Cannot fail: `as_standard_layout` returns a contiguous row-major array.
        let data = x.as_slice().expect("a standard-layout array is one slice");
        // NaN allows nothing; the limit is on a count, so densities beyond [0, 1] clamp.
        let max_density = if max_density.is_nan() {
            0.0
        } else {
            max_density.clamp(0.0, 1.0)
        };
        let limit = max_density * data.len() as f64;
        let filled = if data.len() >= COMPACT_PAR_MIN {
            self.fill_counted(data, nrows, ncols, limit)
        } else {
            self.fill_serial(data, nrows, ncols, limit)
        };
        if !filled {
            self.clear();
            return false;
        }
        self.nrows = nrows;
        self.ncols = ncols;
        true
    }

    /// One pass, row by row, into buffers with room for the limit plus one
    /// row; gives up as soon as the count passes `limit`, so a dense input
    /// costs a partial read.
    fn fill_serial(&mut self, data: &[R], nrows: usize, ncols: usize, limit: f64) -> bool {
        // `limit` is within [0, len], so the cast is exact enough and in range.
        let room = (limit.floor() as usize).saturating_add(ncols).min(data.len());
        self.reserve(room);
        let mut pos = 0;
        for row in data.chunks_exact(ncols.max(1)).take(nrows) {
            if pos as f64 > limit {
                return false;
            }
            // pos <= limit here, so the row's entries fit in `room`.
            pos += compact(row, &mut self.col_idx[pos..], &mut self.values[pos..]);
            self.row_ptr.push(pos);
        }
        // Zero columns: every row is empty.
        self.row_ptr.resize(nrows + 1, pos);
        pos as f64 <= limit
    }

    /// Two passes for large inputs, both in parallel over blocks of rows: the
    /// count of every row (which decides, and places each row's entries),
    /// then the compaction of each block into its own part of the buffers.
    fn fill_counted(&mut self, data: &[R], nrows: usize, ncols: usize, limit: f64) -> bool {
        self.row_ptr.resize(nrows + 1, 0);
        self.row_ptr[1..]
            .par_chunks_mut(COMPACT_ROWS_PER_TASK)
            .enumerate()
            .for_each(|(block, counts)| {
                let first = block * COMPACT_ROWS_PER_TASK;
                for (offset, count) in counts.iter_mut().enumerate() {
                    *count = count_non_zeros(&data[(first + offset) * ncols..(first + offset + 1) * ncols]);
                }
            });
        for i in 0..nrows {
            self.row_ptr[i + 1] += self.row_ptr[i];
        }
        let nnz = self.row_ptr[nrows];
        if nnz as f64 > limit {
            return false;
        }
        self.reserve(nnz);
        fill_rows(
            data,
            ncols,
            &self.row_ptr,
            0..nrows,
            &mut self.col_idx[..nnz],
            &mut self.values[..nnz],
        );
        true
    }

    /// Makes the entry buffers at least `len` long. They are never shortened,
    /// so refilling with as many entries as before writes nothing extra.
    fn reserve(&mut self, len: usize) {
        if self.col_idx.len() < len {
            self.col_idx.resize(len, 0);
            self.values.resize(len, R::zero());
        }
    }

    /// Writes the transpose of `self` into `out` (reusing its buffers). Each row
    /// of the transpose lists its entries in increasing column order, like
    /// every [`Csr`].
    ///
    /// A counting sort by column: counts, starts, then a scatter that uses
    /// the starts as cursors; after it each cursor holds the next row's start,
    /// so shifting them by one place restores the starts. Serial: splitting it
    /// by blocks of columns costs a binary search per row and block, more than
    /// the scatter itself at the sizes of a batch.
    pub fn transpose_into(&self, out: &mut Csr<R>) {
        let nnz = self.nnz();
        out.nrows = self.ncols;
        out.ncols = self.nrows;
        out.row_ptr.clear();
        out.row_ptr.resize(self.ncols + 1, 0);
        out.reserve(nnz);
        for &col in &self.col_idx[..nnz] {
            out.row_ptr[col as usize + 1] += 1;
        }
        for c in 0..self.ncols {
            out.row_ptr[c + 1] += out.row_ptr[c];
        }
        let cursors = &mut out.row_ptr[..self.ncols];
        let (cols, vals) = (&mut out.col_idx[..nnz], &mut out.values[..nnz]);
        for i in 0..self.nrows {
            let entries = self.row_ptr[i]..self.row_ptr[i + 1];
            for (&col, &v) in self.col_idx[entries.clone()].iter().zip(&self.values[entries]) {
                let cursor = &mut cursors[col as usize];
                cols[*cursor] = i as u32;
                vals[*cursor] = v;
                *cursor += 1;
            }
        }
        out.row_ptr.copy_within(0..self.ncols, 1);
        out.row_ptr[0] = 0;
    }

    /// Number of rows.
    pub fn nrows(&self) -> usize {
        self.nrows
    }

    /// Number of columns.
    pub fn ncols(&self) -> usize {
        self.ncols
    }

    /// Number of stored (non-zero) entries.
    pub fn nnz(&self) -> usize {
        self.row_ptr[self.nrows]
    }

    /// Share of entries that are stored; 0 for an empty matrix.
    pub fn density(&self) -> f64 {
        let size = self.nrows * self.ncols;
        if size == 0 {
            0.0
        } else {
            self.nnz() as f64 / size as f64
        }
    }

    /// Row pointers (`nrows + 1` values): row `i` holds entries `row_ptr[i]..row_ptr[i + 1]` of
    /// [`col_indices`](Self::col_indices) and [`values`](Self::values).
    pub fn row_ptr(&self) -> &[usize] {
        &self.row_ptr
    }

    /// Column of every entry, row after row, increasing within each row.
    pub fn col_indices(&self) -> &[u32] {
        &self.col_idx[..self.nnz()]
    }

    /// Value of every entry, in the order of [`col_indices`](Self::col_indices).
    pub fn values(&self) -> &[R] {
        &self.values[..self.nnz()]
    }

    /// Columns and values of the entries of row `i`.
    ///
    /// # Panics
    /// If `i >= nrows`.
    pub fn row(&self, i: usize) -> (&[u32], &[R]) {
        let range = self.row_ptr[i]..self.row_ptr[i + 1];
        (&self.col_idx[range.clone()], &self.values[range])
    }

    /// The dense matrix.
    pub fn to_dense(&self) -> Array2<R> {
        let mut out = Array2::zeros((self.nrows, self.ncols));
        for (i, mut out_row) in out.rows_mut().into_iter().enumerate() {
            let (cols, vals) = self.row(i);
            for (&c, &v) in cols.iter().zip(vals) {
                out_row[c as usize] = v;
            }
        }
        out
    }

    /// Back to `0 x 0`, keeping the buffers.
    fn clear(&mut self) {
        self.nrows = 0;
        self.ncols = 0;
        self.row_ptr.clear();
        self.row_ptr.push(0);
    }
}

/// Writes the entries of `rows` of `data` into `cols` / `vals`, which hold
/// exactly those rows' entries (`row_ptr[rows.start]..row_ptr[rows.end]`).
/// Parallel by halving the row range: each half gets its own slices, so no
/// task can write into another's entries.
fn fill_rows<R: Real>(
    data: &[R],
    ncols: usize,
    row_ptr: &[usize],
    rows: std::ops::Range<usize>,
    cols: &mut [u32],
    vals: &mut [R],
) {
    if rows.len() > COMPACT_ROWS_PER_TASK {
        let mid = rows.start + rows.len() / 2;
        let split = row_ptr[mid] - row_ptr[rows.start];
        let (cols_lo, cols_hi) = cols.split_at_mut(split);
        let (vals_lo, vals_hi) = vals.split_at_mut(split);
        rayon::join(
            || fill_rows(data, ncols, row_ptr, rows.start..mid, cols_lo, vals_lo),
            || fill_rows(data, ncols, row_ptr, mid..rows.end, cols_hi, vals_hi),
        );
        return;
    }
    let mut pos = 0;
    for i in rows {
        let row = &data[i * ncols..(i + 1) * ncols];
        pos += compact(row, &mut cols[pos..], &mut vals[pos..]);
    }
}

/// Writes the column and value of every non-zero of `row` to the front of
/// `cols` / `vals` and returns how many there are. Never writes past the ends
/// of the slices (which must have room for all of them).
fn compact<R: Real>(row: &[R], cols: &mut [u32], vals: &mut [R]) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        if std::any::TypeId::of::<R>() == std::any::TypeId::of::<f32>() && std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: R is f32 (same type, checked above), so the slices are
            // reinterpreted as themselves; the CPU has AVX2 (checked above).
            unsafe {
                let row = &*(row as *const [R] as *const [f32]);
                let vals = &mut *(vals as *mut [R] as *mut [f32]);
                return compact_f32_avx2(row, cols, vals);
            }
        }
    }
    compact_scalar(row, 0, cols, vals)
}

/// Number of non-zeros (NaN included) of `row`.
fn count_non_zeros<R: Real>(row: &[R]) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        if std::any::TypeId::of::<R>() == std::any::TypeId::of::<f32>() && std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: R is f32 (checked above), so the slice is reinterpreted
            // as itself; the CPU has AVX2 (checked above).
            return unsafe { count_non_zeros_f32_avx2(&*(row as *const [R] as *const [f32])) };
        }
    }
    // Summed as integers, which the compiler vectorises; `filter().count()` it does not.
    row.iter().fold(0, |n, &v| n + usize::from(v != R::zero()))
}

/// [`count_non_zeros`] eight elements per compare, mask and population count.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn count_non_zeros_f32_avx2(row: &[f32]) -> usize {
    use std::arch::x86_64::*;
    let (chunks, rest) = row.as_chunks::<8>();
    let zero = _mm256_setzero_ps();
    let mut count = 0;
    for chunk in chunks {
        // SAFETY: an unaligned load of exactly the 8 elements of `chunk`.
        let x = unsafe { _mm256_loadu_ps(chunk.as_ptr()) };
        count += (_mm256_movemask_ps(_mm256_cmp_ps::<_CMP_NEQ_UQ>(x, zero)) as u32).count_ones() as usize;
    }
    count + rest.iter().filter(|&&v| v != 0.0).count()
}

/// [`compact`] one element at a time; `first_col` is the column of `row[0]`.
fn compact_scalar<R: Real>(row: &[R], first_col: usize, cols: &mut [u32], vals: &mut [R]) -> usize {
    let mut pos = 0;
    for (j, &v) in row.iter().enumerate() {
        if v != R::zero() {
            // Dimensions were checked to fit in u32.
            cols[pos] = (first_col + j) as u32;
            vals[pos] = v;
            pos += 1;
        }
    }
    pos
}

/// For each 8-bit mask, the positions of its set bits, in order: the lane
/// permutation that packs the selected lanes of a vector to its front.
#[cfg(target_arch = "x86_64")]
static LEFT_PACK: [[u32; 8]; 256] = left_pack_table();

#[cfg(target_arch = "x86_64")]
const fn left_pack_table() -> [[u32; 8]; 256] {
    let mut table = [[0u32; 8]; 256];
    let mut mask = 0;
    while mask < 256 {
        let (mut bit, mut out) = (0, 0);
        while bit < 8 {
            if mask & (1 << bit) != 0 {
                table[mask][out] = bit as u32;
                out += 1;
            }
            bit += 1;
        }
        mask += 1;
    }
    table
}

/// [`compact`] eight elements at a time: compare with zero, then one permute
/// packs the non-zeros (and their column numbers) to the front of a vector
/// that is stored whole; the write position advances by their count. A
/// branch per element would mispredict on the random pattern of pixels.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn compact_f32_avx2(row: &[f32], cols: &mut [u32], vals: &mut [f32]) -> usize {
    use std::arch::x86_64::*;
    let mut pos = 0;
    let mut j = 0;
    let zero = _mm256_setzero_ps();
    // Whole-vector stores need 8 free slots; the last few entries go one by one.
    while j + 8 <= row.len() && pos + 8 <= cols.len() {
        // SAFETY: j + 8 <= row.len() and pos + 8 <= cols.len() == vals.len()
        // (checked by the loop condition); unaligned loads and stores.
        unsafe {
            let x = _mm256_loadu_ps(row.as_ptr().add(j));
            // Unordered not-equal: NaN counts as non-zero, as `v != 0.0` does.
            let mask = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_NEQ_UQ>(x, zero)) as usize;
            let perm = _mm256_loadu_si256(LEFT_PACK[mask].as_ptr().cast());
            _mm256_storeu_ps(vals.as_mut_ptr().add(pos), _mm256_permutevar8x32_ps(x, perm));
            // Column numbers fit in u32 (checked by the caller); the i32 add wraps alike.
            let col = _mm256_add_epi32(perm, _mm256_set1_epi32(j as i32));
            _mm256_storeu_si256(cols.as_mut_ptr().add(pos).cast(), col);
            pos += mask.count_ones() as usize;
        }
        j += 8;
    }
    pos + compact_scalar(&row[j..], j, &mut cols[pos..], &mut vals[pos..])
}

/// `C = alpha * A * B + beta * C` with `A` sparse, in parallel over rows of C
/// on the current rayon pool (bitwise identical on any thread count).
///
/// `B` and `C` may have any layout; a `B` whose rows are not contiguous is
/// copied first. With `beta = 0`, C is not read (it may hold anything).
/// Entries of A that are zero are skipped, so non-finite values of B where A is
/// zero do not reach C (a dense GEMM would give NaN there).
///
/// On x86-64 CPUs with AVX2 and FMA the multiply-adds are fused (like the GEMM
/// kernels of `matrixmultiply`), so results may differ in the last bit from
/// CPUs without them.
///
/// # Errors
/// [`TensorError::ShapeMismatch`] when A's columns differ from B's rows or C
/// has the wrong shape.
pub fn csr_gemm<R: Real>(
    alpha: R,
    a: &Csr<R>,
    b: ArrayView2<'_, R>,
    beta: R,
    c: ArrayViewMut2<'_, R>,
) -> Result<(), TensorError> {
    csr_gemm_impl(alpha, a, b, beta, c, true)
}

/// [`csr_gemm`] on the calling thread only, for callers that already run in
/// parallel over independent pieces of work (nested parallelism would only add
/// overhead there). Same results as [`csr_gemm`].
///
/// # Errors
/// As [`csr_gemm`].
pub fn csr_gemm_serial<R: Real>(
    alpha: R,
    a: &Csr<R>,
    b: ArrayView2<'_, R>,
    beta: R,
    c: ArrayViewMut2<'_, R>,
) -> Result<(), TensorError> {
    csr_gemm_impl(alpha, a, b, beta, c, false)
}

fn csr_gemm_impl<R: Real>(
    alpha: R,
    a: &Csr<R>,
    b: ArrayView2<'_, R>,
    beta: R,
    mut c: ArrayViewMut2<'_, R>,
    parallel: bool,
) -> Result<(), TensorError> {
    let (m, k) = (a.nrows, a.ncols);
    let n = b.ncols();
    if k != b.nrows() {
        return Err(TensorError::ShapeMismatch {
            op: "csr_gemm",
            left: [m, k],
            right: [b.nrows(), n],
        });
    }
    if c.dim() != (m, n) {
        return Err(TensorError::ShapeMismatch {
            op: "csr_gemm (output)",
            left: [m, n],
            right: [c.nrows(), c.ncols()],
        });
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    let b: CowArray<'_, R, Ix2> = if b.strides()[1] == 1 || n == 1 {
        b.into()
    } else {
        b.as_standard_layout().into_owned().into()
    };
    let panel = Panel {
        b: b.view(),
        n,
        alpha,
        beta,
        fused: fma_available(),
    };
    let muladds = a.nnz() * n;
    if !parallel || muladds < PAR_MIN_MULADDS {
        panel.rows(a, 0, c.view_mut());
        return Ok(());
    }
    // Rows are independent, so any split gives the same bits; aim at a fixed
    // amount of work per task so that tiny tasks do not drown in overhead.
    let rows_per_task = (TASK_MULADDS * m / muladds.max(1)).clamp(1, m);
    c.axis_chunks_iter_mut(Axis(0), rows_per_task)
        .into_par_iter()
        .enumerate()
        .for_each(|(task, c_rows)| panel.rows(a, task * rows_per_task, c_rows));
    Ok(())
}

/// Whether this CPU fuses multiply-adds in 8-wide vectors (AVX2 and FMA).
pub(crate) fn fma_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The dense operand and scalars of one product; B's rows are contiguous.
struct Panel<'a, R> {
    b: ArrayView2<'a, R>,
    n: usize,
    alpha: R,
    beta: R,
    fused: bool,
}

impl<R: Real> Panel<'_, R> {
    /// Rows `first..first + c.nrows()` of the product into `c`.
    fn rows(&self, a: &Csr<R>, first: usize, c: ArrayViewMut2<'_, R>) {
        #[cfg(target_arch = "x86_64")]
        {
            if self.fused {
                // SAFETY: `fused` is true only when the CPU has AVX2 and FMA.
                unsafe { self.rows_fma(a, first, c) };
                return;
            }
        }
        self.rows_generic::<false>(a, first, c);
    }

    /// The same code compiled with AVX2 and FMA: 8-wide registers, and
    /// `mul_add` becomes one instruction.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn rows_fma(&self, a: &Csr<R>, first: usize, c: ArrayViewMut2<'_, R>) {
        self.rows_generic::<true>(a, first, c);
    }

    #[inline(always)]
    fn rows_generic<const FMA: bool>(&self, a: &Csr<R>, first: usize, mut c: ArrayViewMut2<'_, R>) {
        for (offset, c_row) in c.rows_mut().into_iter().enumerate() {
            let (cols, vals) = a.row(first + offset);
            self.row::<FMA>(cols, vals, c_row);
        }
    }

    /// One row of C: the sum of the B rows named by `cols`, weighted by `vals`,
    /// accumulated in register-sized chunks of columns.
    #[inline(always)]
    fn row<const FMA: bool>(&self, cols: &[u32], vals: &[R], mut c_row: ArrayViewMut1<'_, R>) {
        let n = self.n;
        if n < CHUNK {
            let mut acc = [R::zero(); CHUNK];
            for (&col, &v) in cols.iter().zip(vals) {
                let b_row = self.b.row(col as usize);
                for t in 0..n {
                    acc[t] = mul_add::<R, FMA>(v, b_row[t], acc[t]);
                }
            }
            for t in 0..n {
                c_row[t] = self.output(acc[t], c_row[t]);
            }
            return;
        }
        // Chunk j covers columns offset_j..offset_j + 8 with offset_j =
        // min(8 j, n - 8): the last chunk overlaps the one before instead of
        // running past the row, so every chunk is a full vector.
        let n_chunks = n.div_ceil(CHUNK);
        let max_chunks = if size_of::<R>() == 4 {
            MAX_CHUNKS_F32
        } else {
            MAX_CHUNKS_F64
        };
        let mut written = 0;
        let mut first = 0;
        while first < n_chunks {
            let count = (n_chunks - first).min(max_chunks);
            let mut offsets = [0; MAX_CHUNKS_F32];
            for (j, offset) in offsets.iter_mut().enumerate().take(count) {
                *offset = ((first + j) * CHUNK).min(n - CHUNK);
            }
            macro_rules! pass {
                ($($count:literal)*) => {
                    match count {
                        $($count => {
                            let acc = self.pass::<$count, FMA>(cols, vals, &offsets);
                            self.store(&acc, &offsets, &mut written, &mut c_row);
                        })*
                        _ => unreachable!("at most {MAX_CHUNKS_F32} chunks per pass"),
                    }
                };
            }
            pass!(1 2 3 4 5 6 7 8 9 10 11 12 13);
            first += count;
        }
    }

    /// Sums over the row's entries for `NC` chunks at once, kept in registers.
    #[inline(always)]
    fn pass<const NC: usize, const FMA: bool>(
        &self,
        cols: &[u32],
        vals: &[R],
        offsets: &[usize; MAX_CHUNKS_F32],
    ) -> [[R; CHUNK]; NC] {
        let mut acc = [[R::zero(); CHUNK]; NC];
        let stride = self.b.strides()[0];
        let base = self.b.as_ptr();
        for (&col, &v) in cols.iter().zip(vals) {
            // SAFETY: `col < k == b.nrows()` (a Csr only holds in-range columns,
            // and the shapes were checked), every offset + 8 <= n == b.ncols(),
            // and B's columns are contiguous, so each chunk lies inside B's row.
            let b_row = unsafe { base.offset(col as isize * stride) };
            for j in 0..NC {
                // SAFETY: see above.
                let chunk = unsafe { &*b_row.add(offsets[j]).cast::<[R; CHUNK]>() };
                for t in 0..CHUNK {
                    acc[j][t] = mul_add::<R, FMA>(v, chunk[t], acc[j][t]);
                }
            }
        }
        acc
    }

    /// Writes chunk sums to the row. With `beta = 0` every chunk is written
    /// whole: where chunks overlap they hold the same sums (the same entries
    /// multiplied and added in the same order), so rewriting is harmless and
    /// each chunk is one fixed-size store. Otherwise the lanes an overlapping
    /// earlier chunk already wrote are skipped, so `beta * C` is applied once.
    #[inline(always)]
    fn store<const NC: usize>(
        &self,
        acc: &[[R; CHUNK]; NC],
        offsets: &[usize; MAX_CHUNKS_F32],
        written: &mut usize,
        c_row: &mut ArrayViewMut1<'_, R>,
    ) {
        if self.beta == R::zero()
            && let Some(out) = c_row.as_slice_mut()
        {
            for (chunk, &offset) in acc.iter().zip(offsets) {
                if let Some(dst) = out[offset..].first_chunk_mut::<CHUNK>() {
                    for (d, &sum) in dst.iter_mut().zip(chunk) {
                        *d = self.alpha * sum;
                    }
                }
            }
            return;
        }
        for (chunk, &offset) in acc.iter().zip(offsets) {
            for (t, &sum) in chunk.iter().enumerate().skip(written.saturating_sub(offset)) {
                c_row[offset + t] = self.output(sum, c_row[offset + t]);
            }
            *written = offset + CHUNK;
        }
    }

    #[inline(always)]
    fn output(&self, sum: R, old: R) -> R {
        if self.beta == R::zero() {
            self.alpha * sum
        } else {
            self.alpha * sum + self.beta * old
        }
    }
}

/// `acc + a b`, fused when `FMA` (only compiled so inside an AVX2+FMA function).
#[inline(always)]
pub(crate) fn mul_add<R: Real, const FMA: bool>(a: R, b: R, acc: R) -> R {
    if FMA { a.mul_add(b, acc) } else { acc + a * b }
}
