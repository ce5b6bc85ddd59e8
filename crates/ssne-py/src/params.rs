//! The estimator's constructor parameters as an `ssne_model::TrainConfig`.
//!
//! Every parameter is optional: `None` (or absent) keeps the preset's value, so a config is always
//! "a preset plus what the user said", as on the command line (`crates/ssne-cli/src/train_args.rs`
//! uses the same names). Ranges are checked by the library (`TrainConfig::validate`), so Python,
//! the CLI and the library cannot disagree about them.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyInt};
use ssne_data::ScalingKind;
use ssne_model::{
    Activation, DataSummary, HeadInput, Preset, ReferenceSpace, Scheme, TrainConfig, Trainable, adapted_preset,
    adapted_scaling,
};

/// The parameter names [`build`] reads; any other key is a `TypeError`.
pub(crate) const NAMES: &[&str] = &[
    "preset",
    "seed",
    "scaling",
    "hidden_widths",
    "input_pca",
    "hidden_activation",
    "head_input",
    "feature_activation",
    "output_scale",
    "prune_constant_inputs",
    "unlabelled_outputs",
    "reference_pca",
    "pretrain_epochs",
    "pretrain_batch_size",
    "pretrain_lr",
    "scheme",
    "finetune_steps",
    "finetune_epochs",
    "edges_per_step",
    "negatives",
    "z_bar",
    "perplexity",
    "batch_size",
    "lr",
    "ce_weight",
    "exaggeration",
    "exaggeration_fraction",
    "dof",
    "trainable",
    "shift_pixels",
];

/// A training run's configuration and the input scaling fitted on its rows.
pub(crate) struct Built {
    /// The library's configuration.
    pub(crate) config: TrainConfig,
    /// The per-feature scaling to fit on the training rows.
    pub(crate) scaling: ScalingKind,
    /// Whether the user asked for random image shifts (which need an image shape).
    pub(crate) shifts_requested: bool,
}

/// Reads typed values out of the parameter dict, naming the parameter in every error.
struct Params<'a, 'py>(&'a Bound<'py, PyDict>);

impl<'py> Params<'_, 'py> {
    /// The value of `key`, `None` when absent or `None`; `what` describes the expected type.
    fn get<T>(&self, key: &str, what: &str) -> PyResult<Option<T>>
    where
        for<'a> T: FromPyObject<'a, 'py>,
    {
        let Some(value) = self.0.get_item(key)? else {
            return Ok(None);
        };
        if value.is_none() {
            return Ok(None);
        }
        match value.extract::<T>() {
            Ok(v) => Ok(Some(v)),
            Err(_) => {
                let shown = value.repr().map_or_else(|_| "?".to_owned(), |r| r.to_string());
                let message = format!("{key} must be {what}, not {shown}");
                // A number of the right kind out of range (e.g. -1 for a count) is a bad value, not a bad type.
                if value.is_instance_of::<PyInt>() || value.is_instance_of::<PyFloat>() {
                    Err(PyValueError::new_err(message))
                } else {
                    Err(PyTypeError::new_err(message))
                }
            }
        }
    }

    /// A string parameter that must be one of `choices`; returns its index.
    fn choice(&self, key: &str, choices: &[&str]) -> PyResult<Option<usize>> {
        let what = format!("one of {choices:?}");
        match self.get::<String>(key, &what)? {
            None => Ok(None),
            Some(s) => match choices.iter().position(|c| *c == s) {
                Some(i) => Ok(Some(i)),
                None => Err(PyValueError::new_err(format!("{key} must be {what}, not {s:?}"))),
            },
        }
    }
}

const ACTIVATIONS: &[&str] = &["identity", "tanh", "relu", "sigmoid", "softmax"];
const ACTIVATION_VALUES: &[Activation] = &[
    Activation::Identity,
    Activation::Tanh,
    Activation::Relu,
    Activation::Sigmoid,
    Activation::Softmax,
];

fn value_error(message: impl Into<String>) -> PyErr {
    PyValueError::new_err(message.into())
}

