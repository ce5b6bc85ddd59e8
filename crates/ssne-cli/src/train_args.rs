//! The training flags and the one place where they become an `ssne_model::TrainConfig`.
//!
//! Every flag is optional and overrides the value of `--preset` (for `finetune`: the value stored
//! in the model), so a config is always "a preset plus what the user said". Range checks are the
//! library's (`TrainConfig::validate`), so the CLI and the library cannot disagree about them.

use anyhow::bail;
use clap::{Args, ValueEnum};
use ssne_data::ScalingKind;
use ssne_model::{
    Activation, Adaptation, DataSummary, FinetuneConfig, HeadInput, KnnSearch, LrSchedule, MidNearRepulsion, Preset,
    ReferenceSpace, Scheme, Setting, TrainConfig, Trainable, adapted_preset, adapted_scaling,
};

/// `--preset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PresetArg {
    /// The measured best: tanh features, coupled fine-tuning (6000 steps of 500 edges, perplexity 15), PCA-50 reference
    Default,
    /// The exact method of the paper: identity on the logits, fixed batches of 1000, 200 epochs
    Paper,
    /// Exact additive attribution: the default training with no biases, ReLU and identity on the
    /// logits, so a point's map position is the sum of its pixels' contributions (saliency --method additive)
    Additive,
}

/// `--scheme`: how fine-tuning forms its batches and its loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SchemeArg {
    /// Sampled edges of one global P; optimises the map at the scale of the whole set (--finetune-steps)
    Coupled,
    /// The paper: batches cut once, each with its own P (--finetune-epochs)
    Fixed,
    /// Batches re-drawn every epoch, P cut from one global P (--finetune-epochs)
    Redrawn,
    /// Sampled edges like coupled, contrasted with --negatives pairs through a fixed --z-bar (Neg-t-SNE)
    Negative,
}

/// `--lr-decay`: the fine-tuning learning-rate schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LrDecayArg {
    /// Linear decay from the rate to 0 at the last step (contrastive-ne)
    Linear,
    /// The rate throughout
    None,
}

/// `--knn`: how the global P finds each point's neighbours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum KnnArg {
    /// Exact search, O(n^2 d)
    Exact,
    /// NN-descent seeded by random-projection trees; its recall on a sample is reported
    Approx,
    /// Exact below 100,000 points, approximate from there on
    Auto,
}

impl From<KnnArg> for KnnSearch {
    fn from(arg: KnnArg) -> Self {
        match arg {
            KnnArg::Exact => KnnSearch::Exact,
            KnnArg::Approx => KnnSearch::Approximate,
            KnnArg::Auto => KnnSearch::Auto,
        }
    }
}

/// `--head-input`: what feeds the 2-D head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum HeadInputArg {
    /// The classifier's logits (the paper)
    Logits,
    /// The softmax probabilities of the classifier (logits with --feature-activation softmax)
    Softmax,
    /// The last hidden layer
    Hidden,
}

/// `--feature-activation`: the nonlinearity on the head's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ActivationArg {
    /// None (the paper)
    Identity,
    /// tanh (the default preset)
    Tanh,
    /// max(0, x)
    Relu,
    /// 1 / (1 + exp(-x))
    Sigmoid,
    /// Row-wise softmax
    Softmax,
}

impl From<ActivationArg> for Activation {
    fn from(arg: ActivationArg) -> Self {
        match arg {
            ActivationArg::Identity => Activation::Identity,
            ActivationArg::Tanh => Activation::Tanh,
            ActivationArg::Relu => Activation::Relu,
            ActivationArg::Sigmoid => Activation::Sigmoid,
            ActivationArg::Softmax => Activation::Softmax,
        }
    }
}

/// `--scaling`: per-feature preprocessing fitted on the training rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ScalingArg {
    /// Use the features as they are (MNIST is already in [0, 1])
    None,
    /// Map each feature's training range to [0, 1]
    UnitRange,
    /// Subtract each feature's training mean, divide by its standard deviation
    Standardize,
}

impl From<ScalingArg> for ScalingKind {
    fn from(arg: ScalingArg) -> Self {
        match arg {
            ScalingArg::None => ScalingKind::None,
            ScalingArg::UnitRange => ScalingKind::UnitRange,
            ScalingArg::Standardize => ScalingKind::Standardize,
        }
    }
}

/// `--trainable`: which parameters fine-tuning changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TrainableArg {
    /// Every layer and the head (the paper)
    All,
    /// Only the 2-D head; the classifier stays as pretrained
    HeadOnly,
}

