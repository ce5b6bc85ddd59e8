//! The [`Dataset`] type: an `n x d` feature matrix with optional labels and what is known about it.

use std::ops::Range;
use std::path::{Path, PathBuf};

use ndarray::Array2;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::error::DataError;
use crate::features::{ByteFeatures, Features};
use crate::labels::compact_labels;
use crate::scaling::{Scaling, ScalingKind};
use crate::split::Split;

/// The pseudo-path that errors about data built in memory carry.
pub(crate) const IN_MEMORY: &str = "<in-memory>";

/// A data set: one point per row of `features`, with optional labels and metadata.
///
/// Build one with [`Dataset::new`] or a loader ([`load`](crate::load), [`idx`](crate::idx),
/// [`npy`](crate::npy), [`csv`](crate::csv), [`mnist`](crate::mnist),
/// [`bundled`](crate::bundled)).
///
/// ```
/// use ssne_data::{Dataset, ScalingKind, Split};
/// use ndarray::array;
///
/// let data = Dataset::new(array![[0.0_f32, 2.0], [1.0, 4.0], [2.0, 6.0], [3.0, 8.0]], Some(vec![0, 1, 0, 1]))?;
/// let (mut train, mut test) = data.split(Split::Fraction(0.5), Some(7))?;
/// let scaling = train.fit_scaling(ScalingKind::UnitRange);
/// train.apply_scaling(&scaling)?;
/// test.apply_scaling(&scaling)?; // the training parameters, not refitted
/// assert_eq!((train.n_points(), test.n_points()), (2, 2));
/// assert_eq!(data.class_counts(), Some(vec![2, 2]));
/// # Ok::<(), ssne_data::DataError>(())
/// ```
///
/// The features are `f32` rows ([`Array2<f32>`], the default) or the `u8` codes of an IDX or
/// `u8` NPY file ([`ByteFeatures`], a quarter of the memory; see [`crate::load_codes`] and
/// [`Dataset::from_codes`]); training reads either through [`FeatureRows`](crate::FeatureRows).
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset<F = Array2<f32>> {
    /// `n_points x n_features`, standard (row-major) layout.
    pub features: F,
    /// One label per point, if known.
    pub labels: Option<Vec<u32>>,
    /// `[height, width]` when each row is an image (so saliency maps can be drawn).
    pub image_shape: Option<[usize; 2]>,
    /// A short name, e.g. the file stem or `"mnist-sample"`.
    pub name: String,
    /// Class names indexed by label, when the source has them.
    pub label_names: Option<Vec<String>>,
    /// The name of each feature column (label column excluded), when the source has them: the
    /// header of a CSV file. Lets a caller say which columns were read, e.g. when it expected a
    /// label column and found none.
    pub feature_names: Option<Vec<String>>,
    /// The preprocessing already applied to `features`.
    pub scaling: Scaling,
}

impl Dataset {
    /// Wraps `features` (and `labels`) as a data set named `"dataset"`, with no image shape, no
    /// label or feature names and no scaling.
    ///
    /// The features are copied into standard layout if they are not already in it. Labels whose
    /// distinct values are not exactly `0..k` are renumbered to `0..k` in increasing order, and
    /// their values kept as [`label_names`](Self::label_names) ([`compact_labels`]), so a label's
    /// value never sizes anything.
    ///
    /// # Errors
    ///
    /// [`DataError::LabelCount`] when `labels` does not have one entry per row, and
    /// [`DataError::NonFinite`] for the first NaN or infinite value.
    pub fn new(features: Array2<f32>, labels: Option<Vec<u32>>) -> Result<Self, DataError> {
        let path = Path::new(IN_MEMORY);
        check_finite(&features, path)?;
        Self::unchecked(features, labels, path)
    }

    /// Like [`Dataset::new`] without the finiteness check: for loaders whose caller opted in to
    /// NaN and infinity.
    pub(crate) fn unchecked(features: Array2<f32>, labels: Option<Vec<u32>>, path: &Path) -> Result<Self, DataError> {
        let features = if features.is_standard_layout() {
            features
        } else {
            features.as_standard_layout().into_owned()
        };
        Self::wrap(features, labels, path)
    }
}

