//! Training configuration: validated, serialisable, with the paper's preset and the measured defaults.

use serde::{Deserialize, Serialize};

use crate::Result;
use crate::activation::Activation;
use crate::error::config_error;
use crate::model::ReferenceSpace;
use crate::network::{HeadInput, NetworkSpec, Trainable};
use crate::optim::{AdamConfig, LrSchedule};

/// Supervised pretraining of the classifier (softmax cross-entropy).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PretrainConfig {
    /// Passes over the training data; 0 skips pretraining.
    pub epochs: usize,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Optimiser.
    pub adam: AdamConfig,
}

/// How fine-tuning forms its batches and its loss.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Scheme {
    /// The paper's method: the training points are cut once into fixed batches;
    /// each batch's P comes from its own input points (dense, perplexity
    /// search); every epoch visits the batches in a new order; loss KL(P||Q).
    FixedBatches {
        /// Passes over the training data.
        epochs: usize,
    },
    /// Batches re-drawn every epoch; each batch's P is cut from one global kNN P
    /// of the whole training set and renormalised; loss KL(P||Q).
    RedrawnBatches {
        /// Passes over the training data.
        epochs: usize,
    },
    /// Full coupling: each step samples edges (i, j) with probability P_ij of
    /// the global kNN P, embeds their endpoints and minimises the mean
    /// attraction -log w(|y_i - y_j|^2) plus the log of the mean kernel over all
    /// pairs of the step's points (an in-batch estimate of log Z), so the map is
    /// optimised at the scale of the whole set.
    Coupled {
        /// Optimiser steps.
        steps: usize,
        /// Edges sampled per step (the step embeds twice as many points).
        edges_per_step: usize,
    },
    /// Negative sampling (Neg-t-SNE, Damrich et al. 2022): edges sampled as in
    /// `Coupled`, each contrasted with a few negative pairs from the step's
    /// points through a fixed normalisation `Z̄` instead of the in-batch `ln Z`.
    NegativeSampling {
        /// Optimiser steps.
        steps: usize,
        /// Edges sampled per step.
        edges_per_step: usize,
        /// Negative pairs per edge.
        negatives_per_edge: usize,
        /// The fixed normalisation `Z̄` of `q = w / Z̄` (larger: less repulsion).
        z_bar: f64,
    },
}

impl Scheme {
    /// The default preset's full coupling: 6000 steps of 500 edges (1000 points
    /// a step). With the default perplexity of 15 it measured better on the
    /// validation split than 3000 steps, or 250, 1000 or 2000 edges
    /// (`docs/QUALITY.md`).
    pub const DEFAULT_COUPLED: Scheme = Scheme::Coupled {
        steps: Self::DEFAULT_STEPS,
        edges_per_step: Self::DEFAULT_EDGES_PER_STEP,
    };
    /// Steps of [`Scheme::DEFAULT_COUPLED`].
    pub const DEFAULT_STEPS: usize = 6000;
    /// Edges per step of [`Scheme::DEFAULT_COUPLED`].
    pub const DEFAULT_EDGES_PER_STEP: usize = 500;
    /// The most edges one step may sample: a step's `2 * edges` rows are indexed by `u32`, and a
    /// step of 16 M edges is already far past any batch that fits a gradient step in memory.
    pub const MAX_EDGES_PER_STEP: usize = 1 << 24;
    /// Negative pairs per edge of [`Scheme::NegativeSampling`] when none is chosen.
    pub const DEFAULT_NEGATIVES_PER_EDGE: usize = 5;
    /// The fixed normalisation `Z̄` of [`Scheme::NegativeSampling`] when none is chosen.
    pub const DEFAULT_Z_BAR: f64 = 0.1;