/// The flags of a whole training run: the network, pretraining and fine-tuning.
#[derive(Debug, Clone, Args)]
pub(crate) struct TrainArgs {
    /// The configuration the other flags start from
    #[arg(long, value_enum, default_value_t = PresetArg::Default, help_heading = "Training")]
    preset: PresetArg,
    /// Seed of every random draw: initialisation, batch order, edge sampling
    #[arg(long, default_value_t = 42, help_heading = "Training")]
    pub(crate) seed: u64,
    /// Hidden layer widths, comma-separated [default: 100]
    #[arg(long, value_delimiter = ',', value_name = "W,..", help_heading = "Training")]
    hidden_widths: Option<Vec<usize>>,
    /// Project the inputs on their top K principal components (fitted on the training rows,
    /// stored in the model) before the first layer; saliency is still taken back to the inputs.
    /// 0 = no projection [default: 0]
    #[arg(long, value_name = "K", help_heading = "Training")]
    input_pca: Option<usize>,
    /// What feeds the 2-D head: the classifier's logits, or the last hidden layer (a map from a
    /// wide layer, e.g. with --hidden-widths 100,100,100) [default: logits, hidden for two
    /// classes]
    #[arg(long, value_enum, help_heading = "Training")]
    head_input: Option<HeadInputArg>,
    /// Nonlinearity on the head's input [default: tanh; paper: identity]
    #[arg(long, value_enum, help_heading = "Training")]
    feature_activation: Option<ActivationArg>,
    /// Per-feature scaling fitted on the training rows and stored with the model [default: none
    /// for values in [0, 1], else unit-range; paper: none]
    #[arg(long, value_enum, help_heading = "Training")]
    scaling: Option<ScalingArg>,
    /// Pretraining epochs; 0 skips pretraining [default: 10, or enough for 600 steps on fewer
    /// rows; paper: 10]
    #[arg(long, value_name = "N", help_heading = "Training")]
    pretrain_epochs: Option<usize>,
    /// Pretraining mini-batch size [default: 128]
    #[arg(long, value_name = "N", help_heading = "Training")]
    pretrain_batch_size: Option<usize>,
    /// Pretraining learning rate [default: --lr, or 0.001]
    #[arg(long, value_name = "RATE", help_heading = "Training")]
    pretrain_lr: Option<f32>,
    /// Keep the training inputs for --refine as their projection on K principal components
    /// (stored with the projection: a smaller model file, a faster search); 0 keeps them raw
    /// [default: 50]
    #[arg(long, value_name = "K", help_heading = "Training")]
    reference_pca: Option<usize>,
    #[command(flatten)]
    pub(crate) finetune: FinetuneArgs,
}