impl Dataset<ByteFeatures> {
    /// Wraps `u8` codes (and `labels`) as a data set named `"dataset"`, like [`Dataset::new`]
    /// (codes decode to finite values, so there is nothing to check but the labels).
    ///
    /// # Errors
    ///
    /// [`DataError::LabelCount`] when `labels` does not have one entry per row.
    pub fn from_codes(features: ByteFeatures, labels: Option<Vec<u32>>) -> Result<Self, DataError> {
        Self::wrap(features, labels, Path::new(IN_MEMORY))
    }
}

impl<F: Features> Dataset<F> {
    /// The data set of `features` and `labels` with the defaults of [`Dataset::new`].
    pub(crate) fn wrap(features: F, labels: Option<Vec<u32>>, path: &Path) -> Result<Self, DataError> {
        if let Some(labels) = &labels
            && labels.len() != features.n_rows()
        {
            return Err(DataError::LabelCount {
                path: path.to_path_buf(),
                images: features.n_rows(),
                labels: labels.len(),
            });
        }
        let (labels, label_names) = match labels {
            Some(labels) => {
                let (labels, names) = compact_labels(labels, None);
                (Some(labels), names)
            }
            None => (None, None),
        };
        Ok(Self {
            features,
            labels,
            image_shape: None,
            name: "dataset".to_owned(),
            label_names,
            feature_names: None,
            scaling: Scaling::None,
        })
    }

    /// Sets the name.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the image shape after checking that `height * width` equals the number of features.
    ///
    /// # Errors
    ///
    /// [`DataError::ImageShape`] when the shape does not cover exactly one row.
    pub fn with_image_shape(mut self, shape: [usize; 2]) -> Result<Self, DataError> {
        if shape[0].checked_mul(shape[1]) != Some(self.n_features()) {
            return Err(DataError::ImageShape {
                shape,
                n_features: self.n_features(),
            });
        }
        self.image_shape = Some(shape);
        Ok(self)
    }

    /// Sets the class names (index = label). Labels that were renumbered when the data set was
    /// built (see [`compact_labels`]) are renumbered again, so that each keeps its name.
    #[must_use]
    pub fn with_label_names(mut self, names: Vec<String>) -> Self {
        self.set_label_names(names);
        self
    }

    /// [`with_label_names`](Self::with_label_names) in place.
    pub fn set_label_names(&mut self, names: Vec<String>) {
        match (self.labels.take(), self.label_names.take()) {
            (Some(labels), Some(shown)) => {
                // The shown names are the original values: map each back, then name it.
                let original: Vec<u32> = labels
                    .iter()
                    .map(|&label| {
                        shown
                            .get(label as usize)
                            .and_then(|value| value.parse().ok())
                            .unwrap_or(label)
                    })
                    .collect();
                let (labels, names) = compact_labels(original, Some(names));
                self.labels = Some(labels);
                self.label_names = names;
            }
            (labels, _) => {
                self.labels = labels;
                self.label_names = Some(names);
            }
        }
    }

    /// Each point's label as the user wrote it: its name where the source named it (or its
    /// value before [`compact_labels`] renumbered it), else its number. `None` without labels.
    pub fn shown_labels(&self) -> Option<Vec<String>> {
        let names = self.label_names.as_deref();
        let labels = self.labels.as_ref()?;
        Some(
            labels
                .iter()
                .map(|&label| {
                    names
                        .and_then(|names| names.get(label as usize))
                        .cloned()
                        .unwrap_or_else(|| label.to_string())
                })
                .collect(),
        )
    }

    /// Number of points (rows).
    pub fn n_points(&self) -> usize {
        self.features.n_rows()
    }

    /// Number of features per point (columns).
    pub fn n_features(&self) -> usize {
        self.features.n_cols()
    }

    /// Number of classes: one more than the largest label, or the number of label names if that
    /// is larger. `None` without labels.
    pub fn n_classes(&self) -> Option<usize> {
        let labels = self.labels.as_ref()?;
        let from_labels = labels.iter().max().map_or(0, |&max| max as usize + 1);
        let from_names = self.label_names.as_ref().map_or(0, Vec::len);
        Some(from_labels.max(from_names))
    }

