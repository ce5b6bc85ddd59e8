//! Defaults that depend on the data: the default preset's settings were measured on 28 x 28
//! MNIST with thousands of rows, and some of them do not carry over to small images, few rows,
//! another value range or two classes. [`TrainConfig::adapt_to`] changes those settings by rules
//! measured on small data sets (`docs/QUALITY.md`, "Small and non-MNIST data"), and says which it
//! changed and why, so that a front end can report it and leave alone what the user chose.

use ssne_data::{Dataset, Features, ScalingKind};

use crate::config::{Preset, Scheme, TrainConfig};
use crate::model::ReferenceSpace;
use crate::network::HeadInput;
use crate::optim::LrSchedule;

/// What the data-dependent defaults look at: the shape, size, class count and value range of
/// the training rows (before any scaling).
#[derive(Debug, Clone, PartialEq)]
pub struct DataSummary {
    /// Training rows.
    pub n_points: usize,
    /// Features of each row (784 for 28 x 28 images).
    pub n_features: usize,
    /// Height and width when the rows are images.
    pub image_shape: Option<[usize; 2]>,
    /// Classes of a labelled set.
    pub n_classes: Option<usize>,
    /// The smallest and largest finite feature value; `None` when there is none.
    pub value_range: Option<(f32, f32)>,
}

impl DataSummary {
    /// The summary of `data` as it is (call it before the data is scaled), of either storage.
    pub fn of<F: Features>(data: &Dataset<F>) -> Self {
        DataSummary {
            n_points: data.n_points(),
            n_features: data.n_features(),
            image_shape: data.image_shape,
            n_classes: data.n_classes(),
            value_range: data.features.feature_rows().value_range(),
        }
    }
}

/// One default that [`TrainConfig::adapt_to`] changed, with its new value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Setting {
    /// `finetune.shift_pixels`.
    ShiftPixels(u8),
    /// `pretrain.epochs`.
    PretrainEpochs(usize),
    /// The steps of the coupled (or negative-sampling) scheme.
    FinetuneSteps(usize),
    /// `head_input`.
    HeadInput(HeadInput),
    /// `input_pca`: the fixed input projection on this many principal directions.
    InputPca(usize),
    /// `finetune.knn_space`: the kNN graph searched in the projection on this many principal
    /// directions.
    KnnPca(usize),
    /// `finetune.graph_epochs`: the coupled (or negative-sampling) run in passes over the kNN
    /// graph, replacing its steps.
    FinetuneGraphEpochs(f64),
    /// `finetune.adam.schedule` set to [`LrSchedule::Linear`]: the rate decays linearly to 0.
    LinearLrDecay,
    /// The input scaling, which is not part of a [`TrainConfig`]: the caller fits it on the
    /// training rows before training (see [`ssne_data::Dataset::fit_scaling`]).
    Scaling(ScalingKind),
}

/// A default changed for the data, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Adaptation {
    /// The setting and its adapted value.
    pub setting: Setting,
    /// Why, in a user's terms (e.g. "images of 8 x 8: a 1-pixel shift would move them by 12%").
    pub reason: String,
}

impl TrainConfig {
    /// Images shorter than this on a side are not shifted, and each further multiple of it adds a
    /// pixel: 28 x 28 MNIST keeps its 1-pixel shift, 14 x 14 and 8 x 8 images get none.
    pub const SHIFT_SIDE_PER_PIXEL: usize = 20;
    /// Pretraining runs at least this many mini-batch steps (and at least the preset's epochs):
    /// 10 epochs of 8000 rows in batches of 128 are 630 steps; 1500 rows need 50 epochs for as many.
    pub const MIN_PRETRAIN_STEPS: usize = 600;
    /// Fine-tuning of the coupled scheme runs this many passes over the points (each point drawn
    /// as an edge's endpoint about once a pass, [`Scheme::steps_per_epoch`]), but no more than the
    /// preset's steps: 6000 steps of 500 edges are 750 passes over 8000 rows. In passes over the
    /// kNN graph ([`crate::FinetuneConfig::graph_epochs`]) the preset's 6000 steps are 5.9
    /// epochs of the 8000-digit sample (1021 steps an epoch) and 0.92 of 50,000 Fashion-MNIST
    /// images (6506 steps an epoch; `docs/QUALITY.md`, "Training length and training-loop levers
    /// at full size").
    pub const FINETUNE_POINT_PASSES: usize = 750;
    /// The fewest fine-tuning steps the epoch rule gives, however few the rows.
    pub const MIN_FINETUNE_STEPS: usize = 1000;
    /// From this many training rows on, the large-data rules apply: at perplexity 15 a point
    /// stores about 65 entries of the symmetrised P, so the preset's 6000 steps of 500 edges are
    /// 4 passes over the kNN graph near 11,500 rows and fewer above (0.92 at 50,000).
    pub const LARGE_DATA_ROWS: usize = 12_000;
    /// Passes over the kNN graph of a large-data run, with the rate decayed linearly to 0.
    pub const LARGE_DATA_GRAPH_EPOCHS: f64 = 16.0;
    /// Principal directions of the fixed input projection of a large-data run (ParamRepulsor's
    /// PCA-100), for rows of more features than that.
    pub const LARGE_DATA_INPUT_PCA: usize = 100;
    /// Principal directions of the space the kNN graph of a large-data run is searched in.
    pub const LARGE_DATA_KNN_PCA: usize = 50;