/// The fine-tuning flags (also accepted by `finetune`, where they override the model's stored values).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Fine-tuning")]
pub(crate) struct FinetuneArgs {
    /// Batch formation and loss [default: coupled; paper: fixed]
    #[arg(long, value_enum)]
    scheme: Option<SchemeArg>,
    /// Target perplexity of the input affinities [default: 15; paper: 30]
    #[arg(long, value_name = "P")]
    perplexity: Option<f64>,
    /// Neighbour search of the global P (coupled, negative and redrawn schemes) [default: auto]
    #[arg(long, value_enum)]
    knn: Option<KnnArg>,
    /// Search the neighbours of the global P in the PCA projection with N components (0: the
    /// raw inputs) [default: 0]
    #[arg(long, value_name = "N")]
    knn_pca: Option<usize>,
    /// Points per batch of the batch schemes; must exceed perplexity + 1 [default: 1000]
    #[arg(long, value_name = "N")]
    batch_size: Option<usize>,
    /// Passes over the data (batch schemes) or over the kNN graph (coupled, negative: one epoch is
    /// nnz(P) / edges-per-step steps, fractions allowed) [default: 200 for the batch schemes; see
    /// --finetune-steps]
    #[arg(long, value_name = "N", conflicts_with = "finetune_steps")]
    finetune_epochs: Option<f64>,
    /// Optimiser steps of the coupled scheme [default: 750 passes over the points, i.e.
    /// 750 x n / (2 x edges-per-step) steps, from 1000 to 6000 steps]
    #[arg(long, value_name = "N")]
    finetune_steps: Option<usize>,
    /// Edges sampled per step of the coupled scheme [default: 500]
    #[arg(long, value_name = "N")]
    edges_per_step: Option<usize>,
    /// Adam learning rate (of both stages with `train`; see --pretrain-lr) [default: 0.002 for fine-tuning, 0.001 for pretraining; paper: 0.001]
    #[arg(long, value_name = "RATE")]
    lr: Option<f32>,
    /// Learning-rate schedule of fine-tuning: linear decay to 0 over the run, or none [default: none]
    #[arg(long, value_enum)]
    lr_decay: Option<LrDecayArg>,
    /// Weight of a cross-entropy term kept during fine-tuning [default: 0]
    #[arg(long, value_name = "W")]
    ce_weight: Option<f32>,
    /// Early exaggeration of the attraction (1 = off) [default: 1]
    #[arg(long, value_name = "FACTOR")]
    exaggeration: Option<f32>,
    /// Fraction of the run that is exaggerated [default: 0.25 when --exaggeration is given]
    #[arg(long, value_name = "F", conflicts_with = "exaggeration_epochs")]
    exaggeration_fraction: Option<f32>,
    /// Length of the exaggerated phase in epochs (over the kNN graph for coupled and negative,
    /// over the data for the batch schemes), instead of --exaggeration-fraction
    #[arg(long, value_name = "EPOCHS")]
    exaggeration_epochs: Option<f64>,
    /// Repel mid-near pairs (ParamRepulsor): add W x ln(mean kernel over mid-near pairs) to the
    /// loss of coupled or negative; 0 = off [default: 0]
    #[arg(long, value_name = "W")]
    mid_near_weight: Option<f32>,
    /// Mid-near pairs drawn per point of a step (with --mid-near-weight) [default: 1]
    #[arg(long, value_name = "N", requires = "mid_near_weight")]
    mid_near_pairs: Option<usize>,
    /// Degrees of freedom of the Student-t kernel (1 = classic t-SNE) [default: 1]
    #[arg(long, value_name = "DOF")]
    dof: Option<f64>,
    /// Which parameters fine-tuning changes [default: all]
    #[arg(long, value_enum)]
    trainable: Option<TrainableArg>,
    /// Negative pairs per edge of --scheme negative [default: 5]
    #[arg(long, value_name = "N")]
    negatives: Option<usize>,
    /// Fixed normalisation Z of --scheme negative; larger means less repulsion [default: 0.1]
    #[arg(long, value_name = "Z")]
    z_bar: Option<f64>,
    /// Shift image inputs randomly by up to this many pixels at every fine-tuning step (0 = off)
    /// [default: 1 per 20 pixels of the shorter side (0 below 20); paper: 0]
    #[arg(long, value_name = "PIXELS")]
    shift_pixels: Option<u8>,
}

/// A training configuration, the input scaling to fit, and the defaults that were adapted to the
/// data (those the user left to the default preset).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Training {
    /// What to train.
    pub(crate) config: TrainConfig,
    /// The per-feature scaling to fit on the training rows.
    pub(crate) scaling: ScalingKind,
    /// Defaults of `--preset default` changed for the data, and why.
    pub(crate) adapted: Vec<Adaptation>,
}

/// The flag that sets `setting`, with the adapted value, as a user would type it.
pub(crate) fn flag(setting: Setting) -> String {
    match setting {
        Setting::ShiftPixels(pixels) => format!("--shift-pixels {pixels}"),
        Setting::PretrainEpochs(epochs) => format!("--pretrain-epochs {epochs}"),
        Setting::FinetuneSteps(steps) => format!("--finetune-steps {steps}"),
        Setting::HeadInput(HeadInput::Hidden) => "--head-input hidden".to_owned(),
        Setting::HeadInput(HeadInput::Logits) => "--head-input logits".to_owned(),
        Setting::InputPca(components) => format!("--input-pca {components}"),
        Setting::KnnPca(components) => format!("--knn-pca {components}"),
        Setting::FinetuneGraphEpochs(epochs) => format!("--finetune-epochs {epochs}"),
        Setting::LinearLrDecay => "--lr-decay linear".to_owned(),
        Setting::Scaling(ScalingKind::UnitRange) => "--scaling unit-range".to_owned(),
        Setting::Scaling(ScalingKind::Standardize) => "--scaling standardize".to_owned(),
        Setting::Scaling(ScalingKind::None) => "--scaling none".to_owned(),
    }
}

