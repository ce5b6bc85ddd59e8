//! Where to cut a data set in two: a row count or a fraction.

/// Where [`Dataset::split`](crate::Dataset::split) cuts: the first part gets this many rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Split {
    /// Exactly this many rows in the first part; must be at most `n_points`.
    Count(usize),
    /// This fraction of the rows (in `[0, 1]`) in the first part, rounded to the nearest row.
    Fraction(f64),
}

impl Split {
    /// The number of rows of the first part for a data set of `n_points` rows, or `None` when the
    /// split does not fit (a count past the end, a fraction outside `[0, 1]` or NaN).
    pub(crate) fn first_len(self, n_points: usize) -> Option<usize> {
        match self {
            Split::Count(n_first) => (n_first <= n_points).then_some(n_first),
            Split::Fraction(fraction) => {
                if !(0.0..=1.0).contains(&fraction) {
                    return None;
                }
                // In range by the check above, so the cast cannot saturate beyond n_points.
                let n_first = (fraction * n_points as f64).round() as usize;
                Some(n_first.min(n_points))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Split;

    #[test]
    fn counts_and_fractions_map_to_rows() {
        assert_eq!(Split::Count(3).first_len(10), Some(3));
        assert_eq!(Split::Count(10).first_len(10), Some(10));
        assert_eq!(Split::Count(11).first_len(10), None);
        assert_eq!(Split::Fraction(0.8).first_len(10_000), Some(8_000));
        assert_eq!(Split::Fraction(0.25).first_len(10), Some(3));
        assert_eq!(Split::Fraction(1.0).first_len(7), Some(7));
        assert_eq!(Split::Fraction(0.0).first_len(7), Some(0));
        assert_eq!(Split::Fraction(1.5).first_len(7), None);
        assert_eq!(Split::Fraction(-0.1).first_len(7), None);
        assert_eq!(Split::Fraction(f64::NAN).first_len(7), None);
    }
}
