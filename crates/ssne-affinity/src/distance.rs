//! The squared-distance formula both neighbour searches use, `|a|^2 + |b|^2 - 2 a.b`
//! clamped at 0, and the dot product of one pair of rows for the approximate search
//! (the exact search takes its products from GEMM).

use ssne_tensor::Real;

/// Independent partial sums of [`dot`]: they let the compiler vectorise the
/// products (eight `f32` lanes are one AVX register), and their fixed order of
/// combination keeps the result the same on every thread count.
const LANES: usize = 8;

/// The squared distance from `product = -2 a.b` and the squared norms of `a` and `b`,
/// clamped at 0 against rounding: the value [`ssne_tensor::sq_dists_between`] forms.
#[inline(always)]
pub(crate) fn from_product<R: Real>(product: R, norm_a: R, norm_b: R) -> R {
    clamped(product + norm_a + norm_b)
}

/// `max(v, 0)` for a non-NaN `v` (inputs are validated finite), written as a
/// select so that loops over groups of candidates vectorise.
#[inline(always)]
fn clamped<R: Real>(v: R) -> R {
    if v < R::zero() { R::zero() } else { v }
}

/// `a.b` accumulated in `R` over [`LANES`] interleaved partial sums (as GEMM
/// accumulates in `R`), combined pairwise, then the tail.
#[inline(always)]
pub(crate) fn dot<R: Real>(a: &[R], b: &[R]) -> R {
    debug_assert_eq!(a.len(), b.len());
    let (a_groups, a_rest) = a.as_chunks::<LANES>();
    let (b_groups, b_rest) = b.as_chunks::<LANES>();
    let mut acc = [R::zero(); LANES];
    for (p, q) in a_groups.iter().zip(b_groups) {
        for l in 0..LANES {
            acc[l] += p[l] * q[l];
        }
    }
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for l in 0..width {
            acc[l] += acc[l + width];
        }
    }
    let mut sum = acc[0];
    for (&p, &q) in a_rest.iter().zip(b_rest) {
        sum += p * q;
    }
    sum
}

/// Squared distances between rows of one contiguous row-major matrix, from
/// precomputed squared norms.
pub(crate) struct Rows<'a, R> {
    data: &'a [R],
    dim: usize,
    norms: &'a [R],
}

impl<'a, R: Real> Rows<'a, R> {
    /// `data` holds `norms.len()` rows of `dim` values each.
    pub(crate) fn new(data: &'a [R], dim: usize, norms: &'a [R]) -> Self {
        debug_assert_eq!(data.len(), dim * norms.len());
        Self { data, dim, norms }
    }

    /// Values per row.
    pub(crate) fn dim(&self) -> usize {
        self.dim
    }

    /// The squared norm of row `i`.
    #[inline(always)]
    pub(crate) fn norm(&self, i: usize) -> R {
        self.norms[i]
    }

    /// Row `i`.
    #[inline(always)]
    pub(crate) fn row(&self, i: usize) -> &'a [R] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// The squared distance of rows `a` and `b`, the same value for `(a, b)` and `(b, a)`
    /// (the smaller index is taken first, so the sum is formed in one order).
    #[inline(always)]
    pub(crate) fn sq_dist(&self, a: usize, b: usize) -> R {
        let (a, b) = if a <= b { (a, b) } else { (b, a) };
        from_product(
            R::from_f64(-2.0) * dot(self.row(a), self.row(b)),
            self.norms[a],
            self.norms[b],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_a_plain_sum_on_exact_values() {
        // Small integers: every partial sum is exact, whatever the grouping.
        for len in [0, 1, 7, 8, 9, 50, 64] {
            let a: Vec<f32> = (0..len).map(|i| (i % 5) as f32 - 2.0).collect();
            let b: Vec<f32> = (0..len).map(|i| (i % 3) as f32).collect();
            let plain: f32 = a.iter().zip(&b).map(|(p, q)| p * q).sum();
            assert_eq!(dot(&a, &b), plain, "len {len}");
        }
    }

    #[test]
    fn sq_dist_is_symmetric_and_zero_for_duplicates() {
        let data = [1.0_f32, 2.0, 3.0, 1.0, 2.0, 3.0, 0.5, -1.0, 4.0];
        let norms = [14.0_f32, 14.0, 17.25];
        let rows = Rows::new(&data, 3, &norms);
        assert_eq!(rows.sq_dist(0, 1), 0.0);
        assert_eq!(rows.sq_dist(0, 2), rows.sq_dist(2, 0));
        assert_eq!(rows.sq_dist(0, 2), 0.25 + 9.0 + 1.0);
    }
}