impl TrainArgs {
    /// The configuration for a run on `data` (summarised before scaling): `--preset default`
    /// adapted to the data where the user gave no flag, then the flags.
    ///
    /// # Errors
    /// Flags that contradict each other; ranges are checked later by the library.
    pub(crate) fn to_training(&self, data: &DataSummary) -> anyhow::Result<Training> {
        let preset = match self.preset {
            PresetArg::Default => Preset::Default,
            PresetArg::Paper => Preset::Paper,
            PresetArg::Additive => Preset::Additive,
        };
        let (mut config, mut adapted) = adapted_preset(preset, self.seed, self.finetune.edges_per_step, data);
        if let Some(widths) = &self.hidden_widths {
            config.hidden_widths.clone_from(widths);
        }
        if let Some(k) = self.input_pca {
            config.input_pca = (k > 0).then_some(k);
        }
        match self.head_input {
            Some(HeadInputArg::Logits) => config.head_input = HeadInput::Logits,
            Some(HeadInputArg::Hidden) => config.head_input = HeadInput::Hidden,
            Some(HeadInputArg::Softmax) => {
                if self.feature_activation.is_some_and(|a| a != ActivationArg::Softmax) {
                    bail!("--head-input softmax is the logits with a softmax; leave out --feature-activation");
                }
                config.head_input = HeadInput::Logits;
                config.feature_activation = Activation::Softmax;
            }
            None => {}
        }
        if let Some(activation) = self.feature_activation {
            config.feature_activation = activation.into();
        }
        if let Some(epochs) = self.pretrain_epochs {
            config.pretrain.epochs = epochs;
        }
        if let Some(batch) = self.pretrain_batch_size {
            config.pretrain.batch_size = batch;
        }
        if let Some(lr) = self.pretrain_lr.or(self.finetune.lr) {
            config.pretrain.adam.lr = lr;
        }
        match self.reference_pca {
            Some(0) => config.reference_space = ReferenceSpace::Raw,
            Some(components) => config.reference_space = ReferenceSpace::Pca { components },
            None => {}
        }
        self.finetune.apply(&mut config.finetune)?;
        let f = &self.finetune;
        let edge_sampling = matches!(
            config.finetune.scheme,
            Scheme::Coupled { .. } | Scheme::NegativeSampling { .. }
        );
        adapted.retain(|a| match a.setting {
            Setting::ShiftPixels(_) => f.shift_pixels.is_none(),
            Setting::PretrainEpochs(_) => self.pretrain_epochs.is_none() && self.pretrain_batch_size.is_none(),
            Setting::FinetuneSteps(_) => !f.length_given() && edge_sampling,
            Setting::HeadInput(_) => self.head_input.is_none() && self.feature_activation.is_none(),
            Setting::InputPca(_) => self.input_pca.is_none(),
            Setting::KnnPca(_) => f.knn_pca.is_none(),
            Setting::FinetuneGraphEpochs(_) => !f.length_given() && edge_sampling,
            Setting::LinearLrDecay => f.lr_decay.is_none(),
            Setting::Scaling(_) => self.scaling.is_none(),
        });
        let scaling = match self.scaling {
            Some(arg) => arg.into(),
            None => adapted_scaling(&adapted).unwrap_or(ScalingKind::None),
        };
        // A head input the user chose through --feature-activation softmax stays the logits.
        if self.head_input.is_none() && self.feature_activation.is_some() {
            config.head_input = TrainConfig::preset(preset, self.seed).head_input;
        }
        Ok(Training {
            config,
            scaling,
            adapted,
        })
    }
}

