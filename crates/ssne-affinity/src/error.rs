//! The error type of `ssne-affinity`: what was wrong with the input and what would be valid.

/// Everything that can make an affinity computation refuse its input.
///
/// Rows whose perplexity search does not converge are *not* errors: they are
/// listed in the `unconverged` field of each result, so a caller can decide
/// whether to warn, retry with other options or carry on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AffinityError {
    /// A parameter of the approximate kNN search is out of range.
    #[error("kNN parameter {name} = {value} is invalid; it must be {rule}")]
    InvalidKnnParameter {
        /// The parameter's name.
        name: &'static str,
        /// The value given.
        value: String,
        /// What would be valid.
        rule: &'static str,
    },

    /// A neighbour list given to [`joint_knn_from`](crate::joint_knn_from) names an impossible neighbour.
    #[error("neighbour {neighbour} of point {row} {problem}; each row must list distinct other points")]
    InvalidNeighbour {
        /// The row (point) whose list is wrong.
        row: usize,
        /// The neighbour index found.
        neighbour: u32,
        /// What is wrong with it.
        problem: &'static str,
    },

    /// The input has no points or no features.
    #[error(
        "the input is empty ({n_points} points x {n_features} features); \
         affinities need at least 2 points with at least 1 feature"
    )]
    Empty {
        /// Number of rows (points) given.
        n_points: usize,
        /// Number of columns (features) given.
        n_features: usize,
    },

    /// Only one point: there is no other point to be a neighbour of.
    #[error("{n_points} point given; affinities need at least {min} points")]
    TooFewPoints {
        /// Number of points given.
        n_points: usize,
        /// The smallest number of points accepted.
        min: usize,
    },

    /// An input value (a coordinate, or an entry of a distance matrix) is NaN or infinite.
    #[error("entry ({row}, {col}) is {value}; every input value must be finite")]
    NonFinite {
        /// Row of the offending entry.
        row: usize,
        /// Column of the offending entry.
        col: usize,
        /// The value found (NaN or +-inf), widened to `f64`.
        value: f64,
    },

    /// A squared distance given to [`conditional_dense`](crate::conditional_dense)
    /// or [`conditional_knn`](crate::conditional_knn) is negative.
    #[error("squared distance ({row}, {col}) is {value}; squared distances must be >= 0")]
    NegativeDistance {
        /// Row of the offending entry.
        row: usize,
        /// Column of the offending entry.
        col: usize,
        /// The negative value, widened to `f64`.
        value: f64,
    },

    /// A point is so far from the origin that its squared norm (and so its
    /// squared distances) would overflow the element type.
    #[error(
        "point {row} has squared norm {sq_norm:e}, too large for {dtype} distances \
         (4 * |x|^2 must stay below {dtype}::MAX); rescale the data or use f64"
    )]
    Overflow {
        /// Row of the offending point.
        row: usize,
        /// Its squared norm, computed in `f64`.
        sq_norm: f64,
        /// `"f32"` or `"f64"`.
        dtype: &'static str,
    },

    /// The perplexity is zero, negative, NaN or infinite.
    #[error(
        "perplexity must be a finite number > 0, got {value}; \
         typical values are 5 to 50 (and at least 1, the smallest reachable perplexity)"
    )]
    PerplexityNotPositive {
        /// The value given.
        value: f64,
    },

    /// The perplexity exceeds what `n_points` points allow.
    ///
    /// Dense affinities ([`joint_dense`](crate::joint_dense),
    /// [`conditional_dense`](crate::conditional_dense)) accept
    /// `perplexity <= max = n_points - 1` (at the maximum every row is uniform).
    /// [`joint_knn`](crate::joint_knn) needs `perplexity < max = n_points - 1`,
    /// since its neighbour count `k` is at most `n_points - 1`.
    #[error(
        "perplexity {perplexity} is too large for {n_points} points; use a perplexity of at most {max} \
         (n_points - 1) for dense affinities, or below it for k-NN affinities"
    )]
    PerplexityTooLarge {
        /// The perplexity given.
        perplexity: f64,
        /// Number of points.
        n_points: usize,
        /// `n_points - 1`.
        max: f64,
    },

    /// k-NN affinities need fewer effective neighbours (the perplexity) than
    /// stored neighbours (`k`).
    #[error(
        "perplexity {perplexity} needs more than the k = {k} stored neighbours; use a perplexity \
         below {k}, or a larger k (3 * perplexity is customary, at most n_points - 1)"
    )]
    PerplexityNotBelowK {
        /// The perplexity given.
        perplexity: f64,
        /// Number of neighbours per point.
        k: usize,
    },

    /// A neighbour count of zero.
    #[error("k = 0 neighbours requested; use 1 <= k <= {max}")]
    KZero {
        /// The largest `k` the input allows.
        max: usize,
    },

    /// More neighbours requested than there are candidate points.
    #[error("k = {k} neighbours requested but only {max} candidates exist; use 1 <= k <= {max}")]
    KTooLarge {
        /// The `k` given.
        k: usize,
        /// The largest valid `k`: `n_points - 1` for [`knn`](crate::knn), the
        /// number of reference points for [`knn_between`](crate::knn_between).
        max: usize,
    },

    /// A distance matrix given to [`conditional_dense`](crate::conditional_dense) is not square.
    #[error("the squared-distance matrix is {rows} x {cols}; it must be square (n_points x n_points)")]
    NotSquare {
        /// Rows given.
        rows: usize,
        /// Columns given.
        cols: usize,
    },

    /// Queries and reference points of [`knn_between`](crate::knn_between)
    /// have different numbers of features.
    #[error("queries have {queries} features but the reference points have {reference}; they must match")]
    FeatureMismatch {
        /// Features (columns) of the queries.
        queries: usize,
        /// Features (columns) of the reference points.
        reference: usize,
    },

    /// Two arrays that must have the same shape do not (e.g. the `indices` and
    /// `sq_dists` of a [`Knn`](crate::Knn)).
    #[error("{what}: shapes {left:?} and {right:?} differ; they must be equal")]
    ShapeMismatch {
        /// Which arrays disagree.
        what: &'static str,
        /// Shape of the first.
        left: [usize; 2],
        /// Shape of the second.
        right: [usize; 2],
    },

    /// The search tolerance is not a finite number > 0.
    #[error("tolerance_nats must be a finite number > 0, got {value} (the default is 1e-5)")]
    InvalidTolerance {
        /// The value given.
        value: f64,
    },

    /// A point index outside `0..n_points` (e.g. in [`SparseP::submatrix`](crate::SparseP::submatrix)).
    #[error("point index {point} is out of range; valid indices are 0..{n_points}")]
    PointOutOfRange {
        /// The index given.
        point: usize,
        /// Number of points.
        n_points: usize,
    },

    /// More points than a `u32` neighbour index can name.
    #[error("{n_points} points exceed the k-NN index limit of {max} (indices are u32)")]
    TooManyPoints {
        /// Number of points given.
        n_points: usize,
        /// The largest supported number of points.
        max: usize,
    },
}
