//! Strategies and assertions shared by the unit tests of the ops.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use ssne_tensor::ndarray::Array2;

use crate::check::{self, GradientMismatch, Tolerance};
use crate::{Tape, Var};

/// A `rows x cols` matrix with entries in [-2, 2].
pub(crate) fn matrix(rows: usize, cols: usize) -> impl Strategy<Value = Array2<f64>> {
    proptest::collection::vec(-2.0..2.0f64, rows * cols)
        .prop_map(move |v| Array2::from_shape_vec((rows, cols), v).expect("rows * cols values"))
}

/// Between 1 and `max - 1` pairs `(a, b)` of distinct rows of `m`, as the
/// edge-sampled losses take them.
pub(crate) fn distinct_pairs(m: usize, max: usize) -> impl Strategy<Value = Vec<(u32, u32)>> {
    let m = m as u32;
    proptest::collection::vec((0..m, 1..m).prop_map(move |(h, offset)| (h, (h + offset) % m)), 1..max)
}

/// Like [`matrix`] but with `|x| >= min_abs`: generated away from a kink
/// instead of filtering.
pub(crate) fn matrix_away_from_zero(rows: usize, cols: usize, min_abs: f64) -> impl Strategy<Value = Array2<f64>> {
    proptest::collection::vec((min_abs..2.0f64, any::<bool>()), rows * cols).prop_map(move |v| {
        let v = v
            .into_iter()
            .map(|(m, negative)| if negative { -m } else { m })
            .collect();
        Array2::from_shape_vec((rows, cols), v).expect("rows * cols values")
    })
}

/// Tighter than PyTorch's defaults: the element-wise ops are smooth at the
/// scale of the step, so central differences are accurate to ~1e-9 here.
pub(crate) const TIGHT: Tolerance = Tolerance {
    atol: 1e-7,
    rtol: 1e-5,
    step: 1e-6,
};

/// Turns a failed check into a proptest failure with its message.
pub(crate) fn to_case(result: Result<(), GradientMismatch>) -> Result<(), TestCaseError> {
    result.map_err(|e| TestCaseError::fail(e.to_string()))
}

/// The full Jacobian of `f` at `x` agrees with central differences ([`TIGHT`]).
pub(crate) fn assert_jacobian(
    f: impl Fn(&mut Tape<f64>, Var) -> crate::Result<Var>,
    x: &Array2<f64>,
) -> Result<(), TestCaseError> {
    to_case(check::jacobian(f, x, TIGHT))
}

/// A seeded matrix with entries uniform in `[-scale, scale)`.
pub(crate) fn seeded(rows: usize, cols: usize, scale: f64, seed: u64) -> Array2<f64> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_simple_fn((rows, cols), || rng.random_range(-scale..scale))
}