    /// How many points carry each label, indexed by label (length [`n_classes`](Self::n_classes)).
    pub fn class_counts(&self) -> Option<Vec<usize>> {
        let labels = self.labels.as_ref()?;
        let mut counts = vec![0; self.n_classes()?];
        for &label in labels {
            counts[label as usize] += 1;
        }
        Some(counts)
    }

    /// The rows in `range`, with everything else carried over.
    ///
    /// # Errors
    ///
    /// [`DataError::RowRange`] when `range.end > n_points` or `range.start > range.end`.
    pub fn rows(&self, range: Range<usize>) -> Result<Dataset<F>, DataError> {
        let n_points = self.n_points();
        if range.start > range.end || range.end > n_points {
            return Err(DataError::RowRange {
                start: range.start,
                end: range.end,
                n_points,
            });
        }
        let features = self.features.slice_checked(range.clone());
        let labels = self.labels.as_ref().map(|labels| labels[range].to_vec());
        Ok(self.with_rows(features, labels))
    }

    /// The rows at `indices`, in that order (an index may repeat).
    ///
    /// # Errors
    ///
    /// [`DataError::RowIndex`] for the first index at or past `n_points`.
    pub fn select(&self, indices: &[usize]) -> Result<Dataset<F>, DataError> {
        let n_points = self.n_points();
        if let Some(&index) = indices.iter().find(|&&index| index >= n_points) {
            return Err(DataError::RowIndex { index, n_points });
        }
        Ok(self.select_checked(indices))
    }

    /// The rows in a random order drawn from `ChaCha8Rng::seed_from_u64(seed)`: the same seed
    /// gives the same order on every machine.
    pub fn shuffled(&self, seed: u64) -> Dataset<F> {
        let mut order: Vec<usize> = (0..self.n_points()).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        self.select_checked(&order)
    }

    /// Cuts the data set in two at `at`; shuffles first (see [`shuffled`](Self::shuffled)) when
    /// `seed` is `Some`, and keeps the file order otherwise.
    ///
    /// # Errors
    ///
    /// [`DataError::BadSplit`] for a count larger than `n_points` or a fraction outside `[0, 1]`.
    pub fn split(&self, at: Split, seed: Option<u64>) -> Result<(Dataset<F>, Dataset<F>), DataError> {
        let n_points = self.n_points();
        let n_first = at
            .first_len(n_points)
            .ok_or(DataError::BadSplit { split: at, n_points })?;
        let shuffled;
        let source = match seed {
            Some(seed) => {
                shuffled = self.shuffled(seed);
                &shuffled
            }
            None => self,
        };
        Ok((source.rows(0..n_first)?, source.rows(n_first..n_points)?))
    }

    /// Fits `kind` on this data (the training set) without changing it; apply the result to
    /// every split with [`apply_scaling`](Self::apply_scaling).
    pub fn fit_scaling(&self, kind: ScalingKind) -> Scaling {
        self.features.fit_scaling(kind)
    }

    /// Applies `scaling` (fitted on training data) to the features and records it.
    ///
    /// # Errors
    ///
    /// [`DataError::ScalingMismatch`] when the parameters are for another number of features;
    /// [`DataError::AlreadyScaled`] when a scaling other than [`Scaling::None`] is already
    /// recorded (scaling twice would lose the record of what was done).
    pub fn apply_scaling(&mut self, scaling: &Scaling) -> Result<(), DataError> {
        if *scaling == Scaling::None {
            return Ok(());
        }
        if self.scaling != Scaling::None {
            return Err(DataError::AlreadyScaled {
                existing: self.scaling.kind(),
            });
        }
        self.features.apply_scaling(scaling)?;
        self.scaling = scaling.clone();
        Ok(())
    }

    /// Row selection for indices already known to be in range.
    fn select_checked(&self, indices: &[usize]) -> Dataset<F> {
        let features = self.features.select_checked(indices);
        let labels = self
            .labels
            .as_ref()
            .map(|labels| indices.iter().map(|&i| labels[i]).collect());
        self.with_rows(features, labels)
    }

    /// A data set with new rows and this one's metadata.
    fn with_rows(&self, features: F, labels: Option<Vec<u32>>) -> Dataset<F> {
        Dataset {
            features,
            labels,
            image_shape: self.image_shape,
            name: self.name.clone(),
            label_names: self.label_names.clone(),
            feature_names: self.feature_names.clone(),
            scaling: self.scaling.clone(),
        }
    }
}

