//! What a map explains: a class score, or the map's movement along a direction.

use std::ops::Range;

use ssne_model::Network;
use ssne_tensor::ndarray::{Array1, Array2, ArrayView2, Axis, s};

use crate::networks::{Networks, check_features};
use crate::vjp::{Output, embed, forward_outputs};
use crate::{Result, SaliencyError};

/// The scalar output a saliency map attributes, per point.
///
/// `Class` targets differentiate the pretrained classifier's score (the logit,
/// before the softmax, as in Simonyan et al.); every other target
/// differentiates `v · Y`, the fine-tuned map `Y` projected on a 2-D direction
/// `v`. Directions given as points or groups are worked out by each model from
/// its own map ([`Target::resolve`]), so the same target can be handed to
/// every member of an [`Ensemble`](crate::Ensemble).
///
/// Per-row variants take either one row (shared by every point) or one row per
/// point.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Target {
    /// The score of this class, for every point.
    Class(u32),
    /// One class per point (or one shared class in a 1-element vector).
    Classes(Vec<u32>),
    /// `v · Y` with `v` used exactly as given (not normalised), `[1, dim]`
    /// shared or `[n, dim]` per point.
    Direction(Array2<f32>),
    /// Toward points given in input space, `[1, features]` shared or
    /// `[n, features]` per point: `v_i` is the unit vector from point `i`'s
    /// position in the map to the target's.
    TowardPoints(Array2<f32>),
    /// Toward a group's centre in the map (the mean position of its points,
    /// given in input space as `[m, features]`): `v_i` is the unit vector from
    /// point `i`'s position to that centre.
    TowardGroup(Array2<f32>),
    /// From one group's centre in the map to another's (both given as their
    /// points in input space): one unit `v` shared by every point. This is
    /// the direction of *directional saliency* from cluster `from` to `to`.
    BetweenGroups {
        /// Points of the source group, `[m, features]`.
        from: Array2<f32>,
        /// Points of the destination group, `[k, features]`.
        to: Array2<f32>,
    },
}

impl Target {
    /// A direction shared by every point, used as given.
    pub fn direction(v: &[f32]) -> Target {
        Target::Direction(Array2::from_shape_fn((1, v.len()), |(_, j)| v[j]))
    }

    /// A direction shared by every point, scaled to unit length (a zero
    /// vector stays zero).
    pub fn unit_direction(v: &[f32]) -> Target {
        Target::Direction(unit_rows(Array2::from_shape_fn((1, v.len()), |(_, j)| v[j])))
    }

    /// Whether the target is already explicit (a class or a direction), so
    /// that it means the same for every model.
    pub fn is_fixed(&self) -> bool {
        matches!(self, Target::Class(_) | Target::Classes(_) | Target::Direction(_))
    }

    /// The explicit form of this target for `networks` and the points `x`:
    /// classes are returned as they are; points and groups become unit
    /// directions in this model's map (from each row of `x`).
    ///
    /// A direction is fixed once, at the points being explained, so that
    /// wrappers that perturb the input ([`SmoothGrad`](crate::SmoothGrad)) or
    /// walk a path ([`IntegratedGradients`](crate::IntegratedGradients)) keep
    /// explaining the same scalar.
    ///
    /// # Errors
    /// [`SaliencyError::FeatureCount`] for points of the wrong width,
    /// [`SaliencyError::TargetRows`] for per-row targets of the wrong length,
    /// [`SaliencyError::EmptyGroup`] for a group without points.
    pub fn resolve(&self, networks: Networks<'_>, x: ArrayView2<'_, f32>) -> Result<Target> {
        let n_points = x.nrows();
        Ok(match self {
            Target::Class(_) | Target::Classes(_) | Target::Direction(_) => self.clone(),
            Target::TowardPoints(points) => {
                check_rows("the target points", points.nrows(), n_points)?;
                networks.check_features(points.ncols())?;
                let from = embed_checked(networks.map, x)?;
                let to = embed(networks.map, points.view())?;
                let diff = Array2::from_shape_fn(from.raw_dim(), |(i, j)| {
                    let t = if to.nrows() == 1 { 0 } else { i };
                    to[[t, j]] - from[[i, j]]
                });
                Target::Direction(unit_rows(diff))
            }
            Target::TowardGroup(points) => {
                let centre = embedding_centre(networks.map, points.view(), "the target group")?;
                let from = embed_checked(networks.map, x)?;
                let diff = Array2::from_shape_fn(from.raw_dim(), |(i, j)| centre[j] - from[[i, j]]);
                Target::Direction(unit_rows(diff))
            }
            Target::BetweenGroups { from, to } => {
                networks.check_features(x.ncols())?;
                let from = embedding_centre(networks.map, from.view(), "the source group")?;
                let to = embedding_centre(networks.map, to.view(), "the destination group")?;
                let diff = Array2::from_shape_fn((1, from.len()), |(_, j)| to[j] - from[j]);
                Target::Direction(unit_rows(diff))
            }
        })
    }

