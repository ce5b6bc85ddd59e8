//! The trained artefact: a parametric t-SNE map with its pretrained classifier,
//! the configuration that made it, and the reference map of its training rows.

use std::time::Instant;

use ssne_data::{Dataset, FeatureRows, Features, Scaling};
use ssne_tensor::ndarray::{Array2, ArrayView2, Axis};

use crate::config::TrainConfig;
use crate::finetune::{FinetuneReport, FinetuneRngs, TrainingPoints, finetune_with};
use crate::network::Network;
use crate::non_finite::find_non_finite;
use crate::observer::TrainObserver;
use crate::pca::Pca;
use crate::pretrain::{Labelled, PretrainReport, accuracy_rows, pretrain_with};
use crate::random_streams::{RngStream, rng_for};
use crate::refine::{RefineConfig, RefineReference, Refined, refine};
use crate::row_batches::for_chunks;
use crate::training_state::{DataFingerprint, LoopControl, LoopState, Phase, TrainingState, TrainingStateSink};
use crate::{ModelError, Result};

/// How far a model has been trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ModelStage {
    /// The classifier is pretrained; the map is not fine-tuned yet.
    Pretrained,
    /// The map is fine-tuned and ready to embed.
    Finetuned,
}

/// The map of the training rows, kept as the reference for k-NN metrics and plots.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// 2-D positions of the training rows, `[n, 2]`.
    pub embedding: Array2<f32>,
    /// Their labels, when labelled.
    pub labels: Option<Vec<u32>>,
    /// Their inputs (as the model sees them, or their projection by
    /// [`Reference::projection`]), kept for refined placement of new points;
    /// `None` when `TrainConfig::keep_reference_inputs` is off.
    pub inputs: Option<Array2<f32>>,
    /// The PCA that `inputs` are the projection of, `None` for raw inputs: new
    /// points are projected with it before their neighbours are searched.
    pub projection: Option<Pca>,
}

/// The space in which a model keeps its training inputs for refined placement
/// of new points (`TrainConfig::reference_space`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ReferenceSpace {
    /// The inputs as they are (784 floats per MNIST row).
    Raw,
    /// Their projection on the top `components` principal directions of the
    /// training inputs (the model keeps the mean and the directions too). When
    /// `components` is not below the number of features, the raw inputs are
    /// kept instead (the projection would save nothing); with fewer training
    /// rows than `components`, one component per row is kept.
    Pca {
        /// Principal directions kept (at least 1).
        components: usize,
    },
}

impl ReferenceSpace {
    /// Checks the component count.
    ///
    /// # Errors
    /// [`ModelError::Config`] for a PCA with 0 components.
    pub fn validate(&self) -> Result<()> {
        match *self {
            ReferenceSpace::Pca { components: 0 } => Err(crate::error::config_error(
                "reference_space",
                "PCA with 0 components",
                "at least 1 component (or the raw inputs)",
            )),
            _ => Ok(()),
        }
    }
}

/// What training achieved.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct TrainReport {
    /// Pretraining, when it ran.
    pub pretrain: Option<PretrainReport>,
    /// Fine-tuning, when it ran.
    pub finetune: Option<FinetuneReport>,
    /// Accuracy of the pretrained classifier on the training rows.
    pub classifier_train_accuracy: Option<f64>,
    /// Accuracy of the fine-tuned network's logits on the training rows.
    pub finetuned_train_accuracy: Option<f64>,
    /// Wall-clock seconds of training in this process. Never stored in the
    /// model file (it reads back as 0), so that one seed writes one file, byte
    /// for byte; the training log and `--json` carry the timing instead.
    #[serde(skip)]
    pub seconds: f64,
}

/// Checkpointing of a training run: the state to resume from, and where the
/// state goes after every epoch. The default does neither.
#[derive(Default)]
pub struct Checkpointing<'a> {
    /// A state to continue from (see [`TrainingState::load`]); it must come from a
    /// run of the same configuration on the same data.
    pub resume: Option<TrainingState>,
    /// Receives the run's state after every epoch (see [`crate::TrainingStateFile`]).
    pub sink: Option<&'a mut dyn TrainingStateSink>,
}

