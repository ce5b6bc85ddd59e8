//! Directional saliency between clusters: what moves a point of group `a`
//! toward group `b` in the map.

use ssne_tensor::ndarray::{Array1, Array2, ArrayView2, Axis};

use crate::Result;
use crate::attribution::Attribution;
use crate::ensemble::Ensemble;
use crate::groups::{Centre, Groups, centre};
use crate::networks::Networks;
use crate::target::{Target, column_means, unit_rows};

/// A directional map from one group to another, with the centres it was
/// computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectionalMap {
    /// The source group: the map is evaluated at its input-space centre.
    pub from: Centre,
    /// The destination group.
    pub to: Centre,
    /// The unit direction `v` from `from`'s centre in the map to `to`'s.
    pub direction: Array1<f32>,
    /// The map, `[features]`: for the gradient method, `vᵀ ∂Y/∂x` at `from.input`.
    pub map: Array1<f32>,
}

/// Directional saliency from group `from` to group `to`: `method`'s map of
/// `v · Y` at `from`'s input-space centre, with `v` the unit direction from
/// `from`'s centre in the map to `to`'s. With [`Gradient`](crate::Gradient)
/// this is `vᵀ (∂Y/∂X)`, one vector-Jacobian product.
///
/// Positive pixels are those whose increase moves the point toward `to`.
///
/// # Errors
/// [`SaliencyError::UnknownGroup`](crate::SaliencyError::UnknownGroup),
/// [`SaliencyError::EmptyGroup`](crate::SaliencyError::EmptyGroup),
/// [`SaliencyError::FeatureCount`](crate::SaliencyError::FeatureCount), or the
/// method's errors.
///
/// # Example
/// ```
/// use rand::SeedableRng;
/// use ssne_model::{Network, NetworkSpec};
/// use ssne_saliency::{Gradient, Groups, Networks, directional};
/// use ssne_tensor::ndarray::Array2;
///
/// let net = Network::init(NetworkSpec::paper(4, 2), &mut rand_chacha::ChaCha8Rng::seed_from_u64(3))?;
/// let data = Array2::from_shape_fn((6, 4), |(i, j)| ((i * 4 + j) % 5) as f32 / 4.0);
/// let groups = Groups::from_labels(&[0, 0, 0, 1, 1, 1]);
/// let out = directional(Networks::new(&net), data.view(), &groups, "0", "1", &Gradient)?;
/// assert_eq!(out.map.len(), 4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn directional<A: Attribution>(
    networks: Networks<'_>,
    data: ArrayView2<'_, f32>,
    groups: &Groups,
    from: &str,
    to: &str,
    method: &A,
) -> Result<DirectionalMap> {
    let from = centre(networks.map, data, groups, from)?;
    let to = centre(networks.map, data, groups, to)?;
    let diff = (&to.embedding - &from.embedding).insert_axis(Axis(0));
    let direction = unit_rows(diff);
    let x = from.input.view().insert_axis(Axis(0));
    let map = method.attribute(networks, x, &Target::Direction(direction.clone()))?;
    Ok(DirectionalMap {
        from,
        to,
        direction: direction.row(0).to_owned(),
        map: map.row(0).to_owned(),
    })
}

/// A directional map averaged over an ensemble.
#[derive(Debug, Clone, PartialEq)]
pub struct EnsembleDirectionalMap {
    /// Name of the source group.
    pub from: String,
    /// Name of the destination group.
    pub to: String,
    /// Input-space centre of the source group (where every member's map is evaluated).
    pub from_input: Array1<f32>,
    /// Input-space centre of the destination group.
    pub to_input: Array1<f32>,
    /// Mean map over the members, `[features]`.
    pub mean: Array1<f32>,
    /// Share of members agreeing with the sign of the mean, per pixel.
    pub agreement: Array1<f32>,
    /// Number of members.
    pub n_models: usize,
}

/// [`directional`] for every member of `ensemble`, each with the direction
/// between the two groups' centres in its own map, averaged.
///
/// # Errors
/// As [`directional`].
pub fn directional_ensemble<A: Attribution>(
    ensemble: &Ensemble<'_>,
    data: ArrayView2<'_, f32>,
    groups: &Groups,
    from: &str,
    to: &str,
    method: &A,
) -> Result<EnsembleDirectionalMap> {
    let from_points = groups.points(data, from)?;
    let to_points = groups.points(data, to)?;
    let from_input = column_means(from_points.view());
    let to_input = column_means(to_points.view());
    let x: Array2<f32> = from_input.view().insert_axis(Axis(0)).to_owned();
    let target = Target::BetweenGroups {
        from: from_points,
        to: to_points,
    };
    let maps = ensemble.attribute(method, x.view(), &target)?;
    Ok(EnsembleDirectionalMap {
        from: from.to_owned(),
        to: to.to_owned(),
        from_input,
        to_input,
        mean: maps.mean.row(0).to_owned(),
        agreement: maps.agreement.row(0).to_owned(),
        n_models: maps.n_models,
    })
}