    /// Coupled (or negative-sampling) steps that together sample about as many endpoints as there
    /// are training points (each edge embeds two): one pass over the points, the unit of the
    /// data-dependent length rule ([`TrainConfig::FINETUNE_POINT_PASSES`]). Not the epoch of
    /// [`FinetuneConfig::graph_epochs`], a pass over the graph's edges ([`Scheme::graph_epoch_steps`]),
    /// which is about `nnz(P) / (2 n)` times longer. At least 1.
    ///
    /// ```
    /// use ssne_model::Scheme;
    /// // 8000 points, 500 edges (1000 endpoints) a step: 8 steps an epoch.
    /// assert_eq!(Scheme::steps_per_epoch(8000, 500), 8);
    /// assert_eq!(Scheme::steps_per_epoch(1500, 500), 2);
    /// ```
    pub fn steps_per_epoch(n_train: usize, edges_per_step: usize) -> usize {
        n_train.div_ceil(2 * edges_per_step.max(1)).max(1)
    }

    /// Steps of one pass over a kNN graph of `n_edges` stored entries (both directions of each
    /// edge) at `edges_per_step` edges a step: the epoch of [`FinetuneConfig::graph_epochs`].
    ///
    /// ```
    /// use ssne_model::Scheme;
    /// assert_eq!(Scheme::graph_epoch_steps(480_000, 500), 960.0);
    /// ```
    pub fn graph_epoch_steps(n_edges: usize, edges_per_step: usize) -> f64 {
        n_edges as f64 / edges_per_step.max(1) as f64
    }

    /// The steps of `epochs` passes over a graph of `n_edges` entries: rounded, at least 1.
    ///
    /// # Errors
    /// [`crate::ModelError::Config`] when that is more than [`Scheme::MAX_STEPS`].
    ///
    /// ```
    /// use ssne_model::Scheme;
    /// assert_eq!(Scheme::steps_for_graph_epochs(2.5, 480_000, 500)?, 2400);
    /// assert_eq!(Scheme::steps_for_graph_epochs(1e-9, 480_000, 500)?, 1);
    /// assert!(Scheme::steps_for_graph_epochs(1e12, 480_000, 500).is_err());
    /// # Ok::<(), ssne_model::ModelError>(())
    /// ```
    pub fn steps_for_graph_epochs(epochs: f64, n_edges: usize, edges_per_step: usize) -> Result<usize> {
        let steps = (epochs * Self::graph_epoch_steps(n_edges, edges_per_step)).round();
        if steps.is_nan() || steps > Self::MAX_STEPS as f64 {
            return Err(config_error(
                "finetune.graph_epochs",
                epochs,
                format!(
                    "at most {} steps; {epochs} epochs of {n_edges} edges at {edges_per_step} a step are {steps}",
                    Self::MAX_STEPS
                ),
            ));
        }
        Ok((steps as usize).max(1))
    }

    /// The most steps an epoch count may ask for (a bound on typing errors, ~1000 days here).
    pub const MAX_STEPS: usize = 1 << 32;

    /// A short name for logs and reports.
    pub fn name(&self) -> &'static str {
        match self {
            Scheme::FixedBatches { .. } => "fixed-batches",
            Scheme::RedrawnBatches { .. } => "redrawn-batches",
            Scheme::Coupled { .. } => "coupled",
            Scheme::NegativeSampling { .. } => "negative-sampling",
        }
    }
}