impl FinetuneArgs {
    /// Overrides `config` with the flags given.
    ///
    /// # Errors
    /// A step count for a batch scheme (which counts epochs), a fractional or negative epoch
    /// count for a batch scheme, mid-near pairs without a weight.
    pub(crate) fn apply(&self, config: &mut FinetuneConfig) -> anyhow::Result<()> {
        let (old_epochs, old_steps, old_edges) = match config.scheme {
            Scheme::FixedBatches { epochs } | Scheme::RedrawnBatches { epochs } => (epochs, None, None),
            Scheme::Coupled { steps, edges_per_step }
            | Scheme::NegativeSampling {
                steps, edges_per_step, ..
            } => (FinetuneConfig::DEFAULT_EPOCHS, Some(steps), Some(edges_per_step)),
        };
        let (old_negatives, old_z_bar) = match config.scheme {
            Scheme::NegativeSampling {
                negatives_per_edge,
                z_bar,
                ..
            } => (negatives_per_edge, z_bar),
            _ => (Scheme::DEFAULT_NEGATIVES_PER_EDGE, Scheme::DEFAULT_Z_BAR),
        };
        let kind = self.scheme.unwrap_or(match config.scheme {
            Scheme::FixedBatches { .. } => SchemeArg::Fixed,
            Scheme::RedrawnBatches { .. } => SchemeArg::Redrawn,
            Scheme::Coupled { .. } => SchemeArg::Coupled,
            Scheme::NegativeSampling { .. } => SchemeArg::Negative,
        });
        if kind != SchemeArg::Negative && (self.negatives.is_some() || self.z_bar.is_some()) {
            bail!("--negatives and --z-bar belong to --scheme negative");
        }
        config.scheme = match kind {
            SchemeArg::Fixed | SchemeArg::Redrawn => {
                if self.finetune_steps.is_some() || self.edges_per_step.is_some() {
                    bail!(
                        "--finetune-steps and --edges-per-step belong to --scheme coupled or negative; \
                         the batch schemes count --finetune-epochs"
                    );
                }
                let epochs = match self.finetune_epochs {
                    Some(epochs) if epochs.fract() != 0.0 || !(0.0..=usize::MAX as f64).contains(&epochs) => {
                        bail!(
                            "--finetune-epochs of a batch scheme is a whole number of passes over the data (got {epochs})"
                        )
                    }
                    Some(epochs) => epochs as usize,
                    None => old_epochs,
                };
                config.graph_epochs = None;
                if kind == SchemeArg::Fixed {
                    Scheme::FixedBatches { epochs }
                } else {
                    Scheme::RedrawnBatches { epochs }
                }
            }
            SchemeArg::Coupled | SchemeArg::Negative => {
                // From a batch scheme (e.g. `--preset paper --scheme coupled`): the default preset's sizes.
                let edges_per_step = self
                    .edges_per_step
                    .or(old_edges)
                    .unwrap_or(Scheme::DEFAULT_EDGES_PER_STEP);
                // Epochs over the graph become steps once the graph is built; explicit steps
                // replace any epoch count stored in the model.
                if let Some(epochs) = self.finetune_epochs {
                    config.graph_epochs = Some(epochs);
                } else if self.finetune_steps.is_some() {
                    config.graph_epochs = None;
                }
                let steps = self
                    .finetune_steps
                    .unwrap_or(old_steps.unwrap_or(Scheme::DEFAULT_STEPS));
                if kind == SchemeArg::Coupled {
                    Scheme::Coupled { steps, edges_per_step }
                } else {
                    Scheme::NegativeSampling {
                        steps,
                        edges_per_step,
                        negatives_per_edge: self.negatives.unwrap_or(old_negatives),
                        z_bar: self.z_bar.unwrap_or(old_z_bar),
                    }
                }
            }
        };
        if let Some(pixels) = self.shift_pixels {
            config.shift_pixels = pixels;
        }
        if let Some(p) = self.perplexity {
            config.perplexity = p;
        }
        if let Some(knn) = self.knn {
            config.knn = knn.into();
        }
        match self.knn_pca {
            Some(0) => config.knn_space = ReferenceSpace::Raw,
            Some(components) => config.knn_space = ReferenceSpace::Pca { components },
            None => {}
        }
        if let Some(batch) = self.batch_size {
            config.batch_size = batch;
        }
        if let Some(lr) = self.lr {
            config.adam.lr = lr;
        }
        if let Some(w) = self.ce_weight {
            config.ce_weight = w;
        }
        if let Some(factor) = self.exaggeration {
            config.set_exaggeration(factor);
        }
        if let Some(fraction) = self.exaggeration_fraction {
            config.exaggeration_fraction = fraction;
            config.exaggeration_epochs = None;
        }
        if let Some(epochs) = self.exaggeration_epochs {
            config.exaggeration_epochs = Some(epochs);
        }
        match self.lr_decay {
            Some(LrDecayArg::Linear) => config.adam.schedule = LrSchedule::Linear,
            Some(LrDecayArg::None) => config.adam.schedule = LrSchedule::Constant,
            None => {}
        }
        match (self.mid_near_weight, self.mid_near_pairs) {
            (Some(0.0), _) => {
                if self.mid_near_pairs.is_some() {
                    bail!("--mid-near-pairs needs a --mid-near-weight above 0");
                }
                config.mid_near = None;
            }
            (Some(weight), pairs) => {
                config.mid_near = Some(MidNearRepulsion {
                    weight,
                    pairs_per_point: pairs
                        .or(config.mid_near.map(|m| m.pairs_per_point))
                        .unwrap_or(MidNearRepulsion::DEFAULT_PAIRS_PER_POINT),
                });
            }
            (None, _) => {}
        }
        if let Some(dof) = self.dof {
            config.dof = dof;
        }
        match self.trainable {
            Some(TrainableArg::All) => config.trainable = Trainable::All,
            Some(TrainableArg::HeadOnly) => config.trainable = Trainable::HeadOnly,
            None => {}
        }
        Ok(())
    }