impl std::fmt::Debug for Checkpointing<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpointing")
            .field("resume", &self.resume.as_ref().map(TrainingState::describe))
            .field("sink", &self.sink.is_some())
            .finish()
    }
}

/// A parametric t-SNE map: embed new points with one forward pass.
///
/// # Example
/// ```no_run
/// use ssne_model::{ParametricTsne, Preset, TrainConfig, Silent};
/// let data = ssne_data::bundled::mnist_sample()?.rows(0..2000)?;
/// let config = TrainConfig::preset(Preset::Default, 7);
/// let model = ParametricTsne::fit(&data, None, &config, &mut Silent)?;
/// let map = model.embed(data.features.view())?;
/// assert_eq!(map.dim(), (2000, 2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ParametricTsne {
    /// The fine-tuned network; its head's output is the map.
    pub network: Network,
    /// The classifier as it was after pretraining (class saliency and
    /// classifier accuracy refer to it); `None` for unlabelled data.
    pub classifier: Option<Network>,
    /// The configuration that trained this model (with its seed).
    pub config: TrainConfig,
    /// The input scaling the model expects (applied to new data by [`ParametricTsne::prepare`]).
    pub scaling: Scaling,
    /// Image shape of the inputs, when they are images.
    pub image_shape: Option<[usize; 2]>,
    /// Class names, when known.
    pub label_names: Option<Vec<String>>,
    /// The map of the training rows.
    pub reference: Reference,
    /// How far training went.
    pub stage: ModelStage,
    /// Training figures.
    pub report: TrainReport,
}

impl ParametricTsne {
    /// Pretrains (when `train` is labelled and `config.pretrain.epochs > 0`) and
    /// fine-tunes a map of `train`. `validation` only feeds the held-out accuracy
    /// reported during pretraining.
    ///
    /// `train` may hold `f32` rows or `u8` codes ([`ssne_data::ByteFeatures`], from
    /// [`ssne_data::load_codes`]): every stage reads its rows a batch or a block at a time,
    /// decoded and scaled as they are read, so `u8` data trains in a quarter of the memory into
    /// the model the `f32` rows of the same file train, bit for bit.
    ///
    /// # Errors
    /// Invalid configuration, non-finite data, labels beyond the class count,
    /// a perplexity too large for the batches, or divergence.
    pub fn fit<F: Features>(
        train: &Dataset<F>,
        validation: Option<&Dataset>,
        config: &TrainConfig,
        observer: &mut dyn TrainObserver,
    ) -> Result<Self> {
        Self::fit_with(train, validation, config, observer, Checkpointing::default())
    }

