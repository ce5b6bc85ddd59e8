//! Named groups of points (classes or user-given sets) and their centres in
//! input space and in the map.

use ssne_model::Network;
use ssne_tensor::ndarray::{Array1, Array2, ArrayView2, Axis};

use crate::networks::check_features;
use crate::target::{column_means, embedding_centre};
use crate::{Result, SaliencyError};

/// Named sets of row indices into a data matrix: the classes of a labelled
/// data set, or any groups the user picks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Groups {
    names: Vec<String>,
    members: Vec<Vec<usize>>,
}

impl Groups {
    /// One group per label that occurs, in increasing label order, named by
    /// the label's number (`"0"`, `"7"`).
    pub fn from_labels(labels: &[u32]) -> Self {
        Self::from_labels_named(labels, &[])
    }

    /// One group per label that occurs, named `names[label]` (or the label's
    /// number where `names` has no entry).
    pub fn from_labels_named(labels: &[u32], names: &[String]) -> Self {
        let n_labels = labels.iter().map(|&l| l as usize + 1).max().unwrap_or(0);
        let mut members = vec![Vec::new(); n_labels];
        for (point_idx, &label) in labels.iter().enumerate() {
            members[label as usize].push(point_idx);
        }
        let (names, members) = members
            .into_iter()
            .enumerate()
            .filter(|(_, m)| !m.is_empty())
            .map(|(label, m)| (names.get(label).cloned().unwrap_or_else(|| label.to_string()), m))
            .unzip();
        Groups { names, members }
    }

    /// Groups given by name and member rows.
    ///
    /// # Errors
    /// [`SaliencyError::InvalidParameter`] when a name is used twice.
    pub fn new(groups: Vec<(String, Vec<usize>)>) -> Result<Self> {
        let (names, members): (Vec<String>, Vec<Vec<usize>>) = groups.into_iter().unzip();
        for (idx, name) in names.iter().enumerate() {
            if names[..idx].contains(name) {
                return Err(crate::error::invalid(
                    "group name",
                    format!("{name:?}"),
                    "each group name once",
                ));
            }
        }
        Ok(Groups { names, members })
    }

    /// The group names, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no groups.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The rows of group `name`.
    ///
    /// # Errors
    /// [`SaliencyError::UnknownGroup`] listing the names that exist.
    pub fn members(&self, name: &str) -> Result<&[usize]> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|idx| self.members[idx].as_slice())
            .ok_or_else(|| SaliencyError::UnknownGroup {
                name: name.to_owned(),
                known: self.names.clone(),
            })
    }

    /// The points of group `name`, copied out of `data`.
    ///
    /// # Errors
    /// [`SaliencyError::UnknownGroup`], [`SaliencyError::EmptyGroup`], or
    /// [`SaliencyError::PointOutOfRange`] when a member is not a row of `data`.
    pub fn points(&self, data: ArrayView2<'_, f32>, name: &str) -> Result<Array2<f32>> {
        let members = self.members(name)?;
        if members.is_empty() {
            return Err(SaliencyError::EmptyGroup { name: name.to_owned() });
        }
        if let Some(&index) = members.iter().find(|&&i| i >= data.nrows()) {
            return Err(SaliencyError::PointOutOfRange {
                group: name.to_owned(),
                index,
                n_points: data.nrows(),
            });
        }
        Ok(data.select(Axis(0), members))
    }
}

/// Where a group sits: the mean of its points in input space (an image, for
/// image data) and the mean of their positions in the map.
#[derive(Debug, Clone, PartialEq)]
pub struct Centre {
    /// The group's name.
    pub name: String,
    /// Number of points averaged.
    pub n_points: usize,
    /// Mean of the points, `[features]`.
    pub input: Array1<f32>,
    /// Mean of their positions in the map, `[embedding_dim]`. This is not the
    /// image of `input` (the map is not linear).
    pub embedding: Array1<f32>,
}

/// The centre of group `name` of `data` in input space and in `map`'s map
/// (both means accumulated in `f64`).
///
/// # Errors
/// As [`Groups::points`], plus [`SaliencyError::FeatureCount`].
pub fn centre(map: &Network, data: ArrayView2<'_, f32>, groups: &Groups, name: &str) -> Result<Centre> {
    check_features(map, data.ncols())?;
    let points = groups.points(data, name)?;
    Ok(Centre {
        name: name.to_owned(),
        n_points: points.nrows(),
        input: column_means(points.view()),
        embedding: embedding_centre(map, points.view(), name)?,
    })
}

/// The centres of every group, in order.
///
/// # Errors
/// As [`centre`], for the first group that fails.
pub fn centres(map: &Network, data: ArrayView2<'_, f32>, groups: &Groups) -> Result<Vec<Centre>> {
    groups
        .names()
        .iter()
        .map(|name| centre(map, data, groups, name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssne_tensor::ndarray::array;

    #[test]
    fn labels_make_one_group_per_occurring_label() {
        let groups = Groups::from_labels(&[2, 0, 2, 5]);
        assert_eq!(groups.names(), ["0", "2", "5"]);
        assert_eq!(groups.members("2").unwrap(), [0, 2]);
        assert_eq!(groups.len(), 3);
        let named = Groups::from_labels_named(&[1, 0], &["zero".to_owned(), "one".to_owned()]);
        assert_eq!(named.names(), ["zero", "one"]);
        assert_eq!(named.members("one").unwrap(), [0]);
    }

    #[test]
    fn unknown_and_empty_groups_are_errors() {
        let groups = Groups::new(vec![
            ("a".into(), vec![0]),
            ("empty".into(), vec![]),
            ("far".into(), vec![9]),
        ])
        .unwrap();
        let data = array![[1.0_f32, 2.0]];
        match groups.members("b") {
            Err(SaliencyError::UnknownGroup { name, known }) => {
                assert_eq!(name, "b");
                assert_eq!(known, ["a", "empty", "far"]);
            }
            other => panic!("expected UnknownGroup, got {other:?}"),
        }
        assert!(
            matches!(groups.points(data.view(), "empty"), Err(SaliencyError::EmptyGroup { name }) if name == "empty")
        );
        assert!(matches!(
            groups.points(data.view(), "far"),
            Err(SaliencyError::PointOutOfRange {
                index: 9,
                n_points: 1,
                ..
            })
        ));
        assert_eq!(groups.points(data.view(), "a").unwrap(), data);
    }

    #[test]
    fn duplicate_names_are_rejected() {
        let dup = Groups::new(vec![("a".into(), vec![0]), ("a".into(), vec![1])]);
        assert!(matches!(
            dup,
            Err(SaliencyError::InvalidParameter { name: "group name", .. })
        ));
    }
}
