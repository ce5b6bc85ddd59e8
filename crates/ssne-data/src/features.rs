//! How a [`Dataset`](crate::Dataset)'s feature rows are stored: as `f32` ([`ndarray::Array2`]),
//! or as the `u8` codes of an IDX or `u8` NPY file ([`ByteFeatures`]), a quarter of the memory,
//! decoded and scaled only when rows are read ([`FeatureRows::copy_row`]).
//!
//! A code is decoded by the formula of the loader that reads the file as `f32`
//! ([`ByteDecoding`]) and scaled by the same expression as [`Scaling`]'s in-place scaling, so a
//! row read from the codes equals, bit for bit, the row of the `f32` data set loaded (and scaled)
//! from the same file.
//!
//! ```
//! use ndarray::array;
//! use ssne_data::{ByteDecoding, ByteFeatures, Dataset, ScalingKind};
//!
//! let codes = array![[0_u8, 255], [51, 102]];
//! let mut bytes = Dataset::from_codes(ByteFeatures::new(codes, ByteDecoding::UnitInterval), None)?;
//! let mut floats = Dataset::new(array![[0.0_f32, 1.0], [0.2, 0.4]], None)?;
//! for data in [&mut bytes.features.to_f32(), &mut floats.features] {
//!     assert_eq!(data.row(1).to_vec(), vec![0.2_f32, 0.4]);
//! }
//! let scaling = bytes.fit_scaling(ScalingKind::Standardize);
//! assert_eq!(scaling, floats.fit_scaling(ScalingKind::Standardize));
//! bytes.apply_scaling(&scaling)?;
//! floats.apply_scaling(&scaling)?;
//! assert_eq!(bytes.features.to_f32(), floats.features); // bit for bit
//! # Ok::<(), ssne_data::DataError>(())
//! ```

use std::ops::Range;

use ndarray::{Array2, ArrayView2, Axis, CowArray, Ix2, s};

use crate::error::DataError;
use crate::scaling::{Scaling, ScalingKind, ScalingParameters, scaled};

/// How a file's `u8` values become features: the formula of the loader that reads the file as
/// `f32`, so both storages hold the same numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ByteDecoding {
    /// `b / 255` in `[0, 1]`: IDX images (and MNIST-style folders).
    UnitInterval,
    /// `b` itself, `0..=255`: a `u8` NPY array.
    Value,
}

impl ByteDecoding {
    /// The feature value of `code`.
    #[inline]
    pub fn decode(self, code: u8) -> f32 {
        match self {
            ByteDecoding::UnitInterval => f32::from(code) / 255.0,
            ByteDecoding::Value => f32::from(code),
        }
    }
}

/// Rows of `u8` codes with their decoding and the scaling recorded on them. Rows are decoded
/// by the decoding's formula and the scaling's, in vector registers; a table of the value of
/// every code in every column (`n_features x 256`) answers the questions asked of every value
/// (their range, whether one is not finite) without decoding them all.
#[derive(Debug, Clone, PartialEq)]
pub struct ByteFeatures {
    codes: Array2<u8>,
    decoding: ByteDecoding,
    /// The recorded scaling's parameters, `None` when unscaled.
    scaling: Option<ScalingParameters>,
    /// `table[col * 256 + code]`: the decoded, scaled value of `code` in column `col`.
    table: Vec<f32>,
}

impl ByteFeatures {
    /// Wraps `codes` (copied into standard layout if needed), unscaled.
    pub fn new(codes: Array2<u8>, decoding: ByteDecoding) -> Self {
        let codes = if codes.is_standard_layout() {
            codes
        } else {
            codes.as_standard_layout().into_owned()
        };
        let decoded: Vec<f32> = (0..=255u8).map(|code| decoding.decode(code)).collect();
        let table = decoded.repeat(codes.ncols());
        ByteFeatures {
            codes,
            decoding,
            scaling: None,
            table,
        }
    }