/// Fine-tuning of the whole map with a t-SNE loss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinetuneConfig {
    /// Batch formation and loss.
    pub scheme: Scheme,
    /// Batch size for the batch schemes (ignored by `Coupled`).
    pub batch_size: usize,
    /// Target perplexity of the input affinities.
    pub perplexity: f64,
    /// Degrees of freedom of the Student-t kernel of Q (1 = Cauchy, classic t-SNE).
    pub dof: f64,
    /// Early exaggeration: factor on the attraction term only (1 = off).
    pub exaggeration: f32,
    /// Fraction of the fine-tuning run during which exaggeration applies.
    pub exaggeration_fraction: f32,
    /// Which parameters are fine-tuned.
    pub trainable: Trainable,
    /// Weight of a cross-entropy term kept during fine-tuning (0 = off), which keeps
    /// the fine-tuned network a classifier at some cost in map quality.
    pub ce_weight: f32,
    /// Optimiser.
    pub adam: AdamConfig,
    /// Random shifts of image inputs by up to this many pixels in each
    /// direction at every fine-tuning step (0 = off); P is still computed from
    /// the unshifted inputs. Data without an image shape is never shifted.
    pub shift_pixels: u8,
    /// How the global P of the edge-sampling and redrawn-batch schemes finds each
    /// point's neighbours.
    #[serde(default)]
    pub knn: KnnSearch,
    /// The space of that search: the inputs as they are, or their projection on the
    /// top principal directions of the training points (e.g. PCA-50 for images).
    #[serde(default = "raw_space")]
    pub knn_space: ReferenceSpace,
    /// The length of an edge-sampling run (coupled, negative sampling) in passes over the kNN
    /// graph: one epoch is `nnz(P) / edges_per_step` steps, `nnz` counting both directions of
    /// every edge of the symmetrised P ([`Scheme::graph_epoch_steps`]). When set it replaces the
    /// scheme's `steps`; `None` keeps them.
    #[serde(default)]
    pub graph_epochs: Option<f64>,
    /// The early-exaggeration phase in epochs (passes over the graph for the edge-sampling
    /// schemes, over the data for the batch schemes). When set it replaces
    /// `exaggeration_fraction`.
    #[serde(default)]
    pub exaggeration_epochs: Option<f64>,
    /// Extra repulsion of mid-near pairs (edge-sampling schemes only; `None` = off).
    #[serde(default)]
    pub mid_near: Option<MidNearRepulsion>,
}

/// Repulsion of mid-near pairs in the style of ParamRepulsor (Huang, Wang & Rudin 2024): for
/// each point of a step, `pairs_per_point` times, [`MidNearRepulsion::CANDIDATES`] other points
/// of the step are drawn and the second nearest of them in input space is its mid-near partner;
/// the loss gains `weight * ln(mean kernel over those pairs)`, an in-batch `ln Z` restricted to
/// mid-near pairs, which pushes apart points that are close in the map but not neighbours.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MidNearRepulsion {
    /// Factor on the mid-near term (1 gives it the weight of the in-batch `ln Z` of all pairs).
    pub weight: f32,
    /// Mid-near pairs drawn per point of a step.
    pub pairs_per_point: usize,
}

impl MidNearRepulsion {
    /// Random candidates behind each mid-near pair (PaCMAP's and ParamRepulsor's 6).
    pub const CANDIDATES: usize = 6;
    /// The most pairs per point a step may draw.
    pub const MAX_PAIRS_PER_POINT: usize = 64;
    /// Pairs per point when only a weight is chosen.
    pub const DEFAULT_PAIRS_PER_POINT: usize = 1;
}

fn raw_space() -> ReferenceSpace {
    ReferenceSpace::Raw
}

/// The neighbour search behind the global P.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum KnnSearch {
    /// Exact search ([`ssne_affinity::knn`]): `O(n^2 d)`.
    Exact,
    /// NN-descent seeded by random-projection trees ([`ssne_affinity::nn_descent`]), about
    /// `O(n^1.14 d)`; its recall on a sample of rows is reported to the training observer.
    Approximate,
    /// Exact below [`KnnSearch::AUTO_APPROXIMATE_FROM`] points, approximate from there on.
    #[default]
    Auto,
}

impl KnnSearch {
    /// Where `Auto` switches to the approximate search. Measured on Fashion-MNIST's PCA-50
    /// projection, k = 90, release build, 2 cores shared with other jobs (noisy): 10,000 points
    /// take 0.21 s exact and 1.9 s approximate (criterion medians), 60,000 points 14.7 s exact
    /// and 22.2 s approximate (medians of 3 paired runs; recall 1.0). The exact search grows as
    /// `n^2`, the approximate one about as `n^1.14`, so they cross near 80,000 points.
    pub const AUTO_APPROXIMATE_FROM: usize = 100_000;