/// Fails on the first NaN or infinity, naming `path`, the row and the column.
pub(crate) fn check_finite(features: &Array2<f32>, path: &Path) -> Result<(), DataError> {
    for (row, values) in features.outer_iter().enumerate() {
        if let Some((col, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(DataError::NonFinite {
                path: PathBuf::from(path),
                row,
                col,
                value,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::Dataset;
    use crate::{DataError, Split};

    fn four_points() -> Dataset {
        Dataset::new(array![[0.0_f32], [1.0], [2.0], [3.0]], Some(vec![0, 1, 2, 1])).unwrap()
    }

    #[test]
    fn new_checks_label_count_and_finiteness() {
        let err = Dataset::new(array![[0.0_f32], [1.0]], Some(vec![0])).unwrap_err();
        assert!(matches!(
            err,
            DataError::LabelCount {
                images: 2,
                labels: 1,
                ..
            }
        ));
        let err = Dataset::new(array![[0.0_f32, 1.0], [f32::NAN, 1.0]], None).unwrap_err();
        assert!(matches!(err, DataError::NonFinite { row: 1, col: 0, .. }));
    }

    #[test]
    fn new_converts_to_standard_layout() {
        let data = Dataset::new(array![[1.0_f32, 2.0], [3.0, 4.0]].reversed_axes(), None).unwrap();
        assert!(data.features.is_standard_layout());
        assert_eq!(data.features, array![[1.0_f32, 3.0], [2.0, 4.0]]);
    }

    #[test]
    fn rows_and_select_check_bounds() {
        let data = four_points();
        assert_eq!(data.rows(1..3).unwrap().labels, Some(vec![1, 2]));
        assert!(matches!(
            data.rows(2..5),
            Err(DataError::RowRange {
                start: 2,
                end: 5,
                n_points: 4
            })
        ));
        #[allow(clippy::reversed_empty_ranges)]
        let backwards = 3..2;
        assert!(matches!(data.rows(backwards), Err(DataError::RowRange { .. })));
        assert_eq!(
            data.select(&[3, 0, 3]).unwrap().features,
            array![[3.0_f32], [0.0], [3.0]]
        );
        assert!(matches!(
            data.select(&[0, 4]),
            Err(DataError::RowIndex { index: 4, n_points: 4 })
        ));
    }

    #[test]
    fn split_without_seed_keeps_order() {
        let (first, second) = four_points().split(Split::Count(3), None).unwrap();
        assert_eq!(first.labels, Some(vec![0, 1, 2]));
        assert_eq!(second.labels, Some(vec![1]));
        assert!(matches!(
            four_points().split(Split::Count(5), None),
            Err(DataError::BadSplit { n_points: 4, .. })
        ));
    }

    #[test]
    fn classes_and_counts() {
        let data = four_points();
        assert_eq!(data.n_classes(), Some(3));
        assert_eq!(data.class_counts(), Some(vec![1, 2, 1]));
        let named = data.with_label_names((0..5).map(|c| c.to_string()).collect());
        assert_eq!(named.class_counts(), Some(vec![1, 2, 1, 0, 0]));
        assert_eq!(Dataset::new(array![[0.0_f32]], None).unwrap().class_counts(), None);
    }

    #[test]
    fn scaling_is_applied_once() {
        let mut data = four_points();
        let scaling = data.fit_scaling(crate::ScalingKind::UnitRange);
        data.apply_scaling(&scaling).unwrap();
        assert_eq!(data.features, array![[0.0_f32], [1.0 / 3.0], [2.0 / 3.0], [1.0]]);
        assert!(matches!(
            data.apply_scaling(&scaling),
            Err(DataError::AlreadyScaled { .. })
        ));
    }

    #[test]
    fn image_shape_must_cover_a_row() {
        let data = Dataset::new(array![[0.0_f32; 6]], None).unwrap();
        assert_eq!(data.clone().with_image_shape([2, 3]).unwrap().image_shape, Some([2, 3]));
        assert!(matches!(
            data.with_image_shape([2, 2]),
            Err(DataError::ImageShape { .. })
        ));
    }
}