    /// Adapts the default preset to `data` and returns what it changed. Call it on
    /// [`Preset::Default`](crate::Preset::Default) (the paper's preset is the paper's method and is
    /// never adapted), before applying the user's own choices, which win. The
    /// [`Setting::Scaling`] adaptation is for the caller to apply.
    ///
    /// The rules (measured in `docs/QUALITY.md`):
    /// - the image shift is one pixel per [`Self::SHIFT_SIDE_PER_PIXEL`] pixels of the shorter side;
    /// - pretraining runs at least [`Self::MIN_PRETRAIN_STEPS`] steps;
    /// - the coupled scheme runs [`Self::FINETUNE_POINT_PASSES`] passes over the points, between
    ///   [`Self::MIN_FINETUNE_STEPS`] and the preset's steps;
    /// - from [`Self::LARGE_DATA_ROWS`] rows on, the coupled scheme runs
    ///   [`Self::LARGE_DATA_GRAPH_EPOCHS`] passes over the kNN graph with the rate decayed
    ///   linearly to 0, the graph is searched in the PCA-[`Self::LARGE_DATA_KNN_PCA`] space, and
    ///   a network with biases gets the fixed PCA-[`Self::LARGE_DATA_INPUT_PCA`] input
    ///   projection (a bias-free network stays homogeneous: the projection centres its inputs);
    /// - two classes feed the head from the hidden layer: two logits carry one direction (the
    ///   softmax depends only on their difference), so a map of them is a line;
    /// - values outside `[0, 1]` are scaled to unit range per feature.
    ///
    /// ```
    /// use ssne_model::{DataSummary, HeadInput, Preset, Setting, TrainConfig};
    /// let digits = DataSummary {
    ///     n_points: 1500,
    ///     n_features: 64,
    ///     image_shape: Some([8, 8]),
    ///     n_classes: Some(2),
    ///     value_range: Some((0.0, 16.0)),
    /// };
    /// let mut config = TrainConfig::preset(Preset::Default, 42);
    /// let changed = config.adapt_to(&digits);
    /// assert_eq!(config.finetune.shift_pixels, 0);
    /// assert_eq!(config.head_input, HeadInput::Hidden);
    /// assert!(changed.iter().any(|a| matches!(a.setting, Setting::Scaling(_))));
    /// ```
    pub fn adapt_to(&mut self, data: &DataSummary) -> Vec<Adaptation> {
        let mut changed = Vec::new();
        if let Some([height, width]) = data.image_shape {
            let side = height.min(width);
            let shift = u8::try_from(side / Self::SHIFT_SIDE_PER_PIXEL).unwrap_or(u8::MAX);
            if shift != self.finetune.shift_pixels {
                let percent = 100.0 * f64::from(self.finetune.shift_pixels) / side.max(1) as f64;
                changed.push(Adaptation {
                    setting: Setting::ShiftPixels(shift),
                    reason: format!(
                        "images of {height} x {width}: a {}-pixel shift would move them by {percent:.0}%; \
                         the rule is 1 pixel per {} of the shorter side",
                        self.finetune.shift_pixels,
                        Self::SHIFT_SIDE_PER_PIXEL
                    ),
                });
                self.finetune.shift_pixels = shift;
            }
        }
        if data.n_classes.is_some() && self.pretrain.epochs > 0 {
            let batches = data.n_points.div_ceil(self.pretrain.batch_size.max(1)).max(1);
            let epochs = Self::MIN_PRETRAIN_STEPS.div_ceil(batches);
            if epochs > self.pretrain.epochs {
                changed.push(Adaptation {
                    setting: Setting::PretrainEpochs(epochs),
                    reason: format!(
                        "{} rows are {batches} batches of {}: {epochs} epochs make the {} steps the classifier needs",
                        data.n_points,
                        self.pretrain.batch_size,
                        Self::MIN_PRETRAIN_STEPS
                    ),
                });
                self.pretrain.epochs = epochs;
            }
        }
        if let Scheme::Coupled { steps, edges_per_step } = self.finetune.scheme {
            let per_epoch = Scheme::steps_per_epoch(data.n_points, edges_per_step);
            let adapted = Self::FINETUNE_POINT_PASSES
                .saturating_mul(per_epoch)
                .clamp(Self::MIN_FINETUNE_STEPS.min(steps), steps);
            if adapted != steps {
                changed.push(Adaptation {
                    setting: Setting::FinetuneSteps(adapted),
                    reason: format!(
                        "{} passes over the {} rows ({per_epoch} steps of {edges_per_step} edges each), at least {}",
                        Self::FINETUNE_POINT_PASSES,
                        data.n_points,
                        Self::MIN_FINETUNE_STEPS
                    ),
                });
                self.finetune.scheme = Scheme::Coupled {
                    steps: adapted,
                    edges_per_step,
                };
            }
        }
        if data.n_points >= Self::LARGE_DATA_ROWS && matches!(self.finetune.scheme, Scheme::Coupled { .. }) {
            changed.extend(self.adapt_to_large_data(data));
        }
        if data.n_classes.is_some_and(|k| k <= 2) && self.head_input == HeadInput::Logits {
            changed.push(Adaptation {
                setting: Setting::HeadInput(HeadInput::Hidden),
                reason: "two classes: their two logits vary along one direction, so a map of them is a line; \
                         the head reads the hidden layer"
                    .to_owned(),
            });
            self.head_input = HeadInput::Hidden;
        }
        if let Some((lo, hi)) = data.value_range
            && (lo < 0.0 || hi > 1.0)
        {
            changed.push(Adaptation {
                setting: Setting::Scaling(ScalingKind::UnitRange),
                reason: format!("the values range over [{lo}, {hi}], not [0, 1]: each feature is scaled to [0, 1]"),
            });
        }
        changed
    }
}