    /// Sets the coupled scheme's step count (the demo's `--finetune-steps` and `--fast`).
    pub(crate) fn with_steps(mut self, steps: usize) -> Self {
        self.finetune_steps = Some(steps);
        self.finetune_epochs = None;
        self
    }

    /// Whether the user asked for random image shifts.
    pub(crate) fn shifts_requested(&self) -> bool {
        self.shift_pixels.is_some_and(|p| p > 0)
    }

    /// Whether the user chose the number of fine-tuning steps or epochs.
    pub(crate) fn length_given(&self) -> bool {
        self.finetune_steps.is_some() || self.finetune_epochs.is_some()
    }
}

impl TrainArgs {
    /// Sets the pretraining epochs unless the user chose them (the demo's `--fast`).
    pub(crate) fn with_default_pretrain_epochs(mut self, epochs: usize) -> Self {
        self.pretrain_epochs = self.pretrain_epochs.or(Some(epochs));
        self
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Harness {
        #[command(flatten)]
        train: TrainArgs,
    }

    /// 8000 MNIST-like rows: the default preset needs no adapting.
    const MNIST: DataSummary = DataSummary {
        n_points: 8000,
        n_features: 784,
        image_shape: Some([28, 28]),
        n_classes: Some(10),
        value_range: Some((0.0, 1.0)),
    };

    fn training(args: &[&str], data: &DataSummary) -> anyhow::Result<Training> {
        let harness = Harness::try_parse_from(std::iter::once("t").chain(args.iter().copied()))?;
        harness.train.to_training(data)
    }

    fn config(args: &[&str]) -> anyhow::Result<TrainConfig> {
        let training = training(args, &MNIST)?;
        assert_eq!(training.adapted, vec![], "MNIST-sized data keeps the preset");
        Ok(training.config)
    }

    #[test]
    fn no_flags_give_the_preset() -> anyhow::Result<()> {
        assert_eq!(config(&[])?, TrainConfig::preset(Preset::Default, 42));
        assert_eq!(
            config(&["--preset", "paper", "--seed", "3"])?,
            TrainConfig::preset(Preset::Paper, 3)
        );
        Ok(())
    }

    #[test]
    fn knn_flags_choose_the_search_and_its_space() -> anyhow::Result<()> {
        use ssne_model::KnnSearch;
        let c = config(&[])?;
        assert_eq!(
            (c.finetune.knn, c.finetune.knn_space),
            (KnnSearch::Auto, ReferenceSpace::Raw)
        );
        let c = config(&["--knn", "approx", "--knn-pca", "50"])?;
        assert_eq!(
            (c.finetune.knn, c.finetune.knn_space),
            (KnnSearch::Approximate, ReferenceSpace::Pca { components: 50 })
        );
        let c = config(&["--knn", "exact", "--knn-pca", "0"])?;
        assert_eq!(
            (c.finetune.knn, c.finetune.knn_space),
            (KnnSearch::Exact, ReferenceSpace::Raw)
        );
        assert!(config(&["--knn", "fast"]).is_err());
        Ok(())
    }

    #[test]
    fn flags_override_the_preset() -> anyhow::Result<()> {
        let c = config(&[
            "--preset",
            "paper",
            "--perplexity",
            "10",
            "--batch-size",
            "200",
            "--finetune-epochs",
            "5",
        ])?;
        assert_eq!(c.finetune.perplexity, 10.0);
        assert_eq!(c.finetune.batch_size, 200);
        assert_eq!(c.finetune.scheme, Scheme::FixedBatches { epochs: 5 });
        let c = config(&["--lr", "0.01", "--pretrain-lr", "0.002", "--head-input", "softmax"])?;
        assert_eq!((c.finetune.adam.lr, c.pretrain.adam.lr), (0.01, 0.002));
        assert_eq!(
            (c.head_input, c.feature_activation),
            (HeadInput::Logits, Activation::Softmax)
        );
        Ok(())
    }

    #[test]
    fn negative_sampling_and_shifts_are_flags() -> anyhow::Result<()> {
        let c = config(&["--scheme", "negative", "--z-bar", "0.5", "--finetune-steps", "100"])?;
        assert_eq!(
            c.finetune.scheme,
            Scheme::NegativeSampling {
                steps: 100,
                edges_per_step: 500,
                negatives_per_edge: Scheme::DEFAULT_NEGATIVES_PER_EDGE,
                z_bar: 0.5
            }
        );
        assert!(config(&["--z-bar", "0.5"]).is_err(), "--z-bar needs --scheme negative");
        assert_eq!(config(&["--shift-pixels", "2"])?.finetune.shift_pixels, 2);
        Ok(())
    }

    #[test]
    fn epochs_of_the_coupled_scheme_are_passes_over_the_graph() -> anyhow::Result<()> {
        // The steps follow from the graph once it is built; the scheme keeps its own.
        let c = config(&["--finetune-epochs", "2.5"])?;
        assert_eq!(c.finetune.graph_epochs, Some(2.5));
        assert_eq!(c.finetune.scheme, Scheme::DEFAULT_COUPLED);
        // Steps given instead clear an epoch count (e.g. one stored in a model being fine-tuned).
        let mut stored = c.finetune.clone();
        let harness = Harness::try_parse_from(["t", "--finetune-steps", "700"])?;
        harness.train.finetune.apply(&mut stored)?;
        assert_eq!(stored.graph_epochs, None);
        assert_eq!(
            stored.scheme,
            Scheme::Coupled {
                steps: 700,
                edges_per_step: 500
            }
        );
        // A batch scheme counts whole passes over the data.
        let c = config(&["--scheme", "fixed", "--finetune-epochs", "4"])?;
        assert_eq!(
            (c.finetune.scheme, c.finetune.graph_epochs),
            (Scheme::FixedBatches { epochs: 4 }, None)
        );
        assert!(config(&["--scheme", "fixed", "--finetune-epochs", "2.5"]).is_err());
        assert!(config(&["--scheme", "redrawn", "--finetune-epochs=-1"]).is_err());
        let c = config(&["--preset", "paper", "--scheme", "coupled"])?;
        assert_eq!(c.finetune.scheme, Scheme::DEFAULT_COUPLED);
        let c = config(&["--scheme", "redrawn"])?;
        assert_eq!(c.finetune.scheme, Scheme::RedrawnBatches { epochs: 200 });
        Ok(())
    }

    #[test]
    fn contradictions_are_refused() {
        assert!(config(&["--scheme", "fixed", "--finetune-steps", "10"]).is_err());
        assert!(config(&["--finetune-steps", "10", "--finetune-epochs", "3"]).is_err());
        assert!(config(&["--head-input", "softmax", "--feature-activation", "tanh"]).is_err());
    }

    #[test]
    fn reference_pca_chooses_the_reference_space() -> anyhow::Result<()> {
        assert_eq!(
            config(&["--reference-pca", "30"])?.reference_space,
            ReferenceSpace::Pca { components: 30 }
        );
        assert_eq!(config(&["--reference-pca", "0"])?.reference_space, ReferenceSpace::Raw);
        Ok(())
    }

    #[test]
    fn defaults_are_adapted_only_where_no_flag_was_given() -> anyhow::Result<()> {
        let digits = DataSummary {
            n_points: 1500,
            n_features: 64,
            image_shape: Some([8, 8]),
            n_classes: Some(2),
            value_range: Some((0.0, 16.0)),
        };
        let settings = |t: &Training| t.adapted.iter().map(|a| a.setting).collect::<Vec<_>>();
        let t = training(&[], &digits)?;
        assert_eq!(
            settings(&t),
            vec![
                Setting::ShiftPixels(0),
                Setting::PretrainEpochs(50),
                Setting::FinetuneSteps(1500),
                // No head-input change for two classes: the default head reads the hidden layer.
                Setting::Scaling(ScalingKind::UnitRange)
            ]
        );
        assert_eq!(t.config.head_input, HeadInput::Hidden);
        assert_eq!(t.scaling, ScalingKind::UnitRange);
        assert_eq!((t.config.finetune.shift_pixels, t.config.pretrain.epochs), (0, 50));
        // Every flag wins over its adapted default, and is not reported as adapted.
        let t = training(
            &[
                "--shift-pixels",
                "1",
                "--pretrain-epochs",
                "5",
                "--finetune-steps",
                "300",
                "--head-input",
                "logits",
                "--scaling",
                "none",
            ],
            &digits,
        )?;
        assert_eq!(settings(&t), vec![]);
        assert_eq!(t.scaling, ScalingKind::None);
        assert_eq!(t.config.head_input, HeadInput::Logits);
        assert_eq!(
            t.config.finetune.scheme,
            Scheme::Coupled {
                steps: 300,
                edges_per_step: 500
            }
        );
        // The epoch rule counts the edges given: 1500 rows, 200 edges a step, 4 steps an epoch.
        let t = training(&["--edges-per-step", "200"], &digits)?;
        assert!(settings(&t).contains(&Setting::FinetuneSteps(3000)));
        // A batch scheme counts epochs: the adapted step count does not apply.
        let t = training(&["--scheme", "fixed"], &digits)?;
        assert!(!settings(&t).contains(&Setting::FinetuneSteps(1500)));
        // The paper's preset is never adapted.
        let t = training(&["--preset", "paper"], &digits)?;
        assert_eq!((settings(&t), t.scaling), (vec![], ScalingKind::None));
        assert_eq!(t.config, TrainConfig::preset(Preset::Paper, 42));
        Ok(())
    }

    #[test]
    fn large_data_rules_yield_to_every_flag() -> anyhow::Result<()> {
        let fashion = DataSummary {
            n_points: 60_000,
            n_features: 784,
            image_shape: Some([28, 28]),
            n_classes: Some(10),
            value_range: Some((0.0, 1.0)),
        };
        let flags = |t: &Training| t.adapted.iter().map(|a| flag(a.setting)).collect::<Vec<_>>();
        let t = training(&[], &fashion)?;
        assert_eq!(
            flags(&t),
            [
                "--finetune-epochs 16",
                "--lr-decay linear",
                "--knn-pca 50",
                "--input-pca 100"
            ]
        );
        assert_eq!(t.config.finetune.graph_epochs, Some(16.0));
        assert_eq!(t.config.input_pca, Some(100));
        let t = training(
            &[
                "--finetune-steps",
                "300",
                "--lr-decay",
                "none",
                "--knn-pca",
                "0",
                "--input-pca",
                "0",
            ],
            &fashion,
        )?;
        assert_eq!(flags(&t), Vec::<String>::new());
        assert_eq!(
            (
                t.config.finetune.graph_epochs,
                t.config.input_pca,
                t.config.finetune.knn_space
            ),
            (None, None, ReferenceSpace::Raw)
        );
        assert_eq!(t.config.finetune.adam.schedule, ssne_model::LrSchedule::Constant);
        assert_eq!(
            t.config.finetune.scheme,
            Scheme::Coupled {
                steps: 300,
                edges_per_step: 500
            }
        );
        // Epochs of one's own replace the rule's and are not reported as adapted.
        let t = training(&["--finetune-epochs", "2"], &fashion)?;
        assert_eq!(t.config.finetune.graph_epochs, Some(2.0));
        assert!(!flags(&t).iter().any(|f| f.starts_with("--finetune-epochs")));
        Ok(())
    }

    #[test]
    fn schedule_and_repulsion_levers_are_flags() -> anyhow::Result<()> {
        use ssne_model::{LrSchedule, MidNearRepulsion};
        let c = config(&["--lr-decay", "linear"])?;
        assert_eq!(c.finetune.adam.schedule, LrSchedule::Linear);
        // Pretraining keeps its own schedule.
        assert_eq!(c.pretrain.adam.schedule, LrSchedule::Constant);
        assert_eq!(
            config(&["--lr-decay", "none"])?.finetune.adam.schedule,
            LrSchedule::Constant
        );
        assert!(config(&["--lr-decay", "cosine"]).is_err());
        let c = config(&["--exaggeration", "4", "--exaggeration-epochs", "1.5"])?;
        assert_eq!(
            (c.finetune.exaggeration, c.finetune.exaggeration_epochs),
            (4.0, Some(1.5))
        );
        assert!(config(&["--exaggeration-epochs", "1", "--exaggeration-fraction", "0.2"]).is_err());
        let c = config(&["--mid-near-weight", "2"])?;
        assert_eq!(
            c.finetune.mid_near,
            Some(MidNearRepulsion {
                weight: 2.0,
                pairs_per_point: MidNearRepulsion::DEFAULT_PAIRS_PER_POINT
            })
        );
        let c = config(&["--mid-near-weight", "0.5", "--mid-near-pairs", "3"])?;
        assert_eq!(
            c.finetune.mid_near,
            Some(MidNearRepulsion {
                weight: 0.5,
                pairs_per_point: 3
            })
        );
        assert_eq!(config(&["--mid-near-weight", "0"])?.finetune.mid_near, None);
        assert!(config(&["--mid-near-pairs", "3"]).is_err(), "pairs need a weight");
        assert!(config(&["--mid-near-weight", "0", "--mid-near-pairs", "3"]).is_err());
        // Ranges are the library's: a negative weight passes the CLI and fails validation.
        assert!(config(&["--mid-near-weight=-1"])?.validate().is_err());
        Ok(())
    }

    #[test]
    fn exaggeration_alone_gets_a_fraction() -> anyhow::Result<()> {
        let c = config(&["--exaggeration", "4"])?;
        assert_eq!((c.finetune.exaggeration, c.finetune.exaggeration_fraction), (4.0, 0.25));
        Ok(())
    }
}