    /// The codes, `n x d`.
    pub fn codes(&self) -> ArrayView2<'_, u8> {
        self.codes.view()
    }

    /// How the codes are decoded.
    pub fn decoding(&self) -> ByteDecoding {
        self.decoding
    }

    /// Number of rows.
    pub fn nrows(&self) -> usize {
        self.codes.nrows()
    }

    /// Number of features per row.
    pub fn ncols(&self) -> usize {
        self.codes.ncols()
    }

    /// Every row as `f32` (decoded and scaled): the matrix the `f32` loader would give. It takes
    /// four times the memory of the codes; training reads rows with [`FeatureRows`] instead.
    pub fn to_f32(&self) -> Array2<f32> {
        FeatureRows::Bytes(self).chunk(0..self.nrows()).into_owned()
    }

    /// The smallest and largest finite value over the rows, as decoded (with the recorded
    /// scaling); `None` without values.
    pub fn value_range(&self) -> Option<(f32, f32)> {
        // One pass in row order marks the codes each column holds; then their table values.
        let mut seen = vec![false; self.table.len()];
        for row in self.codes.outer_iter() {
            for (col, &code) in row.iter().enumerate() {
                seen[col * 256 + usize::from(code)] = true;
            }
        }
        self.table
            .iter()
            .zip(&seen)
            .filter(|&(v, &seen)| seen && v.is_finite())
            .fold(None, |range: Option<(f32, f32)>, (&v, _)| {
                Some(range.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v))))
            })
    }

    /// Writes the decoded, scaled values of the rows in `rows` (in range, checked by the caller)
    /// into `out`, one row after another (`out` holds `rows.len() x ncols` values): the one
    /// place codes become features.
    ///
    /// The table holds the same values (it is made by the same two formulas), but a look-up per
    /// value into a table of 784 x 256 floats misses the cache; the formulas run 8 values at a
    /// time.
    #[inline]
    fn decode_rows(&self, rows: Range<usize>, out: &mut [f32]) {
        let width = self.codes.ncols().max(1);
        let scaling = self.scaling.as_ref();
        for (row, target) in rows.zip(out.chunks_exact_mut(width)) {
            let codes = self.codes.row(row);
            // Rows are contiguous: the codes are kept in standard layout (see `new`).
            let codes = codes.as_slice().expect("codes in standard layout");
            match self.decoding {
                ByteDecoding::UnitInterval => {
                    decode_row(codes, scaling, target, |code| ByteDecoding::UnitInterval.decode(code));
                }
                ByteDecoding::Value => decode_row(codes, scaling, target, |code| ByteDecoding::Value.decode(code)),
            }
        }
    }

    /// The codes of `indices` (checked by the caller), with this decoding and table.
    pub(crate) fn select_checked(&self, indices: &[usize]) -> Self {
        ByteFeatures {
            codes: self.codes.select(Axis(0), indices),
            decoding: self.decoding,
            scaling: self.scaling.clone(),
            table: self.table.clone(),
        }
    }

    /// The codes of `range` (checked by the caller).
    pub(crate) fn slice_checked(&self, range: Range<usize>) -> Self {
        ByteFeatures {
            codes: self.codes.slice(s![range, ..]).to_owned(),
            decoding: self.decoding,
            scaling: self.scaling.clone(),
            table: self.table.clone(),
        }
    }

    /// Fits `kind` on the decoded, unscaled values: the same parameters as
    /// [`Dataset::fit_scaling`](crate::Dataset::fit_scaling) on the `f32` data.
    pub(crate) fn fit_scaling(&self, kind: ScalingKind) -> Scaling {
        let decoding = self.decoding;
        Scaling::fit_columns(
            self.codes.ncols(),
            self.codes.nrows(),
            |col| {
                self.codes
                    .column(col)
                    .into_iter()
                    .map(move |&code| decoding.decode(code))
            },
            kind,
        )
    }

    /// Records `scaling` in the table (the codes stay as they are).
    pub(crate) fn apply_scaling(&mut self, scaling: &Scaling) -> Result<(), DataError> {
        let Some(parameters) = scaling.parameters(self.codes.ncols())? else {
            return Ok(());
        };
        for (col, values) in self.table.chunks_exact_mut(256).enumerate() {
            let (shift, div) = (parameters.offset[col], parameters.divisor[col]);
            for (code, value) in values.iter_mut().enumerate() {
                *value = scaled(self.decoding.decode(code as u8), shift, div);
            }
        }
        self.scaling = Some(parameters);
        Ok(())
    }
}

/// One row of codes decoded by `decode` and scaled by `scaling` (one offset and divisor per
/// column) into `out`; monomorphised per decoding so that the loop vectorises.
#[inline(always)]
fn decode_row(codes: &[u8], scaling: Option<&ScalingParameters>, out: &mut [f32], decode: impl Fn(u8) -> f32) {
    match scaling {
        Some(p) => {
            for (((o, &code), &shift), &div) in out.iter_mut().zip(codes).zip(&p.offset).zip(&p.divisor) {
                *o = scaled(decode(code), shift, div);
            }
        }
        None => {
            for (o, &code) in out.iter_mut().zip(codes) {
                *o = decode(code);
            }
        }
    }
}