    /// The scalar each point's map attributes, per row of `x`: the class
    /// score, or `v · Y(x)`. Integrated gradients distribute its change.
    ///
    /// # Errors
    /// As [`Target::resolve`], plus [`SaliencyError::NoClassifier`] and
    /// [`SaliencyError::ClassOutOfRange`] for class targets.
    pub fn score(&self, networks: Networks<'_>, x: ArrayView2<'_, f32>) -> Result<Array1<f64>> {
        let plan = Plan::new(self, networks, x)?;
        plan.score(x)
    }

    /// Rows `rows` of a per-row target (shared targets are returned as they are).
    pub(crate) fn select(&self, rows: Range<usize>) -> Target {
        match self {
            Target::Classes(classes) if classes.len() > 1 => Target::Classes(classes[rows].to_vec()),
            Target::Direction(v) if v.nrows() > 1 => Target::Direction(v.slice(s![rows, ..]).to_owned()),
            Target::TowardPoints(p) if p.nrows() > 1 => Target::TowardPoints(p.slice(s![rows, ..]).to_owned()),
            _ => self.clone(),
        }
    }

    /// Each row of a per-row target repeated `times` times in a row, to match
    /// a batch in which every point was repeated the same way.
    pub(crate) fn repeat_each(&self, times: usize) -> Target {
        match self {
            Target::Classes(classes) if classes.len() > 1 => {
                Target::Classes(classes.iter().flat_map(|&c| std::iter::repeat_n(c, times)).collect())
            }
            Target::Direction(v) if v.nrows() > 1 => Target::Direction(repeat_rows(v.view(), times)),
            Target::TowardPoints(p) if p.nrows() > 1 => Target::TowardPoints(repeat_rows(p.view(), times)),
            _ => self.clone(),
        }
    }
}

/// A target made explicit for one model and one batch: the network to
/// differentiate, its output, and how to seed each row.
#[derive(Debug)]
pub(crate) struct Plan<'a> {
    pub(crate) network: &'a Network,
    pub(crate) output: Output,
    target: Target,
    n_points: usize,
}

impl<'a> Plan<'a> {
    /// Resolves `target` at the points `x` and checks it against the network.
    pub(crate) fn new(target: &Target, networks: Networks<'a>, x: ArrayView2<'_, f32>) -> Result<Self> {
        let n_points = x.nrows();
        let target = target.resolve(networks, x)?;
        let (network, output) = match &target {
            Target::Class(class) => {
                let classifier = networks.require_classifier()?;
                check_class(*class, classifier)?;
                (classifier, Output::Logits)
            }
            Target::Classes(classes) => {
                let classifier = networks.require_classifier()?;
                check_rows("the class list", classes.len(), n_points)?;
                for &class in classes {
                    check_class(class, classifier)?;
                }
                (classifier, Output::Logits)
            }
            Target::Direction(v) => {
                check_rows("the direction", v.nrows(), n_points)?;
                let dim = networks.embedding_dim();
                if v.ncols() != dim {
                    return Err(SaliencyError::DirectionWidth {
                        expected: dim,
                        found: v.ncols(),
                    });
                }
                (networks.map, Output::Embedding)
            }
            // `resolve` returns only the three explicit forms.
            Target::TowardPoints(_) | Target::TowardGroup(_) | Target::BetweenGroups { .. } => {
                unreachable!("Target::resolve returns an explicit target")
            }
        };
        check_features(network, x.ncols())?;
        Ok(Plan {
            network,
            output,
            target,
            n_points,
        })
    }

    /// The VJP seed of the points `rows`: a one-hot class row or the direction.
    pub(crate) fn seed(&self, rows: Range<usize>) -> Array2<f32> {
        let width = self.output.width(self.network);
        let n_rows = rows.len();
        match &self.target {
            Target::Class(class) => one_hot(n_rows, width, |_| *class),
            Target::Classes(classes) if classes.len() == 1 => one_hot(n_rows, width, |_| classes[0]),
            Target::Classes(classes) => one_hot(n_rows, width, |i| classes[rows.start + i]),
            Target::Direction(v) if v.nrows() == 1 => Array2::from_shape_fn((n_rows, width), |(_, j)| v[[0, j]]),
            Target::Direction(v) => v.slice(s![rows, ..]).to_owned(),
            Target::TowardPoints(_) | Target::TowardGroup(_) | Target::BetweenGroups { .. } => {
                unreachable!("a plan holds an explicit target")
            }
        }
    }