    /// Whether the search on `n_points` points is the approximate one.
    ///
    /// ```
    /// use ssne_model::KnnSearch;
    /// assert!(!KnnSearch::Auto.is_approximate(60_000));
    /// assert!(KnnSearch::Auto.is_approximate(1_000_000));
    /// assert!(KnnSearch::Approximate.is_approximate(10));
    /// ```
    pub fn is_approximate(self, n_points: usize) -> bool {
        match self {
            KnnSearch::Exact => false,
            KnnSearch::Approximate => true,
            KnnSearch::Auto => n_points >= Self::AUTO_APPROXIMATE_FROM,
        }
    }
}

/// Everything that determines a training run, stored with the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Seed of every random draw (initialisation, batch order, edge sampling).
    pub seed: u64,
    /// Hidden widths between the input and the classifier output (e.g. `[100]`).
    pub hidden_widths: Vec<usize>,
    /// A fixed projection of the inputs on their top `K` principal directions
    /// (fitted on the training rows, stored in the model) before the first
    /// layer, or `None` ([`NetworkSpec::input_projection`]).
    pub input_pca: Option<usize>,
    /// Units of the classifier output for unlabelled data (labelled data uses the class count).
    pub unlabelled_outputs: usize,
    /// Activation after hidden layers.
    pub hidden_activation: Activation,
    /// Activation on the head's input.
    pub feature_activation: Activation,
    /// Which layer feeds the head.
    pub head_input: HeadInput,
    /// Fixed factor on the map's output.
    pub output_scale: f32,
    /// Hold the first-layer weights of inputs that are constant in the training data at zero.
    pub prune_constant_inputs: bool,
    /// Keep the training inputs in the model, for refined placement of new points.
    pub keep_reference_inputs: bool,
    /// Supervised pretraining.
    pub pretrain: PretrainConfig,
    /// t-SNE fine-tuning.
    pub finetune: FinetuneConfig,
    /// The space the kept reference inputs are stored in (raw or a PCA projection).
    pub reference_space: ReferenceSpace,
    /// Whether the layers and the head have biases ([`NetworkSpec::biases`]; `false` in
    /// [`Preset::Additive`]).
    pub biases: bool,
}

/// Named configurations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// The measured best defaults (see the crate README for the figures).
    Default,
    /// The exact method of the paper: identity on the logits, fixed batches of
    /// 1000 with per-batch P, 200 epochs, Adam 1e-3.
    Paper,
    /// Exact additive attribution: the default preset's training with a network
    /// whose map is positively homogeneous ([`NetworkSpec::is_homogeneous`]): no
    /// biases, ReLU hidden units, identity on the logits (no tanh) and the
    /// paper's output scale of 1. Then `Y(x) = J(x) x` exactly, so a point's map
    /// position is the sum of per-input contributions `x_j ∂Y/∂x_j`, with no
    /// remainder, relative to the origin of the map, where the (scaled) all-zero
    /// input lies.
    Additive,
}

impl FinetuneConfig {
    /// Epochs of the batch schemes when none is chosen (the paper's 200), also the epoch count a
    /// switch from an edge-sampling scheme to a batch scheme starts from.
    pub const DEFAULT_EPOCHS: usize = 200;
    /// The exaggerated share of the run when an exaggeration factor is set on a config whose
    /// fraction is 0: keeping that 0 would silently switch the exaggeration off.
    pub const DEFAULT_EXAGGERATION_FRACTION: f32 = 0.25;

    /// Sets the early-exaggeration factor; a fraction of 0 (the presets') becomes
    /// [`FinetuneConfig::DEFAULT_EXAGGERATION_FRACTION`], so that the factor takes effect. A
    /// fraction already set is kept; set `exaggeration_fraction` afterwards to choose another.
    ///
    /// ```
    /// use ssne_model::{Preset, TrainConfig};
    /// let mut config = TrainConfig::preset(Preset::Default, 42).finetune;
    /// config.set_exaggeration(4.0);
    /// assert_eq!((config.exaggeration, config.exaggeration_fraction), (4.0, 0.25));
    /// ```
    pub fn set_exaggeration(&mut self, factor: f32) {
        self.exaggeration = factor;
        if self.exaggeration_fraction == 0.0 {
            self.exaggeration_fraction = Self::DEFAULT_EXAGGERATION_FRACTION;
        }
    }