/// The storages a [`Dataset`](crate::Dataset) can hold its features in: `Array2<f32>` and
/// [`ByteFeatures`]. Sealed: the training code reads both through [`FeatureRows`].
pub trait Features: Clone + std::fmt::Debug + PartialEq + Send + Sync + sealed::Sealed {
    /// Number of rows.
    fn n_rows(&self) -> usize;
    /// Number of features per row.
    fn n_cols(&self) -> usize;
    /// The rows, to read by gathering or in chunks.
    fn feature_rows(&self) -> FeatureRows<'_>;
    /// The rows at `indices`, already checked to be in range.
    #[doc(hidden)]
    fn select_checked(&self, indices: &[usize]) -> Self;
    /// The rows in `range`, already checked.
    #[doc(hidden)]
    fn slice_checked(&self, range: Range<usize>) -> Self;
    /// Fits a scaling on these (unscaled) rows.
    #[doc(hidden)]
    fn fit_scaling(&self, kind: ScalingKind) -> Scaling;
    /// Applies a scaling (for the codes: records it in their table).
    #[doc(hidden)]
    fn apply_scaling(&mut self, scaling: &Scaling) -> Result<(), DataError>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for ndarray::Array2<f32> {}
    impl Sealed for super::ByteFeatures {}
}

impl Features for Array2<f32> {
    fn n_rows(&self) -> usize {
        self.nrows()
    }
    fn n_cols(&self) -> usize {
        self.ncols()
    }
    fn feature_rows(&self) -> FeatureRows<'_> {
        FeatureRows::F32(self.view())
    }
    fn select_checked(&self, indices: &[usize]) -> Self {
        self.select(Axis(0), indices)
    }
    fn slice_checked(&self, range: Range<usize>) -> Self {
        self.slice(s![range, ..]).to_owned()
    }
    fn fit_scaling(&self, kind: ScalingKind) -> Scaling {
        Scaling::fit(self.view(), kind)
    }
    fn apply_scaling(&mut self, scaling: &Scaling) -> Result<(), DataError> {
        scaling.apply(self)
    }
}

impl Features for ByteFeatures {
    fn n_rows(&self) -> usize {
        self.nrows()
    }
    fn n_cols(&self) -> usize {
        self.ncols()
    }
    fn feature_rows(&self) -> FeatureRows<'_> {
        FeatureRows::Bytes(self)
    }
    fn select_checked(&self, indices: &[usize]) -> Self {
        ByteFeatures::select_checked(self, indices)
    }
    fn slice_checked(&self, range: Range<usize>) -> Self {
        ByteFeatures::slice_checked(self, range)
    }
    fn fit_scaling(&self, kind: ScalingKind) -> Scaling {
        ByteFeatures::fit_scaling(self, kind)
    }
    fn apply_scaling(&mut self, scaling: &Scaling) -> Result<(), DataError> {
        ByteFeatures::apply_scaling(self, scaling)
    }
}

/// Borrowed feature rows in either storage, read as `f32`: the one way training reads its
/// inputs, by gathering rows ([`copy_row`](Self::copy_row)) or a range at a time
/// ([`chunk`](Self::chunk)). Both give, for the same data, the same values bit for bit.
#[derive(Debug, Clone, Copy)]
pub enum FeatureRows<'a> {
    /// `f32` rows, as they are.
    F32(ArrayView2<'a, f32>),
    /// `u8` codes, decoded and scaled as they are read.
    Bytes(&'a ByteFeatures),
}

impl<'a> From<ArrayView2<'a, f32>> for FeatureRows<'a> {
    fn from(x: ArrayView2<'a, f32>) -> Self {
        FeatureRows::F32(x)
    }
}

impl<'a> From<&'a Array2<f32>> for FeatureRows<'a> {
    fn from(x: &'a Array2<f32>) -> Self {
        FeatureRows::F32(x.view())
    }
}

impl<'a> FeatureRows<'a> {
    /// Number of rows.
    pub fn nrows(&self) -> usize {
        match self {
            FeatureRows::F32(x) => x.nrows(),
            FeatureRows::Bytes(b) => b.nrows(),
        }
    }

    /// Number of features per row.
    pub fn ncols(&self) -> usize {
        match self {
            FeatureRows::F32(x) => x.ncols(),
            FeatureRows::Bytes(b) => b.ncols(),
        }
    }

    /// Whether the rows are kept as `u8` codes.
    pub fn is_bytes(&self) -> bool {
        matches!(self, FeatureRows::Bytes(_))
    }

    /// Writes row `row` as `f32` into `out`.
    ///
    /// # Errors
    /// [`DataError::RowIndex`] for a row past the end, [`DataError::RowWidth`] when `out` does
    /// not hold one value per feature.
    #[inline]
    pub fn copy_row(&self, row: usize, out: &mut [f32]) -> Result<(), DataError> {
        let n_points = self.nrows();
        if row >= n_points {
            return Err(DataError::RowIndex { index: row, n_points });
        }
        if out.len() != self.ncols() {
            return Err(DataError::RowWidth {
                expected: self.ncols(),
                found: out.len(),
            });
        }
        match self {
            FeatureRows::F32(x) => out.iter_mut().zip(x.row(row)).for_each(|(o, &v)| *o = v),
            FeatureRows::Bytes(b) => b.decode_rows(row..row + 1, out),
        }
        Ok(())
    }