    /// [`ParametricTsne::fit`] with checkpoints after every epoch and/or resumed
    /// from a checkpoint. A resumed run ends with exactly the model the
    /// uninterrupted run would have made.
    ///
    /// # Example
    /// ```no_run
    /// use ssne_model::{TrainingStateFile, Checkpointing, ParametricTsne, Preset, Silent, TrainConfig, TrainingState};
    /// let data = ssne_data::bundled::mnist_sample()?.rows(0..2000)?;
    /// let config = TrainConfig::preset(Preset::Default, 7);
    /// let path = std::env::temp_dir().join("run.ssne-state");
    /// // A first attempt, interrupted at some point, leaves the latest state in `path` ...
    /// let mut file = TrainingStateFile::new(&path);
    /// let checkpoints = Checkpointing { resume: None, sink: Some(&mut file) };
    /// let _ = ParametricTsne::fit_with(&data, None, &config, &mut Silent, checkpoints);
    /// // ... and a second one continues from it.
    /// let resume = Some(TrainingState::load(&path)?);
    /// let model = ParametricTsne::fit_with(&data, None, &config, &mut Silent, Checkpointing { resume, sink: None })?;
    /// assert_eq!(model.reference.embedding.nrows(), 2000);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`ParametricTsne::fit`], plus [`ModelError::ResumeMismatch`] when the
    /// state comes from another configuration or other data, and the sink's errors.
    pub fn fit_with<F: Features>(
        train: &Dataset<F>,
        validation: Option<&Dataset>,
        config: &TrainConfig,
        observer: &mut dyn TrainObserver,
        checkpointing: Checkpointing<'_>,
    ) -> Result<Self> {
        let Checkpointing { resume, mut sink } = checkpointing;
        // Before pretraining, which may take minutes, not after it.
        config.validate()?;
        config.finetune.check_training_rows(train.n_points())?;
        let data = match (&resume, &sink) {
            (None, None) => None,
            _ => Some(DataFingerprint::of(train)),
        };
        if let (Some(state), Some(data)) = (&resume, &data) {
            state.check_resumable(config, data)?;
        }
        let (mut model, finetune_from) = match resume {
            Some(state) if state.phase == Phase::Finetune => {
                let mut model = Self::untrained(train, config, state.network, state.classifier);
                model.report = state.report;
                (model, Some(state.progress))
            }
            pretrain_state => {
                let resume = pretrain_state.map(|s| (s.network, s.progress));
                let sink = sink.as_deref_mut().zip(data);
                (
                    Self::pretrained_with(train, validation, config, observer, resume, sink)?,
                    None,
                )
            }
        };
        model.finetune_with(train, observer, finetune_from, sink.zip(data))?;
        Ok(model)
    }

    /// Initialises the network and runs only the supervised pretraining
    /// (nothing for unlabelled data); [`ParametricTsne::finetune`] continues.
    ///
    /// # Errors
    /// As [`ParametricTsne::fit`].
    pub fn pretrained<F: Features>(
        train: &Dataset<F>,
        validation: Option<&Dataset>,
        config: &TrainConfig,
        observer: &mut dyn TrainObserver,
    ) -> Result<Self> {
        // The fine-tuning that follows needs enough rows for its perplexity:
        // say so before pretraining, which may take minutes.
        config.validate()?;
        config.finetune.check_training_rows(train.n_points())?;
        Self::pretrained_with(train, validation, config, observer, None, None)
    }