    /// Checks that `n_points` training rows can be fine-tuned at this
    /// perplexity, so that a run stops before pretraining rather than after it.
    /// The batch schemes need it of their smallest batch; the others of all rows
    /// (the rule of [`ssne_affinity::knn_neighbour_count`]).
    ///
    /// # Errors
    /// [`crate::ModelError::PerplexityTooLargeForRows`], or
    /// [`crate::ModelError::TooFewPoints`] for batches of fewer than 3 points.
    pub fn check_training_rows(&self, n_points: usize) -> Result<()> {
        let too_large = |found: usize| crate::ModelError::PerplexityTooLargeForRows {
            perplexity: self.perplexity,
            needed: (self.perplexity.floor() as usize).saturating_add(2),
            found,
            limit: found.saturating_sub(1),
        };
        match self.scheme {
            Scheme::FixedBatches { .. } | Scheme::RedrawnBatches { .. } => {
                let smallest = n_points / n_points.div_ceil(self.batch_size.max(1)).max(1);
                if smallest < 3 {
                    return Err(crate::ModelError::TooFewPoints {
                        what: "fine-tuning batches",
                        needed: 3,
                        found: smallest,
                    });
                }
                if self.perplexity >= (smallest - 1) as f64 {
                    return Err(too_large(smallest));
                }
                Ok(())
            }
            _ => {
                let perplexity = ssne_affinity::Perplexity::new(self.perplexity)?;
                match ssne_affinity::knn_neighbour_count(perplexity, n_points) {
                    Ok(_) => Ok(()),
                    Err(ssne_affinity::AffinityError::PerplexityTooLarge { .. }) => Err(too_large(n_points)),
                    Err(e) => Err(e.into()),
                }
            }
        }
    }
}

impl TrainConfig {
    /// The configuration of a preset with the given seed.
    pub fn preset(preset: Preset, seed: u64) -> Self {
        let adam = AdamConfig::default();
        let paper = TrainConfig {
            seed,
            hidden_widths: vec![100],
            input_pca: None,
            unlabelled_outputs: 10,
            hidden_activation: Activation::Relu,
            feature_activation: Activation::Identity,
            head_input: HeadInput::Logits,
            output_scale: 1.0,
            prune_constant_inputs: false,
            keep_reference_inputs: true,
            pretrain: PretrainConfig {
                epochs: 10,
                batch_size: 128,
                adam,
            },
            finetune: FinetuneConfig {
                scheme: Scheme::FixedBatches {
                    epochs: FinetuneConfig::DEFAULT_EPOCHS,
                },
                batch_size: 1000,
                perplexity: 30.0,
                dof: 1.0,
                exaggeration: 1.0,
                exaggeration_fraction: 0.0,
                trainable: Trainable::All,
                ce_weight: 0.0,
                adam,
                shift_pixels: 0,
                knn: KnnSearch::Auto,
                knn_space: ReferenceSpace::Raw,
                graph_epochs: None,
                exaggeration_epochs: None,
                mid_near: None,
            },
            // PCA-50 refines better than the raw pixels on the validation split
            // (denoised neighbours), in half the time, from a model file a tenth the size.
            reference_space: ReferenceSpace::Pca { components: 50 },
            biases: true,
        };
        // umap-learn's encoder: three ReLU layers of 100 and a linear 2-D output on the last
        // one. Ahead of 784-100-10 with tanh on the logits on both validation splits
        // (docs/QUALITY.md, "The wide encoder"); the classifier still reads a 100->10 layer.
        let default = TrainConfig {
            hidden_widths: vec![100, 100, 100],
            head_input: HeadInput::Hidden,
            feature_activation: Activation::Identity,
            output_scale: 10.0,
            prune_constant_inputs: true,
            finetune: FinetuneConfig {
                scheme: Scheme::DEFAULT_COUPLED,
                // Lower than the paper's 30: with twice the steps, 15 measured best
                // among 10, 15, 20 and 30 on the validation split.
                perplexity: 15.0,
                adam: AdamConfig {
                    lr: 2e-3,
                    schedule: LrSchedule::Constant,
                    ..adam
                },
                shift_pixels: 1,
                ..paper.finetune.clone()
            },
            ..paper.clone()
        };
        match preset {
            Preset::Paper => paper,
            Preset::Default => default,
            // Kept at 784-100-10 on the logits: the network its study measured (docs/SALIENCY.md).
            Preset::Additive => TrainConfig {
                hidden_widths: vec![100],
                head_input: HeadInput::Logits,
                feature_activation: Activation::Identity,
                output_scale: 1.0,
                biases: false,
                ..default
            },
        }
    }