impl TrainConfig {
    /// The large-data rules of [`TrainConfig::adapt_to`], for a coupled run on `data`.
    fn adapt_to_large_data(&mut self, data: &DataSummary) -> Vec<Adaptation> {
        let mut changed = Vec::new();
        let rows = data.n_points;
        let Scheme::Coupled { steps, .. } = self.finetune.scheme else {
            return changed;
        };
        if self.finetune.graph_epochs.is_none() {
            let epochs = Self::LARGE_DATA_GRAPH_EPOCHS;
            changed.push(Adaptation {
                setting: Setting::FinetuneGraphEpochs(epochs),
                reason: format!(
                    "{rows} rows: {epochs} passes over the kNN graph instead of a fixed {steps} steps, \
                     so that every edge is sampled about as often as on smaller data"
                ),
            });
            self.finetune.graph_epochs = Some(epochs);
        }
        if self.finetune.adam.schedule == LrSchedule::Constant {
            changed.push(Adaptation {
                setting: Setting::LinearLrDecay,
                reason: format!("{rows} rows: the long run's rate decays linearly to 0"),
            });
            self.finetune.adam.schedule = LrSchedule::Linear;
        }
        let components = Self::LARGE_DATA_KNN_PCA;
        if self.finetune.knn_space == ReferenceSpace::Raw && data.n_features > components {
            changed.push(Adaptation {
                setting: Setting::KnnPca(components),
                reason: format!(
                    "{rows} rows of {} features: the kNN graph is searched in their PCA-{components} projection",
                    data.n_features
                ),
            });
            self.finetune.knn_space = ReferenceSpace::Pca { components };
        }
        let components = Self::LARGE_DATA_INPUT_PCA;
        if self.input_pca.is_none() && self.biases && data.n_features > components {
            changed.push(Adaptation {
                setting: Setting::InputPca(components),
                reason: format!(
                    "{rows} rows of {} features: the network reads their fixed PCA-{components} projection",
                    data.n_features
                ),
            });
            self.input_pca = Some(components);
        }
        changed
    }
}