/// The configuration that `params` (the estimator's parameters) describe.
///
/// # Errors
/// `TypeError` for an unknown parameter or a value of the wrong type, `ValueError` for a value out
/// of range (the library's message) or parameters that contradict each other.
/// The configuration of `params`. With `data`, the default preset is first adapted to it
/// ([`TrainConfig::adapt_to`], as `salient-sne train` does), and the parameters given override
/// the adapted values; the paper preset is never adapted.
pub(crate) fn build(params: &Bound<'_, PyDict>, data: Option<&DataSummary>) -> PyResult<Built> {
    for key in params.keys() {
        let key: String = key.extract()?;
        if !NAMES.contains(&key.as_str()) {
            return Err(PyTypeError::new_err(format!("unknown parameter {key:?}")));
        }
    }
    let p = Params(params);
    let preset = match p.choice("preset", &["default", "paper"])? {
        Some(1) => Preset::Paper,
        _ => Preset::Default,
    };
    let seed = p.get::<u64>("seed", "an integer in 0..2**64")?.unwrap_or(0);
    let (mut config, adapted) = match data {
        Some(data) => adapted_preset(preset, seed, p.get::<usize>("edges_per_step", "an integer >= 2")?, data),
        None => (TrainConfig::preset(preset, seed), Vec::new()),
    };
    let scaling = match p.choice("scaling", &["none", "unit-range", "standardize"])? {
        Some(0) => ScalingKind::None,
        Some(1) => ScalingKind::UnitRange,
        Some(_) => ScalingKind::Standardize,
        None => adapted_scaling(&adapted).unwrap_or(ScalingKind::None),
    };
    if let Some(widths) = p.get::<Vec<usize>>("hidden_widths", "a sequence of positive integers")? {
        config.hidden_widths = widths;
    }
    if let Some(k) = p.get::<usize>("input_pca", "an integer >= 0 (0: no input projection)")? {
        config.input_pca = (k > 0).then_some(k);
    }
    if let Some(i) = p.choice("hidden_activation", ACTIVATIONS)? {
        config.hidden_activation = ACTIVATION_VALUES[i];
    }
    let feature_activation = p.choice("feature_activation", ACTIVATIONS)?;
    match p.choice("head_input", &["logits", "softmax", "hidden"])? {
        Some(0) => config.head_input = HeadInput::Logits,
        Some(1) => {
            if feature_activation.is_some_and(|i| ACTIVATION_VALUES[i] != Activation::Softmax) {
                return Err(value_error(
                    "head_input='softmax' is the logits with a softmax; leave out feature_activation",
                ));
            }
            config.head_input = HeadInput::Logits;
            config.feature_activation = Activation::Softmax;
        }
        Some(_) => config.head_input = HeadInput::Hidden,
        None => {}
    }
    if let Some(i) = feature_activation {
        config.feature_activation = ACTIVATION_VALUES[i];
    }
    if let Some(scale) = p.get::<f32>("output_scale", "a number > 0")? {
        config.output_scale = scale;
    }
    if let Some(prune) = p.get::<bool>("prune_constant_inputs", "True or False")? {
        config.prune_constant_inputs = prune;
    }
    if let Some(outputs) = p.get::<usize>("unlabelled_outputs", "an integer >= 1")? {
        config.unlabelled_outputs = outputs;
    }
    match p.get::<usize>("reference_pca", "an integer >= 0 (0 keeps the raw inputs)")? {
        Some(0) => config.reference_space = ReferenceSpace::Raw,
        Some(components) => config.reference_space = ReferenceSpace::Pca { components },
        None => {}
    }
    if let Some(epochs) = p.get::<usize>("pretrain_epochs", "an integer >= 0")? {
        config.pretrain.epochs = epochs;
    }
    if let Some(batch) = p.get::<usize>("pretrain_batch_size", "an integer >= 1")? {
        config.pretrain.batch_size = batch;
    }
    if let Some(lr) = p.get::<f32>("pretrain_lr", "a learning rate > 0")? {
        config.pretrain.adam.lr = lr;
    }
    config.finetune.scheme = scheme(&p, config.finetune.scheme)?;
    // A length given, or a batch scheme, replaces the passes over the graph the large-data
    // defaults count in.
    if p.get::<usize>("finetune_steps", "an integer >= 0")?.is_some()
        || matches!(
            config.finetune.scheme,
            Scheme::FixedBatches { .. } | Scheme::RedrawnBatches { .. }
        )
    {
        config.finetune.graph_epochs = None;
    }
    let f = &mut config.finetune;
    if let Some(v) = p.get::<f64>("perplexity", "a number > 0")? {
        f.perplexity = v;
    }
    if let Some(v) = p.get::<usize>("batch_size", "an integer >= 3")? {
        f.batch_size = v;
    }
    if let Some(v) = p.get::<f32>("lr", "a learning rate > 0")? {
        f.adam.lr = v;
    }
    if let Some(v) = p.get::<f32>("ce_weight", "a number >= 0")? {
        f.ce_weight = v;
    }
    if let Some(v) = p.get::<f32>("exaggeration", "a number >= 1")? {
        // A preset's fraction of 0 would silently switch a requested exaggeration off.
        f.set_exaggeration(v);
    }
    if let Some(v) = p.get::<f32>("exaggeration_fraction", "a fraction in [0, 1]")? {
        f.exaggeration_fraction = v;
    }
    if let Some(v) = p.get::<f64>("dof", "a number > 0")? {
        f.dof = v;
    }
    match p.choice("trainable", &["all", "head-only"])? {
        Some(0) => f.trainable = Trainable::All,
        Some(_) => f.trainable = Trainable::HeadOnly,
        None => {}
    }
    let shift_pixels = p.get::<u8>("shift_pixels", "an integer in 0..=255")?;
    if let Some(v) = shift_pixels {
        f.shift_pixels = v;
    }
    config
        .validate()
        .map_err(|e| value_error(format!("invalid parameters: {e}")))?;
    Ok(Built {
        config,
        scaling,
        shifts_requested: shift_pixels.is_some_and(|v| v > 0),
    })
}