    /// The network spec for data with `n_features` inputs and `n_outputs` classifier outputs.
    pub fn network_spec(&self, n_features: usize, n_outputs: usize) -> NetworkSpec {
        let mut layer_widths = vec![n_features];
        layer_widths.extend(&self.hidden_widths);
        layer_widths.push(n_outputs);
        NetworkSpec {
            layer_widths,
            hidden_activation: self.hidden_activation,
            head_input: self.head_input,
            feature_activation: self.feature_activation,
            embedding_dim: 2,
            output_scale: self.output_scale,
            biases: self.biases,
            input_projection: self.input_pca,
        }
    }

    /// Checks every range; a config that passes can be trained.
    ///
    /// # Errors
    /// [`crate::ModelError::Config`] naming the first bad field and what is allowed.
    pub fn validate(&self) -> Result<()> {
        let p = &self.pretrain;
        if p.epochs > 0 && p.batch_size == 0 {
            return Err(config_error("pretrain.batch_size", 0, "at least 1"));
        }
        p.adam.validate("pretrain.adam")?;
        let f = &self.finetune;
        f.adam.validate("finetune.adam")?;
        if !(f.perplexity.is_finite() && f.perplexity > 0.0) {
            return Err(config_error(
                "finetune.perplexity",
                f.perplexity,
                "a finite number > 0 (typically 5 to 50)",
            ));
        }
        if !(f.dof.is_finite() && f.dof > 0.0) {
            return Err(config_error(
                "finetune.dof",
                f.dof,
                "a finite number > 0 (1 is classic t-SNE)",
            ));
        }
        if !(f.exaggeration.is_finite() && f.exaggeration >= 1.0) {
            return Err(config_error(
                "finetune.exaggeration",
                f.exaggeration,
                "a number >= 1 (1 = off)",
            ));
        }
        if !(0.0..=1.0).contains(&f.exaggeration_fraction) {
            return Err(config_error(
                "finetune.exaggeration_fraction",
                f.exaggeration_fraction,
                "a fraction in [0, 1]",
            ));
        }
        if let Some(epochs) = f.exaggeration_epochs
            && !(epochs.is_finite() && epochs >= 0.0)
        {
            return Err(config_error(
                "finetune.exaggeration_epochs",
                epochs,
                "a number of epochs >= 0",
            ));
        }
        let edge_sampling = matches!(f.scheme, Scheme::Coupled { .. } | Scheme::NegativeSampling { .. });
        if let Some(epochs) = f.graph_epochs {
            if !edge_sampling {
                return Err(config_error(
                    "finetune.graph_epochs",
                    epochs,
                    "unset for the batch schemes, whose scheme counts epochs over the data",
                ));
            }
            if !(epochs.is_finite() && epochs > 0.0) {
                return Err(config_error(
                    "finetune.graph_epochs",
                    epochs,
                    "a finite number of epochs > 0",
                ));
            }
        }
        if let Some(mid_near) = f.mid_near {
            if !edge_sampling {
                return Err(config_error(
                    "finetune.mid_near",
                    f.scheme.name(),
                    "the coupled or negative-sampling scheme (mid-near pairs are drawn among a step's points)",
                ));
            }
            if !(mid_near.weight.is_finite() && mid_near.weight > 0.0) {
                return Err(config_error(
                    "finetune.mid_near.weight",
                    mid_near.weight,
                    "a finite number > 0 (leave mid-near repulsion unset to turn it off)",
                ));
            }
            if !(1..=MidNearRepulsion::MAX_PAIRS_PER_POINT).contains(&mid_near.pairs_per_point) {
                return Err(config_error(
                    "finetune.mid_near.pairs_per_point",
                    mid_near.pairs_per_point,
                    format!("from 1 to {}", MidNearRepulsion::MAX_PAIRS_PER_POINT),
                ));
            }
        }
        if !(f.ce_weight.is_finite() && f.ce_weight >= 0.0) {
            return Err(config_error("finetune.ce_weight", f.ce_weight, "a number >= 0"));
        }
        match f.scheme {
            Scheme::FixedBatches { .. } | Scheme::RedrawnBatches { .. } => {
                if f.batch_size < 3 {
                    return Err(config_error(
                        "finetune.batch_size",
                        f.batch_size,
                        "at least 3 points per batch",
                    ));
                }
                if f.perplexity >= (f.batch_size - 1) as f64 {
                    return Err(config_error(
                        "finetune.perplexity",
                        f.perplexity,
                        format!(
                            "below batch size - 1 = {} (lower the perplexity or raise --batch-size)",
                            f.batch_size - 1
                        ),
                    ));
                }
            }
            Scheme::Coupled { edges_per_step, .. } => {
                if !(2..=Scheme::MAX_EDGES_PER_STEP).contains(&edges_per_step) {
                    return Err(edges_per_step_error(edges_per_step));
                }
            }
            Scheme::NegativeSampling {
                edges_per_step,
                negatives_per_edge,
                z_bar,
                ..
            } => {
                if !(2..=Scheme::MAX_EDGES_PER_STEP).contains(&edges_per_step) {
                    return Err(edges_per_step_error(edges_per_step));
                }
                // Without negatives nothing repels and the map collapses.
                if negatives_per_edge == 0 {
                    return Err(config_error("finetune.negatives_per_edge", 0, "at least 1"));
                }
                if !(z_bar.is_finite() && z_bar > 0.0) {
                    return Err(config_error("finetune.z_bar", z_bar, "a finite number > 0"));
                }
            }
        }
        if !(self.output_scale.is_finite() && self.output_scale > 0.0) {
            return Err(config_error("output_scale", self.output_scale, "a finite number > 0"));
        }
        if self.input_pca == Some(0) {
            return Err(config_error("input_pca", 0, "at least 1 component (or no projection)"));
        }
        if self.hidden_widths.contains(&0) || self.unlabelled_outputs == 0 {
            return Err(config_error(
                "hidden_widths",
                format!("{:?}", self.hidden_widths),
                "widths > 0",
            ));
        }
        Ok(())
    }
}

