//! Ensembles: the mean map over independently trained models, with a
//! per-pixel agreement score.

use ssne_model::ParametricTsne;
use ssne_tensor::ndarray::{Array2, ArrayView2, Zip};

use crate::attribution::Attribution;
use crate::networks::Networks;
use crate::target::Target;
use crate::{Result, SaliencyError};

/// Several models of the same data (e.g. trained with different seeds).
///
/// Their maps differ in the details each seed happens to learn and agree on
/// what the data forces; the mean keeps the second. Each member works out a
/// target given as points or groups in its own map (the maps of two seeds are
/// rotated and reflected copies of each other), so one [`Target`] serves all.
#[derive(Debug, Clone)]
pub struct Ensemble<'a> {
    members: Vec<Networks<'a>>,
}

/// The mean map of an ensemble and how far its members agree.
#[derive(Debug, Clone, PartialEq)]
pub struct EnsembleMaps {
    /// Mean over the members, `[n, features]`.
    pub mean: Array2<f32>,
    /// Per pixel, the share of members whose map has the sign of the mean
    /// (`-1`, `0` or `+1`), in `[0, 1]`.
    pub agreement: Array2<f32>,
    /// Number of members.
    pub n_models: usize,
}

impl<'a> Ensemble<'a> {
    /// An ensemble of these models.
    ///
    /// # Errors
    /// [`SaliencyError::EmptyEnsemble`] for no members,
    /// [`SaliencyError::FeatureCount`] when the members' inputs differ in width.
    pub fn new(members: Vec<Networks<'a>>) -> Result<Self> {
        let first = members.first().ok_or(SaliencyError::EmptyEnsemble)?;
        let expected = first.n_features();
        for member in &members {
            if member.n_features() != expected {
                return Err(SaliencyError::FeatureCount {
                    expected,
                    found: member.n_features(),
                });
            }
        }
        Ok(Ensemble { members })
    }

    /// An ensemble of trained models.
    ///
    /// # Errors
    /// As [`Ensemble::new`].
    pub fn from_models(models: &'a [ParametricTsne]) -> Result<Self> {
        Self::new(models.iter().map(Networks::from).collect())
    }

    /// The members.
    pub fn members(&self) -> &[Networks<'a>] {
        &self.members
    }

    /// Every member's maps of `x` by `method`, the mean (accumulated in `f64`)
    /// and the per-pixel agreement with its sign.
    ///
    /// # Errors
    /// The first member's error, as [`Attribution::attribute`].
    pub fn attribute<A: Attribution>(
        &self,
        method: &A,
        x: ArrayView2<'_, f32>,
        target: &Target,
    ) -> Result<EnsembleMaps> {
        let maps = self
            .members
            .iter()
            .map(|&m| method.attribute(m, x, target))
            .collect::<Result<Vec<_>>>()?;
        Ok(combine(&maps, x.raw_dim()))
    }
}

/// Mean and sign agreement of equally shaped maps.
pub(crate) fn combine(maps: &[Array2<f32>], dim: ssne_tensor::ndarray::Ix2) -> EnsembleMaps {
    let n_models = maps.len();
    let mut sums = Array2::<f64>::zeros(dim);
    for map in maps {
        Zip::from(&mut sums).and(map).for_each(|s, &m| *s += f64::from(m));
    }
    let mean = sums.mapv(|s| (s / n_models.max(1) as f64) as f32);
    let mut agree = Array2::<u32>::zeros(dim);
    for map in maps {
        Zip::from(&mut agree).and(map).and(&mean).for_each(|a, &m, &mean| {
            if sign(m) == sign(mean) {
                *a += 1;
            }
        });
    }
    let agreement = agree.mapv(|a| a as f32 / n_models.max(1) as f32);
    EnsembleMaps {
        mean,
        agreement,
        n_models,
    }
}

fn sign(v: f32) -> i8 {
    if v > 0.0 {
        1
    } else if v < 0.0 {
        -1
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssne_tensor::ndarray::array;

    #[test]
    fn agreement_counts_members_with_the_sign_of_the_mean() {
        let maps = vec![
            array![[1.0_f32, -1.0, 0.0]],
            array![[2.0, 1.0, 0.0]],
            array![[-0.5, -3.0, 0.0]],
        ];
        let out = combine(&maps, ssne_tensor::ndarray::Ix2(1, 3));
        assert_eq!(out.mean, array![[2.5 / 3.0, -1.0, 0.0]]);
        assert_eq!(out.agreement, array![[2.0 / 3.0, 2.0 / 3.0, 1.0]]);
        assert_eq!(out.n_models, 3);
    }

    #[test]
    fn empty_ensemble_is_an_error() {
        assert!(matches!(Ensemble::new(Vec::new()), Err(SaliencyError::EmptyEnsemble)));
    }
}