    /// `seed_i · output(x_i)` per row, accumulated in `f64`.
    pub(crate) fn score(&self, x: ArrayView2<'_, f32>) -> Result<Array1<f64>> {
        debug_assert_eq!(x.nrows(), self.n_points);
        let (logits, embedding) = forward_outputs(self.network, x)?;
        let out = match self.output {
            Output::Logits => logits,
            Output::Embedding => embedding,
        };
        let seed = self.seed(0..x.nrows());
        Ok(out
            .axis_iter(Axis(0))
            .zip(seed.axis_iter(Axis(0)))
            .map(|(o, s)| o.iter().zip(s).map(|(&o, &s)| f64::from(o) * f64::from(s)).sum())
            .collect())
    }
}

fn check_class(class: u32, classifier: &Network) -> Result<()> {
    let n_classes = classifier.spec.n_outputs();
    if (class as usize) < n_classes {
        Ok(())
    } else {
        Err(SaliencyError::ClassOutOfRange { class, n_classes })
    }
}

fn check_rows(what: &'static str, found: usize, n_points: usize) -> Result<()> {
    if found == 1 || found == n_points {
        Ok(())
    } else {
        Err(SaliencyError::TargetRows { what, found, n_points })
    }
}

fn one_hot(n_rows: usize, width: usize, class_of: impl Fn(usize) -> u32) -> Array2<f32> {
    let mut seed = Array2::zeros((n_rows, width));
    for (row_idx, mut row) in seed.axis_iter_mut(Axis(0)).enumerate() {
        row[class_of(row_idx) as usize] = 1.0;
    }
    seed
}

fn embed_checked(map: &Network, x: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
    check_features(map, x.ncols())?;
    embed(map, x)
}

/// Mean position in the map of `points`, accumulated in `f64`.
pub(crate) fn embedding_centre(map: &Network, points: ArrayView2<'_, f32>, name: &str) -> Result<Array1<f32>> {
    if points.nrows() == 0 {
        return Err(SaliencyError::EmptyGroup { name: name.to_owned() });
    }
    let embedded = embed_checked(map, points)?;
    Ok(column_means(embedded.view()))
}

/// Column means in `f64`, rounded once to `f32`.
pub(crate) fn column_means(x: ArrayView2<'_, f32>) -> Array1<f32> {
    let mut sums = vec![0.0_f64; x.ncols()];
    for row in x.axis_iter(Axis(0)) {
        for (sum, &v) in sums.iter_mut().zip(row) {
            *sum += f64::from(v);
        }
    }
    let n = x.nrows().max(1) as f64;
    sums.into_iter().map(|s| (s / n) as f32).collect()
}

/// Every row scaled to unit Euclidean length; zero rows stay zero (a point at
/// its own target has no direction to move in).
pub(crate) fn unit_rows(mut v: Array2<f32>) -> Array2<f32> {
    for mut row in v.axis_iter_mut(Axis(0)) {
        let norm = row.iter().map(|&c| f64::from(c) * f64::from(c)).sum::<f64>().sqrt();
        if norm > 0.0 {
            row.mapv_inplace(|c| (f64::from(c) / norm) as f32);
        }
    }
    v
}

/// Row `i` of `x` repeated `times` times, for `i` in order.
pub(crate) fn repeat_rows(x: ArrayView2<'_, f32>, times: usize) -> Array2<f32> {
    Array2::from_shape_fn((x.nrows() * times, x.ncols()), |(r, j)| x[[r / times, j]])
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssne_tensor::ndarray::array;

    #[test]
    fn unit_rows_normalises_and_keeps_zero_rows() {
        let v = unit_rows(array![[3.0, 4.0], [0.0, 0.0]]);
        assert_eq!(v, array![[0.6, 0.8], [0.0, 0.0]]);
    }

    #[test]
    fn repeat_each_and_select_follow_the_rows() {
        let t = Target::Classes(vec![1, 2]);
        assert_eq!(t.repeat_each(2), Target::Classes(vec![1, 1, 2, 2]));
        assert_eq!(t.select(1..2), Target::Classes(vec![2]));
        let shared = Target::direction(&[1.0, 0.0]);
        assert_eq!(shared.repeat_each(3), shared);
        let per_row = Target::Direction(array![[1.0, 0.0], [0.0, 1.0]]);
        assert_eq!(
            per_row.repeat_each(2),
            Target::Direction(array![[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
        );
        assert_eq!(per_row.select(1..2), Target::Direction(array![[0.0, 1.0]]));
    }

    #[test]
    fn one_hot_puts_one_in_the_class_column() {
        assert_eq!(
            one_hot(2, 3, |i| i as u32 + 1),
            array![[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
        );
    }

    #[test]
    fn unit_direction_normalises() {
        assert_eq!(
            Target::unit_direction(&[0.0, -2.0]),
            Target::Direction(array![[0.0, -1.0]])
        );
        assert!(Target::Class(3).is_fixed());
        assert!(!Target::TowardGroup(array![[0.0]]).is_fixed());
    }
}
