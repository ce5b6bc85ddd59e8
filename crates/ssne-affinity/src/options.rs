//! The validated perplexity and the knobs of the per-row search.

use crate::AffinityError;

/// A perplexity: the effective number of neighbours each point should have.
///
/// Validated on construction (finite and `> 0`), so every function taking a
/// `Perplexity` only has to check it against the number of points. Values
/// below 1 are accepted but can never be reached (the perplexity of any
/// distribution is at least 1); rows searched for them are reported as
/// unconverged.
///
/// # Example
/// ```
/// use ssne_affinity::{AffinityError, Perplexity};
/// assert_eq!(Perplexity::new(30.0)?.get(), 30.0);
/// assert!(matches!(Perplexity::new(f64::NAN), Err(AffinityError::PerplexityNotPositive { .. })));
/// # Ok::<(), AffinityError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Perplexity(f64);

impl Perplexity {
    /// Wraps `value` after checking that it is finite and positive.
    ///
    /// # Errors
    /// [`AffinityError::PerplexityNotPositive`] for zero, negative, NaN or infinite values.
    pub fn new(value: f64) -> Result<Self, AffinityError> {
        if value.is_finite() && value > 0.0 {
            Ok(Self(value))
        } else {
            Err(AffinityError::PerplexityNotPositive { value })
        }
    }

    /// The perplexity as a number.
    pub fn get(self) -> f64 {
        self.0
    }

    /// The entropy (natural log) a row must reach: `ln(perplexity)`.
    pub fn target_entropy(self) -> f64 {
        self.0.ln()
    }
}

/// Stopping rules of the per-row search for `beta`.
///
/// A row is converged when `|H(P_i) - ln(perplexity)| < tolerance_nats`
/// (entropy in nats). Rows that are still off after `max_steps` entropy
/// evaluations are returned as they are and listed in `unconverged`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SearchOptions {
    /// Largest accepted `|H(P_i) - ln(perplexity)|`, in nats. Must be finite and `> 0`.
    pub tolerance_nats: f64,
    /// Largest number of entropy evaluations (each one exp per neighbour) per row.
    pub max_steps: usize,
}

impl Default for SearchOptions {
    /// `tolerance_nats = 1e-5`, `max_steps = 200`.
    fn default() -> Self {
        Self {
            tolerance_nats: 1e-5,
            max_steps: 200,
        }
    }
}

impl SearchOptions {
    /// Checks the tolerance.
    ///
    /// # Errors
    /// [`AffinityError::InvalidTolerance`] when `tolerance_nats` is not finite and `> 0`.
    pub fn validate(&self) -> Result<(), AffinityError> {
        if self.tolerance_nats.is_finite() && self.tolerance_nats > 0.0 {
            Ok(())
        } else {
            Err(AffinityError::InvalidTolerance {
                value: self.tolerance_nats,
            })
        }
    }
}

/// `sigma_i = 1 / sqrt(2 beta_i)` for every `beta_i` (`inf` for `beta = 0`, `0` for `beta = inf`).
pub(crate) fn sigmas(beta: &[f64]) -> Vec<f64> {
    beta.iter().map(|&b| (0.5 / b).sqrt()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perplexity_rejects_non_positive_and_non_finite() {
        for value in [0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(matches!(
                Perplexity::new(value),
                Err(AffinityError::PerplexityNotPositive { .. })
            ));
        }
        assert_eq!(Perplexity::new(0.5).map(Perplexity::get), Ok(0.5));
    }

    #[test]
    fn options_validate_tolerance() {
        assert_eq!(SearchOptions::default().validate(), Ok(()));
        for value in [0.0, -1e-5, f64::NAN, f64::INFINITY] {
            let opts = SearchOptions {
                tolerance_nats: value,
                max_steps: 10,
            };
            assert!(matches!(opts.validate(), Err(AffinityError::InvalidTolerance { .. })));
        }
    }

    #[test]
    fn sigma_of_extreme_betas() {
        assert_eq!(sigmas(&[0.5, 0.0, f64::INFINITY]), vec![1.0, f64::INFINITY, 0.0]);
    }
}