/// The preset a front end starts from: `preset` with `seed`, for a run that samples
/// `edges_per_step` edges per step when the user chose that (the epoch rule counts steps of those
/// edges), adapted to `data` when it is the default preset (the paper's preset is the paper's
/// method, whatever the data). The user's other choices are applied afterwards and win.
///
/// ```
/// use ssne_model::{DataSummary, Preset, Scheme, adapted_preset};
/// let data = DataSummary { n_points: 1500, n_features: 64, image_shape: None, n_classes: Some(10), value_range: Some((0.0, 1.0)) };
/// let (config, adapted) = adapted_preset(Preset::Default, 42, Some(250), &data);
/// assert_eq!(config.finetune.scheme, Scheme::Coupled { steps: 2250, edges_per_step: 250 });
/// assert!(!adapted.is_empty());
/// assert!(adapted_preset(Preset::Paper, 42, None, &data).1.is_empty());
/// ```
pub fn adapted_preset(
    preset: Preset,
    seed: u64,
    edges_per_step: Option<usize>,
    data: &DataSummary,
) -> (TrainConfig, Vec<Adaptation>) {
    let mut config = TrainConfig::preset(preset, seed);
    if let (Some(edges_per_step), Scheme::Coupled { steps, .. }) = (edges_per_step, config.finetune.scheme) {
        config.finetune.scheme = Scheme::Coupled { steps, edges_per_step };
    }
    let adapted = match preset {
        // The additive preset trains as the default one does, so the same rules fit it.
        Preset::Default | Preset::Additive => config.adapt_to(data),
        Preset::Paper => Vec::new(),
    };
    (config, adapted)
}

