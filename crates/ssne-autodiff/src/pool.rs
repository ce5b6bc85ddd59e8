//! A free list of matrix buffers keyed by element count, so a training loop that
//! records the same graph every step stops allocating after the first one.

use std::collections::HashMap;

use ssne_tensor::Real;
use ssne_tensor::ndarray::Array2;

/// Buffers returned by [`Tape::clear`](crate::Tape::clear) and by
/// [`Tape::recycle`](crate::Tape::recycle), waiting to be handed out again.
#[derive(Debug)]
pub(crate) struct BufferPool<R> {
    free: HashMap<usize, Vec<Vec<R>>>,
}

impl<R> Default for BufferPool<R> {
    fn default() -> Self {
        Self { free: HashMap::new() }
    }
}

impl<R: Real> BufferPool<R> {
    /// A `rows x cols` standard-layout matrix whose contents are unspecified
    /// (whatever the recycled buffer held). Callers must overwrite every element.
    pub(crate) fn take(&mut self, (rows, cols): (usize, usize)) -> Array2<R> {
        let len = rows * cols;
        let data = match self.free.get_mut(&len).and_then(Vec::pop) {
            Some(data) => data,
            None => vec![R::zero(); len],
        };
        // Cannot fail: `data` has exactly `rows * cols` elements, both for a
        // recycled buffer (keyed by its length) and for a fresh one.
        Array2::from_shape_vec((rows, cols), data).expect("pool buffers hold exactly rows * cols elements")
    }

    /// A `rows x cols` matrix of zeros.
    pub(crate) fn take_zeroed(&mut self, shape: (usize, usize)) -> Array2<R> {
        let mut out = self.take(shape);
        out.fill(R::zero());
        out
    }

    /// A standard-layout copy of `src`.
    pub(crate) fn take_copy(&mut self, src: ssne_tensor::ndarray::ArrayView2<'_, R>) -> Array2<R> {
        let mut out = self.take(src.dim());
        out.assign(&src);
        out
    }

    /// Keeps the storage of `array` for a later [`take`](Self::take) of the same size.
    /// Arrays that do not own exactly their elements in standard order (slices,
    /// transposes) are dropped instead, since their storage has another length.
    pub(crate) fn put(&mut self, array: Array2<R>) {
        let len = array.len();
        if len == 0 || !array.is_standard_layout() {
            return;
        }
        let (data, offset) = array.into_raw_vec_and_offset();
        if data.len() == len && offset.unwrap_or(0) == 0 {
            self.free.entry(len).or_default().push(data);
        }
    }

    /// Number of buffers currently waiting, for tests.
    #[cfg(test)]
    pub(crate) fn n_free(&self) -> usize {
        self.free.values().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssne_tensor::ndarray::{Array2, s};

    #[test]
    fn a_returned_buffer_is_handed_out_again() {
        let mut pool = BufferPool::<f64>::default();
        let a = pool.take_zeroed((3, 4));
        let ptr = a.as_ptr();
        pool.put(a);
        assert_eq!(pool.n_free(), 1);
        let b = pool.take((4, 3));
        assert_eq!(b.as_ptr(), ptr, "same element count reuses the storage");
        assert_eq!(b.dim(), (4, 3));
        assert_eq!(pool.n_free(), 0);
    }

    #[test]
    fn views_with_foreign_layout_are_not_pooled() {
        let mut pool = BufferPool::<f32>::default();
        pool.put(Array2::<f32>::zeros((4, 4)).slice_move(s![1.., ..]));
        pool.put(Array2::<f32>::zeros((3, 2)).reversed_axes());
        pool.put(Array2::<f32>::zeros((0, 5)));
        assert_eq!(pool.n_free(), 0);
        pool.put(Array2::<f32>::zeros((3, 2)));
        assert_eq!(pool.n_free(), 1);
    }
}