fn edges_per_step_error(edges_per_step: usize) -> crate::error::ModelError {
    config_error(
        "finetune.edges_per_step",
        edges_per_step,
        format!("from 2 to {}", Scheme::MAX_EDGES_PER_STEP),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_epoch_of_sampled_edges_covers_every_point_once() {
        // 2 * 500 endpoints a step: 8000 points take 8 steps, 8001 take 9.
        assert_eq!(Scheme::steps_per_epoch(8000, 500), 8);
        assert_eq!(Scheme::steps_per_epoch(8001, 500), 9);
        // Never 0 steps, even for fewer points than one step embeds, or 0 edges.
        assert_eq!(Scheme::steps_per_epoch(10, 500), 1);
        assert_eq!(Scheme::steps_per_epoch(0, 500), 1);
        assert_eq!(Scheme::steps_per_epoch(7, 0), 4);
    }

    #[test]
    fn graph_epochs_become_rounded_steps_within_a_bound() -> Result<()> {
        // 8000 points with ~60 stored entries each, 500 edges a step: 960 steps an epoch.
        assert_eq!(Scheme::graph_epoch_steps(480_000, 500), 960.0);
        assert_eq!(Scheme::steps_for_graph_epochs(6.25, 480_000, 500)?, 6000);
        assert_eq!(Scheme::steps_for_graph_epochs(0.0001, 480_000, 500)?, 1);
        assert!(Scheme::steps_for_graph_epochs(f64::INFINITY, 480_000, 500).is_err());
        assert!(Scheme::steps_for_graph_epochs(1e7, 480_000, 500).is_err());
        Ok(())
    }

    #[test]
    fn the_new_levers_are_validated_and_name_their_field() {
        let field = |config: &TrainConfig| match config.validate() {
            Err(crate::ModelError::Config { field, .. }) => Some(field),
            _ => None,
        };
        let base = TrainConfig::preset(Preset::Default, 1);
        assert_eq!(field(&base), None);
        let mut c = base.clone();
        c.finetune.graph_epochs = Some(0.0);
        assert_eq!(field(&c), Some("finetune.graph_epochs"));
        c.finetune.graph_epochs = Some(f64::NAN);
        assert_eq!(field(&c), Some("finetune.graph_epochs"));
        c.finetune.graph_epochs = Some(2.5);
        assert_eq!(field(&c), None);
        // The batch schemes count epochs over the data in the scheme itself.
        c.finetune.scheme = Scheme::FixedBatches { epochs: 3 };
        assert_eq!(field(&c), Some("finetune.graph_epochs"));
        let mut c = base.clone();
        c.finetune.exaggeration_epochs = Some(-1.0);
        assert_eq!(field(&c), Some("finetune.exaggeration_epochs"));
        c.finetune.exaggeration_epochs = Some(0.5);
        assert_eq!(field(&c), None);
        let mut c = base.clone();
        let mid_near = |weight, pairs_per_point| {
            Some(MidNearRepulsion {
                weight,
                pairs_per_point,
            })
        };
        c.finetune.mid_near = mid_near(0.0, 1);
        assert_eq!(field(&c), Some("finetune.mid_near.weight"));
        c.finetune.mid_near = mid_near(f32::INFINITY, 1);
        assert_eq!(field(&c), Some("finetune.mid_near.weight"));
        c.finetune.mid_near = mid_near(1.0, 0);
        assert_eq!(field(&c), Some("finetune.mid_near.pairs_per_point"));
        c.finetune.mid_near = mid_near(1.0, MidNearRepulsion::MAX_PAIRS_PER_POINT + 1);
        assert_eq!(field(&c), Some("finetune.mid_near.pairs_per_point"));
        c.finetune.mid_near = mid_near(1.0, 2);
        assert_eq!(field(&c), None);
        c.finetune.scheme = Scheme::RedrawnBatches { epochs: 3 };
        assert_eq!(field(&c), Some("finetune.mid_near"));
    }

    #[test]
    fn the_paper_runs_the_default_epochs() {
        let paper = TrainConfig::preset(Preset::Paper, 1);
        assert_eq!(
            paper.finetune.scheme,
            Scheme::FixedBatches {
                epochs: FinetuneConfig::DEFAULT_EPOCHS
            }
        );
        assert_eq!(FinetuneConfig::DEFAULT_EPOCHS, 200);
    }

    #[test]
    fn an_exaggeration_factor_alone_gets_the_default_fraction() {
        let mut config = TrainConfig::preset(Preset::Default, 1).finetune;
        assert_eq!(config.exaggeration_fraction, 0.0);
        config.set_exaggeration(4.0);
        assert_eq!(
            (config.exaggeration, config.exaggeration_fraction),
            (4.0, FinetuneConfig::DEFAULT_EXAGGERATION_FRACTION)
        );
        // A fraction already chosen stays.
        config.exaggeration_fraction = 0.5;
        config.set_exaggeration(12.0);
        assert_eq!((config.exaggeration, config.exaggeration_fraction), (12.0, 0.5));
    }
}