/// The input scaling `adapted` chose, if it chose one.
pub fn adapted_scaling(adapted: &[Adaptation]) -> Option<ScalingKind> {
    adapted.iter().find_map(|a| match a.setting {
        Setting::Scaling(kind) => Some(kind),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The settings `config.adapt_to(data)` changed, in order.
    fn settings_of(config: &mut TrainConfig, data: &DataSummary) -> Vec<Setting> {
        config.adapt_to(data).into_iter().map(|a| a.setting).collect()
    }

    fn summary(n_points: usize, side: usize, classes: usize, hi: f32) -> DataSummary {
        DataSummary {
            n_points,
            n_features: side * side,
            image_shape: Some([side, side]),
            n_classes: Some(classes),
            value_range: Some((0.0, hi)),
        }
    }

    #[test]
    fn mnist_sized_data_keeps_the_preset() {
        let mut config = TrainConfig::preset(Preset::Default, 1);
        assert_eq!(config.adapt_to(&summary(8000, 28, 10, 1.0)), vec![]);
        assert_eq!(config, TrainConfig::preset(Preset::Default, 1));
        // Up to the large-data rules, more rows never lengthen the run beyond the preset's.
        assert_eq!(
            config.adapt_to(&summary(TrainConfig::LARGE_DATA_ROWS - 1, 28, 10, 1.0)),
            vec![]
        );
    }

    #[test]
    fn large_data_trains_in_graph_epochs_on_projections() {
        let mut config = TrainConfig::preset(Preset::Default, 1);
        let settings = settings_of(&mut config, &summary(60_000, 28, 10, 1.0));
        assert_eq!(
            settings,
            vec![
                Setting::FinetuneGraphEpochs(TrainConfig::LARGE_DATA_GRAPH_EPOCHS),
                Setting::LinearLrDecay,
                Setting::KnnPca(TrainConfig::LARGE_DATA_KNN_PCA),
                Setting::InputPca(TrainConfig::LARGE_DATA_INPUT_PCA),
            ]
        );
        assert_eq!(config.finetune.graph_epochs, Some(TrainConfig::LARGE_DATA_GRAPH_EPOCHS));
        assert_eq!(config.finetune.adam.schedule, LrSchedule::Linear);
        assert_eq!(config.finetune.knn_space, ReferenceSpace::Pca { components: 50 });
        assert_eq!(config.input_pca, Some(100));
        assert_eq!(
            config.finetune.scheme,
            Scheme::DEFAULT_COUPLED,
            "the epochs replace the steps"
        );

        // Rows narrower than a projection keep their features; a bias-free (additive) network
        // gets no centring projection; a batch scheme keeps its epochs of the data.
        let mut narrow = TrainConfig::preset(Preset::Default, 1);
        let settings = settings_of(&mut narrow, &summary(60_000, 7, 10, 1.0));
        assert!(
            !settings
                .iter()
                .any(|s| matches!(s, Setting::InputPca(_) | Setting::KnnPca(_))),
            "{settings:?}"
        );
        assert_eq!(
            (narrow.input_pca, narrow.finetune.knn_space),
            (None, ReferenceSpace::Raw)
        );
        let mut additive = TrainConfig::preset(Preset::Additive, 1);
        additive.adapt_to(&summary(60_000, 28, 10, 1.0));
        assert_eq!(additive.input_pca, None);
        assert_eq!(
            additive.finetune.graph_epochs,
            Some(TrainConfig::LARGE_DATA_GRAPH_EPOCHS)
        );
        let mut batches = TrainConfig::preset(Preset::Default, 1);
        batches.finetune.scheme = Scheme::FixedBatches { epochs: 200 };
        batches.adapt_to(&summary(60_000, 28, 10, 1.0));
        assert_eq!((batches.finetune.graph_epochs, batches.input_pca), (None, None));
    }

    #[test]
    fn small_images_and_few_rows_are_adapted() {
        let mut config = TrainConfig::preset(Preset::Default, 1);
        let settings = settings_of(&mut config, &summary(1500, 8, 10, 16.0));
        assert_eq!(
            settings,
            vec![
                Setting::ShiftPixels(0),
                Setting::PretrainEpochs(50),
                Setting::FinetuneSteps(1500),
                Setting::Scaling(ScalingKind::UnitRange)
            ]
        );
        assert_eq!(config.pretrain.epochs, 50);
        assert_eq!(
            config.finetune.scheme,
            Scheme::Coupled {
                steps: 1500,
                edges_per_step: 500
            }
        );
        // 200 rows: one step an epoch, but never fewer than the floor.
        let mut config = TrainConfig::preset(Preset::Default, 1);
        config.adapt_to(&summary(200, 56, 10, 1.0));
        assert_eq!(config.finetune.shift_pixels, 2);
        assert_eq!(
            config.finetune.scheme,
            Scheme::Coupled {
                steps: TrainConfig::MIN_FINETUNE_STEPS,
                edges_per_step: 500
            }
        );
    }

    #[test]
    fn two_classes_read_the_hidden_layer() {
        // The default preset already reads the hidden layer; a config on the logits (the
        // narrow network's) is moved off them for two classes only.
        let on_logits = || TrainConfig {
            head_input: HeadInput::Logits,
            ..TrainConfig::preset(Preset::Default, 1)
        };
        let mut config = on_logits();
        let changed = config.adapt_to(&summary(8000, 28, 2, 1.0));
        assert_eq!(config.head_input, HeadInput::Hidden);
        assert!(
            changed
                .iter()
                .any(|a| a.setting == Setting::HeadInput(HeadInput::Hidden))
        );
        let mut config = on_logits();
        config.adapt_to(&summary(8000, 28, 3, 1.0));
        assert_eq!(config.head_input, HeadInput::Logits);
        let mut config = TrainConfig::preset(Preset::Default, 1);
        let changed = config.adapt_to(&summary(8000, 28, 2, 1.0));
        assert_eq!(config.head_input, HeadInput::Hidden);
        assert!(
            changed.iter().all(|a| !matches!(a.setting, Setting::HeadInput(_))),
            "{changed:?}"
        );
    }

    #[test]
    fn unlabelled_rows_without_a_shape_change_only_the_length() {
        let mut config = TrainConfig::preset(Preset::Default, 1);
        let data = DataSummary {
            n_points: 3000,
            n_features: 20,
            image_shape: None,
            n_classes: None,
            value_range: Some((-0.5, 0.5)),
        };
        let settings = settings_of(&mut config, &data);
        assert_eq!(
            settings,
            vec![Setting::FinetuneSteps(2250), Setting::Scaling(ScalingKind::UnitRange)]
        );
        assert_eq!(config.pretrain.epochs, 10, "nothing to pretrain on");
    }

    #[test]
    fn the_summary_reads_shape_classes_and_range() -> crate::Result<()> {
        let features = ssne_tensor::ndarray::array![[0.0, 3.0, 0.25, 1.0], [-2.0, 0.5, 0.0, 0.0]];
        let data = Dataset::new(features, Some(vec![0, 4]))?.with_image_shape([2, 2])?;
        assert_eq!(
            DataSummary::of(&data),
            DataSummary {
                n_points: 2,
                n_features: 4,
                image_shape: Some([2, 2]),
                // Labels 0 and 4 are compacted to two classes.
                n_classes: Some(2),
                value_range: Some((-2.0, 3.0)),
            }
        );
        Ok(())
    }
}
