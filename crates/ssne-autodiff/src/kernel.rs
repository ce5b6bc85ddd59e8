//! The Student-t similarity kernel of the t-SNE losses.

use crate::{AutodiffError, Result};

/// The heavy-tailed similarity `w(d²) = (1 + d²/dof)^(-(dof + 1)/2)` of two
/// embedded points at squared distance `d²`.
///
/// `dof = 1` (the default) is the Cauchy kernel `1 / (1 + d²)` of standard
/// t-SNE and takes a faster path; smaller `dof` gives heavier tails (more
/// separated clusters), larger `dof` approaches a Gaussian.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StudentT {
    /// Degrees of freedom `alpha`; must be finite and positive.
    pub dof: f64,
}

impl Default for StudentT {
    fn default() -> Self {
        Self { dof: 1.0 }
    }
}

impl StudentT {
    /// The kernel weight for a squared distance, by the textbook formula (a
    /// reference for tests and callers; the losses use fused forms).
    ///
    /// # Example
    /// ```
    /// use ssne_autodiff::StudentT;
    /// assert_eq!(StudentT::default().weight(3.0), 0.25);
    /// assert!((StudentT { dof: 2.0 }.weight(2.0) - 2f64.powf(-1.5)).abs() < 1e-15);
    /// ```
    pub fn weight(&self, sq_dist: f64) -> f64 {
        (1.0 + sq_dist / self.dof).powf(-(self.dof + 1.0) / 2.0)
    }

    /// Fails unless `dof` is finite and positive.
    pub(crate) fn check(&self, op: &'static str) -> Result<()> {
        if self.dof.is_finite() && self.dof > 0.0 {
            Ok(())
        } else {
            Err(AutodiffError::InvalidParameter {
                op,
                name: "dof",
                value: self.dof,
                requirement: "finite and positive",
            })
        }
    }
}