/// The fine-tuning scheme: the preset's, or the one asked for with its lengths. A batch scheme
/// counts `finetune_epochs`, a sampling scheme `finetune_steps`; a length the library has no
/// default for in the chosen scheme is taken from the library's constants or the paper preset.
fn scheme(p: &Params<'_, '_>, from_preset: Scheme) -> PyResult<Scheme> {
    let kind = p.choice("scheme", &["coupled", "fixed", "redrawn", "negative"])?;
    let kind = kind.unwrap_or(match from_preset {
        Scheme::Coupled { .. } => 0,
        Scheme::FixedBatches { .. } => 1,
        Scheme::RedrawnBatches { .. } => 2,
        Scheme::NegativeSampling { .. } => 3,
    });
    let steps = p.get::<usize>("finetune_steps", "an integer >= 0")?;
    let epochs = p.get::<usize>("finetune_epochs", "an integer >= 0")?;
    let edges = p.get::<usize>("edges_per_step", "an integer >= 2")?;
    let negatives = p.get::<usize>("negatives", "an integer >= 1")?;
    let z_bar = p.get::<f64>("z_bar", "a number > 0")?;
    if kind != 3 && (negatives.is_some() || z_bar.is_some()) {
        return Err(value_error("negatives and z_bar belong to scheme='negative'"));
    }
    if kind == 1 || kind == 2 {
        if steps.is_some() || edges.is_some() {
            return Err(value_error(
                "finetune_steps and edges_per_step belong to scheme='coupled' or 'negative'; \
                 the batch schemes count finetune_epochs",
            ));
        }
        let epochs = epochs.unwrap_or(match from_preset {
            Scheme::FixedBatches { epochs } | Scheme::RedrawnBatches { epochs } => epochs,
            _ => paper_epochs(),
        });
        return Ok(if kind == 1 {
            Scheme::FixedBatches { epochs }
        } else {
            Scheme::RedrawnBatches { epochs }
        });
    }
    if epochs.is_some() {
        return Err(value_error(
            "finetune_epochs belongs to scheme='fixed' or 'redrawn'; scheme='coupled' and 'negative' \
             count finetune_steps (optimiser steps of edges_per_step sampled edges each)",
        ));
    }
    let (old_steps, old_edges, old_negatives, old_z_bar) = match from_preset {
        Scheme::Coupled { steps, edges_per_step } => (steps, edges_per_step, None, None),
        Scheme::NegativeSampling {
            steps,
            edges_per_step,
            negatives_per_edge,
            z_bar,
        } => (steps, edges_per_step, Some(negatives_per_edge), Some(z_bar)),
        _ => (Scheme::DEFAULT_STEPS, Scheme::DEFAULT_EDGES_PER_STEP, None, None),
    };
    let steps = steps.unwrap_or(old_steps);
    let edges_per_step = edges.unwrap_or(old_edges);
    Ok(if kind == 0 {
        Scheme::Coupled { steps, edges_per_step }
    } else {
        Scheme::NegativeSampling {
            steps,
            edges_per_step,
            negatives_per_edge: negatives
                .or(old_negatives)
                .unwrap_or(Scheme::DEFAULT_NEGATIVES_PER_EDGE),
            z_bar: z_bar.or(old_z_bar).unwrap_or(Scheme::DEFAULT_Z_BAR),
        }
    })
}

/// The fine-tuning epochs of the paper preset, for a batch scheme chosen on a preset that samples.
fn paper_epochs() -> usize {
    match TrainConfig::preset(Preset::Paper, 0).finetune.scheme {
        Scheme::FixedBatches { epochs } | Scheme::RedrawnBatches { epochs } => epochs,
        Scheme::Coupled { steps, .. } | Scheme::NegativeSampling { steps, .. } => steps,
    }
}