    fn pretrained_with<F: Features>(
        train: &Dataset<F>,
        validation: Option<&Dataset>,
        config: &TrainConfig,
        observer: &mut dyn TrainObserver,
        resume: Option<(Network, LoopState)>,
        mut sink: Option<(&mut (dyn TrainingStateSink + '_), DataFingerprint)>,
    ) -> Result<Self> {
        // `config` was validated by the public entry points.
        let started = Instant::now();
        let rows = train.features.feature_rows();
        check_rows(rows)?;
        let n_outputs = match (&train.labels, train.n_classes()) {
            (Some(_), Some(k)) => k.max(2),
            _ => config.unlabelled_outputs,
        };
        let spec = config.network_spec(train.n_features(), n_outputs);
        let (mut network, resume) = match resume {
            Some((network, progress)) => {
                if network.spec != spec {
                    return Err(ModelError::ResumeMismatch {
                        what: "the checkpoint's network does not fit this data's features and classes".into(),
                    });
                }
                (network, Some(progress))
            }
            None => {
                let mask = config.prune_constant_inputs.then(|| varying_rows(rows));
                let mut rng = rng_for(config.seed, RngStream::Init);
                let mut network = match spec.input_projection {
                    None => Network::init(spec, &mut rng)?,
                    Some(k) => {
                        let projection = input_projection(rows, k, mask.as_deref(), &spec, config.seed)?;
                        Network::init_projected(spec, projection, &mut rng)?
                    }
                };
                if let Some(mask) = mask {
                    network.set_input_mask(mask);
                }
                (network, None)
            }
        };
        let mut report = TrainReport::default();
        let mut classifier = None;
        if let (Some(labels), true) = (&train.labels, config.pretrain.epochs > 0) {
            let val = match validation {
                Some(v) => {
                    check_data(v.features.view())?;
                    network.check_features(v.n_features())?;
                    let labels = v.labels.as_deref().ok_or(ModelError::NoLabels {
                        what: "a validation set",
                    })?;
                    Some(Labelled {
                        x: v.features.view().into(),
                        labels,
                    })
                }
                None => None,
            };
            let mut rng = rng_for(config.seed, RngStream::PretrainOrder);
            let train_set = Labelled { x: rows, labels };
            let checkpointing = sink.is_some();
            let mut on_epoch = |net: &Network, progress: LoopState| match &mut sink {
                Some((sink, data)) => sink.save(&TrainingState {
                    config: config.clone(),
                    data: *data,
                    phase: Phase::Pretrain,
                    network: net.clone(),
                    classifier: None,
                    report: TrainReport::default(),
                    progress,
                }),
                None => Ok(()),
            };
            let control = LoopControl {
                resume,
                on_epoch: checkpointing.then_some(&mut on_epoch as _),
            };
            report.pretrain = Some(pretrain_with(
                &mut network,
                train_set,
                val,
                &config.pretrain,
                &mut rng,
                observer,
                control,
            )?);
            report.classifier_train_accuracy = Some(accuracy_rows(&network, rows, labels)?);
            classifier = Some(network.clone());
        }
        report.seconds = started.elapsed().as_secs_f64();
        let mut model = Self::untrained(train, config, network, classifier);
        model.report = report;
        Ok(model)
    }

    /// A model of `network` for `train` with no reference map yet.
    fn untrained<F: Features>(
        train: &Dataset<F>,
        config: &TrainConfig,
        network: Network,
        classifier: Option<Network>,
    ) -> Self {
        let embedding_dim = network.spec.embedding_dim;
        ParametricTsne {
            network,
            classifier,
            config: config.clone(),
            scaling: train.scaling.clone(),
            image_shape: train.image_shape,
            label_names: train.label_names.clone(),
            reference: Reference {
                embedding: Array2::zeros((0, embedding_dim)),
                labels: None,
                inputs: None,
                projection: None,
            },
            stage: ModelStage::Pretrained,
            report: TrainReport::default(),
        }
    }

    /// Fine-tunes the map on `train` with `self.config.finetune` and records the
    /// reference map of `train`. May be called on a fine-tuned model to continue.
    ///
    /// # Errors
    /// As [`ParametricTsne::fit`].
    pub fn finetune<F: Features>(&mut self, train: &Dataset<F>, observer: &mut dyn TrainObserver) -> Result<()> {
        self.finetune_with(train, observer, None, None)
    }

    fn finetune_with<F: Features>(
        &mut self,
        train: &Dataset<F>,
        observer: &mut dyn TrainObserver,
        resume: Option<LoopState>,
        mut sink: Option<(&mut (dyn TrainingStateSink + '_), DataFingerprint)>,
    ) -> Result<()> {
        self.config.validate()?;
        // Checked before training, not after it, when the reference is built.
        self.config.reference_space.validate()?;
        let rows = train.features.feature_rows();
        check_rows(rows)?;
        self.network.check_features(train.n_features())?;
        let started = Instant::now();
        let points = TrainingPoints {
            x: rows,
            labels: train.labels.as_deref(),
            image_shape: train.image_shape,
        };
        let mut rngs = FinetuneRngs::from_seed(self.config.seed);
        let (config, classifier, report) = (&self.config, &self.classifier, &self.report);
        let checkpointing = sink.is_some();
        let mut on_epoch = |net: &Network, progress: LoopState| match &mut sink {
            Some((sink, data)) => sink.save(&TrainingState {
                config: config.clone(),
                data: *data,
                phase: Phase::Finetune,
                network: net.clone(),
                classifier: classifier.clone(),
                // A state holds exactly what its file holds, and the file
                // never stores wall-clock time.
                report: TrainReport {
                    seconds: 0.0,
                    ..report.clone()
                },
                progress,
            }),
            None => Ok(()),
        };
        let control = LoopControl {
            resume,
            on_epoch: checkpointing.then_some(&mut on_epoch as _),
        };
        let finetuned = finetune_with(
            &mut self.network,
            points,
            &config.finetune,
            &mut rngs,
            observer,
            control,
        )?;
        self.report.finetune = Some(finetuned);
        if let Some(labels) = &train.labels {
            self.report.finetuned_train_accuracy = Some(accuracy_rows(&self.network, rows, labels)?);
        }
        self.reference = Reference {
            embedding: self.embed_rows(rows)?,
            labels: train.labels.clone(),
            inputs: None,
            projection: None,
        };
        if self.config.keep_reference_inputs {
            self.set_reference_rows(rows, self.config.reference_space)?;
        }
        self.stage = ModelStage::Finetuned;
        self.report.seconds += started.elapsed().as_secs_f64();
        Ok(())
    }

    /// Keeps `train`, the rows the reference map was made of, as the reference
    /// inputs for refinement, in `space` (fitting the PCA, seeded by the model's
    /// seed, on `train`), and records `space` in the model's configuration.
    /// Training calls it; call it to store an existing model's reference another way.
    ///
    /// # Errors
    /// [`ModelError::CountMismatch`] when `train` does not have one row per point of
    /// the reference map, [`ModelError::FeatureCount`], [`ModelError::NonFinite`],
    /// [`ModelError::Config`] for a PCA with 0 components.
    ///
    /// # Example
    /// ```no_run
    /// use ssne_model::{ParametricTsne, Preset, ReferenceSpace, Silent, TrainConfig};
    /// let train = ssne_data::bundled::mnist_sample()?.rows(0..2000)?;
    /// let mut model = ParametricTsne::fit(&train, None, &TrainConfig::preset(Preset::Default, 7), &mut Silent)?;
    /// model.set_reference_inputs(train.features.view(), ReferenceSpace::Pca { components: 30 })?;
    /// assert_eq!(model.reference.inputs.as_ref().map(|x| x.ncols()), Some(30));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_reference_inputs(&mut self, train: ArrayView2<'_, f32>, space: ReferenceSpace) -> Result<()> {
        self.set_reference_rows(train.into(), space)
    }

    /// [`ParametricTsne::set_reference_inputs`] of rows in either storage (`u8` codes are
    /// projected a block at a time; raw inputs are kept as `f32`).
    ///
    /// # Errors
    /// As [`ParametricTsne::set_reference_inputs`].
    pub fn set_reference_rows(&mut self, train: FeatureRows<'_>, space: ReferenceSpace) -> Result<()> {
        space.validate()?;
        self.network.check_features(train.ncols())?;
        check_rows(train)?;
        if train.nrows() != self.reference.embedding.nrows() {
            return Err(ModelError::CountMismatch {
                what: "reference inputs (one row per point of the reference map)",
                expected: self.reference.embedding.nrows(),
                found: train.nrows(),
            });
        }
        let (inputs, projection) = match space {
            ReferenceSpace::Pca { components } if components < train.ncols() => {
                let pca = Pca::fit_rows(
                    train,
                    components.min(train.nrows()),
                    self.config.seed,
                    crate::pca::PcaOptions::default(),
                )?;
                (pca.transform_rows(train)?, Some(pca))
            }
            _ => (train.to_f32().into_owned(), None),
        };
        self.reference.inputs = Some(inputs);
        self.reference.projection = projection;
        self.config.reference_space = space;
        Ok(())
    }

    /// Number of input features the model expects.
    pub fn n_features(&self) -> usize {
        self.network.n_features()
    }

    /// Applies the model's recorded input scaling to a dataset that has none yet,
    /// so new data is seen exactly as the training data was.
    ///
    /// # Errors
    /// [`ModelError::FeatureCount`] for data of the wrong width, or a scaling error.
    pub fn prepare<F: Features>(&self, data: &mut Dataset<F>) -> Result<()> {
        self.network.check_features(data.n_features())?;
        if data.scaling == Scaling::None && self.scaling != Scaling::None {
            data.apply_scaling(&self.scaling)?;
        }
        Ok(())
    }

    /// Renumbers the labels of `data` as the model numbers its classes, matching them by the
    /// values the user gave ([`Dataset::label_names`], or the numbers themselves), so a test file
    /// that lacks a class, or orders its names differently, is compared class for class. A model
    /// without a classifier (trained on unlabelled data) leaves the labels as they are.
    ///
    /// # Errors
    /// [`ModelError::UnknownLabels`] when a label that occurs in `data` is none of the model's
    /// classes.
    pub fn align_labels(&self, data: &mut Dataset) -> Result<()> {
        let (Some(classifier), Some(counts)) = (&self.classifier, data.class_counts()) else {
            return Ok(());
        };
        let shown = |names: Option<&Vec<String>>, class: usize| {
            names
                .and_then(|names| names.get(class))
                .cloned()
                .unwrap_or_else(|| class.to_string())
        };
        let known: Vec<String> = (0..classifier.spec.n_outputs())
            .map(|class| shown(self.label_names.as_ref(), class))
            .collect();
        let mut to_model = Vec::with_capacity(counts.len());
        let mut unknown = Vec::new();
        for (label, &count) in counts.iter().enumerate() {
            let name = shown(data.label_names.as_ref(), label);
            match known.iter().position(|k| *k == name) {
                Some(class) => to_model.push(class as u32),
                None => {
                    if count > 0 && unknown.len() < 10 {
                        unknown.push(name);
                    }
                    to_model.push(0);
                }
            }
        }
        if !unknown.is_empty() {
            return Err(ModelError::UnknownLabels {
                unknown,
                known: known.into_iter().take(20).collect(),
            });
        }
        if let Some(labels) = data.labels.as_mut() {
            for label in labels.iter_mut() {
                *label = to_model[*label as usize];
            }
        }
        data.label_names = self.label_names.clone();
        Ok(())
    }

    /// Maps the rows of `x` (already prepared) to 2-D: one forward pass
    /// ([`Network::embed_into`]: tape-free, in parallel chunks, checking the
    /// inputs are finite in the same pass).
    ///
    /// # Errors
    /// [`ModelError::FeatureCount`] or [`ModelError::NonFinite`].
    pub fn embed(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        self.network.check_features(x.ncols())?;
        let mut out = Array2::zeros((x.nrows(), self.network.spec.embedding_dim));
        self.network.embed_into(x, out.view_mut())?;
        Ok(out)
    }

    /// [`ParametricTsne::embed`] of rows in either storage ([`Network::embed_rows_into`]: codes
    /// are decoded a block of rows at a time inside the parallel tasks). Equal, bit for bit, to
    /// [`ParametricTsne::embed`] of the decoded rows.
    ///
    /// # Errors
    /// As [`ParametricTsne::embed`].
    pub fn embed_rows(&self, x: FeatureRows<'_>) -> Result<Array2<f32>> {
        self.network.check_features(x.ncols())?;
        let mut out = Array2::zeros((x.nrows(), self.network.spec.embedding_dim));
        self.network.embed_rows_into(x, out.view_mut())?;
        Ok(out)
    }

    /// Embeds `x` with the network, then refines each point against the frozen
    /// training map (see [`crate::refine`]; with a PCA reference, the neighbours
    /// of `x` are searched among the projected reference inputs after projecting
    /// `x` the same way): slower than [`ParametricTsne::embed`] but closer to
    /// non-parametric t-SNE quality. The network's output and each
    /// point's shift stay available in the result, since saliency maps explain
    /// the network's output, not the refined position.
    ///
    /// # Errors
    /// [`ModelError::NoReferenceInputs`] when the model was saved without its
    /// training inputs, plus the errors of [`ParametricTsne::embed`] and [`crate::refine::refine`].
    pub fn embed_refined(&self, x: ArrayView2<'_, f32>, config: &RefineConfig) -> Result<(Array2<f32>, Refined)> {
        let start = self.embed(x)?;
        let refined = self.refine_from(x, start.view(), config)?;
        Ok((start, refined))
    }

    /// Refines `start`, the network's map of `x` already computed (by
    /// [`ParametricTsne::embed`]), against the frozen training map.
    ///
    /// # Errors
    /// As [`ParametricTsne::embed_refined`].
    pub fn refine_from(
        &self,
        x: ArrayView2<'_, f32>,
        start: ArrayView2<'_, f32>,
        config: &RefineConfig,
    ) -> Result<Refined> {
        self.network.check_features(x.ncols())?;
        check_data(x)?;
        let inputs = self.reference.inputs.as_ref().ok_or(ModelError::NoReferenceInputs)?;
        let reference = RefineReference {
            inputs: inputs.view(),
            map: self.reference.embedding.view(),
            labels: self.reference.labels.as_deref(),
        };
        match &self.reference.projection {
            Some(pca) => refine(reference, pca.transform(x)?.view(), start, config),
            None => refine(reference, x, start, config),
        }
    }

    /// The refinement settings that match this model (its kernel and seed).
    pub fn refine_config(&self, steps: usize) -> RefineConfig {
        RefineConfig {
            steps,
            dof: self.config.finetune.dof,
            seed: self.config.seed,
            ..RefineConfig::default()
        }
    }

    /// Class predictions of the pretrained classifier.
    ///
    /// # Errors
    /// [`ModelError::NoLabels`] when the model has no classifier.
    pub fn classify(&self, x: ArrayView2<'_, f32>) -> Result<Vec<u32>> {
        let classifier = self
            .classifier
            .as_ref()
            .ok_or(ModelError::NoLabels { what: "classification" })?;
        classifier.check_features(x.ncols())?;
        check_data(x)?;
        let (logits, _) = classifier.infer(x)?;
        Ok(ssne_tensor::argmax_rows(logits.view()))
    }
}

fn check_data(x: ArrayView2<'_, f32>) -> Result<()> {
    match find_non_finite(x) {
        Some((row, col)) => Err(ModelError::NonFinite { row, col }),
        None => Ok(()),
    }
}

/// [`check_data`] of rows in either storage (codes are checked through their table).
fn check_rows(x: FeatureRows<'_>) -> Result<()> {
    match x {
        FeatureRows::F32(x) => check_data(x),
        rows => match rows.find_non_finite() {
            Some((row, col)) => Err(ModelError::NonFinite { row, col }),
            None => Ok(()),
        },
    }
}

/// The fixed input projection of `spec` (`k` components): the PCA-k of the
/// training inputs, seeded by the run's seed, with masked inputs' rows zero,
/// centred when the network has biases.
fn input_projection(
    x: FeatureRows<'_>,
    k: usize,
    keep: Option<&[bool]>,
    spec: &crate::NetworkSpec,
    seed: u64,
) -> Result<crate::Dense> {
    spec.validate()?;
    let pca = Pca::fit_rows(x, k, seed, crate::pca::PcaOptions::default()).map_err(|e| match e {
        crate::pca::PcaError::Components { k, max, .. } => crate::error::config_error(
            "input_pca",
            k,
            format!("1 to {max} components (the smaller of the training rows and features)"),
        ),
        other => other.into(),
    })?;
    Ok(crate::Dense::pca_projection(&pca, keep, spec.biases))
}

/// `true` for every input column that is not constant over the rows of `x`.
pub fn varying_inputs(x: ArrayView2<'_, f32>) -> Vec<bool> {
    varying_rows(x.into())
}

/// [`varying_inputs`] of rows in either storage, a block of rows at a time.
fn varying_rows(x: FeatureRows<'_>) -> Vec<bool> {
    let mut first: Option<Vec<f32>> = None;
    let mut varying = vec![false; x.ncols()];
    // Infallible: the closure returns no error.
    let _ = for_chunks(x, |_, chunk| {
        let first = first.get_or_insert_with(|| chunk.row(0).to_vec());
        for (col, values) in chunk.axis_iter(Axis(1)).enumerate() {
            if !varying[col] {
                varying[col] = values.iter().any(|&v| v != first[col]);
            }
        }
        Ok(())
    });
    varying
}