    /// The rows in `range` as `f32`: a view of `f32` rows, a decoded copy of codes. A range
    /// past the end is cut at the end.
    pub fn chunk(&self, range: Range<usize>) -> CowArray<'a, f32, Ix2> {
        let end = range.end.min(self.nrows());
        let start = range.start.min(end);
        match *self {
            FeatureRows::F32(x) => CowArray::from(x.slice_move(s![start..end, ..])),
            FeatureRows::Bytes(b) => {
                let mut out = Array2::zeros((end - start, b.ncols()));
                if let Some(values) = out.as_slice_mut() {
                    b.decode_rows(start..end, values);
                }
                CowArray::from(out)
            }
        }
    }

    /// [`chunk`](Self::chunk) without an allocation per call: a view of `f32` rows, or the
    /// codes decoded into `buf` (resized to fit) and viewed there. The values are those of
    /// [`chunk`](Self::chunk), bit for bit. A range past the end is cut at the end.
    ///
    /// ```
    /// use ssne_data::{ByteDecoding, ByteFeatures, FeatureRows};
    ///
    /// let codes = ndarray::array![[0_u8, 255], [51, 102], [204, 153]];
    /// let bytes = ByteFeatures::new(codes, ByteDecoding::UnitInterval);
    /// let mut buf = Vec::new();
    /// let rows = FeatureRows::Bytes(&bytes);
    /// let chunk = rows.chunk_in(1..3, &mut buf);
    /// assert_eq!(chunk, ndarray::array![[0.2_f32, 0.4], [0.8, 0.6]]);
    /// ```
    pub fn chunk_in<'b>(&self, range: Range<usize>, buf: &'b mut Vec<f32>) -> ArrayView2<'b, f32>
    where
        'a: 'b,
    {
        let end = range.end.min(self.nrows());
        let start = range.start.min(end);
        match *self {
            FeatureRows::F32(x) => x.slice_move(s![start..end, ..]),
            FeatureRows::Bytes(b) => {
                let len = (end - start) * b.ncols();
                buf.resize(len, 0.0);
                b.decode_rows(start..end, &mut buf[..len]);
                // Cannot fail: `buf` holds exactly `(end - start) x ncols` values.
                ArrayView2::from_shape((end - start, b.ncols()), &buf[..len]).expect("sized for the rows")
            }
        }
    }

    /// Every row as `f32`: a view of `f32` rows, the decoded matrix of codes (four times their
    /// memory: for the steps that need all rows at once, such as a kNN search in raw space).
    pub fn to_f32(&self) -> CowArray<'a, f32, Ix2> {
        self.chunk(0..self.nrows())
    }

    /// The first `(row, col)` whose value is NaN or infinite, in row-major order.
    pub fn find_non_finite(&self) -> Option<(usize, usize)> {
        match self {
            FeatureRows::F32(x) => x
                .outer_iter()
                .enumerate()
                .find_map(|(r, row)| row.iter().position(|v| !v.is_finite()).map(|c| (r, c))),
            FeatureRows::Bytes(b) => {
                // Only a code whose table entry is not finite can be: look for those.
                let bad: Vec<bool> = b.table.iter().map(|v| !v.is_finite()).collect();
                if !bad.contains(&true) {
                    return None;
                }
                b.codes.outer_iter().enumerate().find_map(|(r, row)| {
                    row.iter()
                        .enumerate()
                        .position(|(c, &code)| bad[c * 256 + usize::from(code)])
                        .map(|c| (r, c))
                })
            }
        }
    }

    /// The smallest and largest finite value; `None` when there is none.
    pub fn value_range(&self) -> Option<(f32, f32)> {
        match self {
            FeatureRows::F32(x) => x
                .iter()
                .filter(|v| v.is_finite())
                .fold(None, |range: Option<(f32, f32)>, &v| match range {
                    None => Some((v, v)),
                    Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
                }),
            FeatureRows::Bytes(b) => b.value_range(),
        }
    }

    /// The rows as `f32` in chunks of `chunk_rows`, with each chunk's first row, in order.
    pub fn chunks(&self, chunk_rows: usize) -> impl Iterator<Item = (usize, CowArray<'a, f32, Ix2>)> + '_ {
        let step = chunk_rows.max(1);
        (0..self.nrows())
            .step_by(step)
            .map(move |start| (start, self.chunk(start..start + step)))
    }
}
