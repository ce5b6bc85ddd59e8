//! Model files: a fixed header (magic, format version, payload length, CRC-32)
//! followed by a bincode-2 payload; written atomically, validated on load.

use std::path::Path;

use serde::{Deserialize, Serialize};
use ssne_data::Scaling;
use ssne_tensor::ndarray::{Array1, Array2};

use crate::config::TrainConfig;
use crate::envelope::{self, FileKind};
use crate::model::{ModelStage, ParametricTsne, Reference, TrainReport};
use crate::network::{Dense, Network, NetworkSpec, check_projection};
use crate::pca::Pca;
use crate::{ModelError, Result};

/// The first 8 bytes of every model file.
pub const MAGIC: [u8; 8] = *b"SSNEMODL";
/// The version of the payload layout; files of other versions are refused.
/// (2: the fine-tuning configuration gained `shift_pixels` and the
/// `NegativeSampling` scheme; the reference inputs may be a PCA projection,
/// `TrainConfig::reference_space`.)
/// (3: the training report no longer stores wall-clock seconds, and a
/// fine-tuned model must carry a non-empty reference map of its own dimension.)
/// (4: the fine-tuning configuration gained `knn` and `knn_space`, and the network shape and the
/// configuration say whether the layers have biases, `NetworkSpec::biases`, for the
/// bias-free `Preset::Additive`.)
/// (5: the fine-tuning configuration gained `graph_epochs`, `exaggeration_epochs` and
/// `mid_near`, and its learning-rate schedule the `Linear` variant; a network may have a fixed
/// input projection, `NetworkSpec::input_projection` and `Network::input_projection`, and the
/// configuration says so, `TrainConfig::input_pca`.)
pub const FORMAT_VERSION: u32 = 5;

/// The framing of model files (shared with training states, `crate::envelope`).
const KIND: FileKind = FileKind {
    magic: MAGIC,
    version: FORMAT_VERSION,
    name: "model file",
    on_other_version: "retrain the model or use the matching release",
};

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredMatrix {
    rows: u64,
    cols: u64,
    data: Vec<f32>,
}

impl StoredMatrix {
    pub(crate) fn from(m: &Array2<f32>) -> Self {
        StoredMatrix {
            rows: m.nrows() as u64,
            cols: m.ncols() as u64,
            data: m.iter().copied().collect(),
        }
    }

    pub(crate) fn into_array(self, what: &str) -> std::result::Result<Array2<f32>, String> {
        let shape = (self.rows as usize, self.cols as usize);
        Array2::from_shape_vec(shape, self.data)
            .map_err(|e| format!("{what}: stored shape {shape:?} does not fit its data ({e})"))
    }
}

#[derive(Serialize, Deserialize)]
struct StoredPca {
    mean: Vec<f32>,
    components: StoredMatrix,
    explained_variance: Vec<f64>,
    total_variance: f64,
}

impl StoredPca {
    fn from(p: &Pca) -> Self {
        StoredPca {
            mean: p.mean.to_vec(),
            components: StoredMatrix::from(&p.components),
            explained_variance: p.explained_variance.clone(),
            total_variance: p.total_variance,
        }
    }

    fn into_pca(self) -> std::result::Result<Pca, String> {
        let components = self.components.into_array("reference PCA components")?;
        if self.mean.len() != components.ncols() || self.explained_variance.len() != components.nrows() {
            return Err(format!(
                "the reference PCA has {} components of {} features, but {} means and {} variances",
                components.nrows(),
                components.ncols(),
                self.mean.len(),
                self.explained_variance.len()
            ));
        }
        Ok(Pca {
            mean: Array1::from(self.mean),
            components,
            explained_variance: self.explained_variance,
            total_variance: self.total_variance,
        })
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredNetwork {
    spec: NetworkSpec,
    layers: Vec<(StoredMatrix, StoredMatrix)>,
    head: (StoredMatrix, StoredMatrix),
    input_mask: Option<Vec<bool>>,
    input_projection: Option<(StoredMatrix, StoredMatrix)>,
}

#[derive(Serialize, Deserialize)]
struct StoredModel {
    crate_version: String,
    network: StoredNetwork,
    classifier: Option<StoredNetwork>,
    config: TrainConfig,
    scaling: Scaling,
    image_shape: Option<[usize; 2]>,
    label_names: Option<Vec<String>>,
    reference_embedding: StoredMatrix,
    reference_labels: Option<Vec<u32>>,
    reference_inputs: Option<StoredMatrix>,
    reference_projection: Option<StoredPca>,
    stage: ModelStage,
    report: TrainReport,
}

pub(crate) fn store_network(n: &Network) -> StoredNetwork {
    StoredNetwork {
        spec: n.spec.clone(),
        layers: n
            .layers
            .iter()
            .map(|l| (StoredMatrix::from(&l.weight), StoredMatrix::from(&l.bias)))
            .collect(),
        head: (StoredMatrix::from(&n.head.weight), StoredMatrix::from(&n.head.bias)),
        input_mask: n.input_mask.clone(),
        input_projection: n
            .input_projection
            .as_ref()
            .map(|p| (StoredMatrix::from(&p.weight), StoredMatrix::from(&p.bias))),
    }
}

pub(crate) fn restore_network(s: StoredNetwork) -> std::result::Result<Network, String> {
    s.spec.validate().map_err(|e| e.to_string())?;
    let widths = s.spec.layer_widths.clone();
    if s.layers.len() + 1 != widths.len() {
        return Err(format!("{} layers stored for widths {widths:?}", s.layers.len()));
    }
    let mut layers = Vec::with_capacity(s.layers.len());
    let input_projection = match s.input_projection {
        Some((w, b)) => {
            let projection = Dense {
                weight: w.into_array("input projection")?,
                bias: b.into_array("input projection offset")?,
            };
            check_projection(&s.spec, &projection).map_err(|need| format!("the input projection must be {need}"))?;
            Some(projection)
        }
        None if s.spec.input_projection.is_some() => {
            return Err("the spec has an input projection, but none is stored".into());
        }
        None => None,
    };
    for (i, (w, b)) in s.layers.into_iter().enumerate() {
        let weight = w.into_array("layer weight")?;
        let bias = b.into_array("layer bias")?;
        let n_in = if i == 0 { s.spec.first_layer_inputs() } else { widths[i] };
        if weight.dim() != (n_in, widths[i + 1]) || bias.dim() != (1, widths[i + 1]) {
            return Err(format!(
                "layer {i} has shapes {:?} and {:?}, expected ({}, {}) and (1, {})",
                weight.dim(),
                bias.dim(),
                n_in,
                widths[i + 1],
                widths[i + 1]
            ));
        }
        layers.push(Dense { weight, bias });
    }
    let head = Dense {
        weight: s.head.0.into_array("head weight")?,
        bias: s.head.1.into_array("head bias")?,
    };
    if head.weight.ncols() != s.spec.embedding_dim || head.bias.dim() != (1, s.spec.embedding_dim) {
        return Err("the head does not produce the stored embedding dimension".into());
    }
    if s.input_mask.as_ref().is_some_and(|m| m.len() != widths[0]) {
        return Err("the input mask does not match the input width".into());
    }
    let network = Network {
        spec: s.spec,
        layers,
        head,
        input_mask: s.input_mask,
        input_projection,
    };
    // A forward pass on one zero row proves the head's input width matches the spec.
    network
        .infer(Array2::zeros((1, widths[0])).view())
        .map_err(|e| format!("the stored network cannot run: {e}"))?;
    Ok(network)
}

/// Serialises a model into the bytes of a model file.
///
/// # Errors
/// [`ModelError::BadModelFile`] if encoding fails (it should not).
pub fn to_bytes(model: &ParametricTsne) -> Result<Vec<u8>> {
    let stored = StoredModel {
        crate_version: env!("CARGO_PKG_VERSION").to_string(),
        network: store_network(&model.network),
        classifier: model.classifier.as_ref().map(store_network),
        config: model.config.clone(),
        scaling: model.scaling.clone(),
        image_shape: model.image_shape,
        label_names: model.label_names.clone(),
        reference_embedding: StoredMatrix::from(&model.reference.embedding),
        reference_labels: model.reference.labels.clone(),
        reference_inputs: model.reference.inputs.as_ref().map(StoredMatrix::from),
        reference_projection: model.reference.projection.as_ref().map(StoredPca::from),
        stage: model.stage,
        report: model.report.clone(),
    };
    let payload = envelope::encode(&stored).map_err(|problem| ModelError::BadModelFile {
        path: "<memory>".into(),
        problem,
    })?;
    Ok(envelope::seal(KIND, &payload))
}

/// Parses the bytes of a model file; `source` names it in errors.
///
/// # Errors
/// [`ModelError::BadModelFile`] saying what is wrong: not a model file, another
/// format version, truncated, checksum mismatch, or inconsistent contents.
pub fn from_bytes(bytes: &[u8], source: &Path) -> Result<ParametricTsne> {
    let bad = |problem: String| ModelError::BadModelFile {
        path: source.to_path_buf(),
        problem,
    };
    let payload = envelope::open(KIND, bytes).map_err(bad)?;
    let stored: StoredModel = envelope::decode(payload).map_err(bad)?;
    let network = restore_network(stored.network).map_err(|p| bad(format!("network: {p}")))?;
    let classifier = stored
        .classifier
        .map(restore_network)
        .transpose()
        .map_err(|p| bad(format!("classifier: {p}")))?;
    let embedding = stored
        .reference_embedding
        .into_array("reference embedding")
        .map_err(bad)?;
    if embedding.ncols() != network.spec.embedding_dim {
        return Err(bad(format!(
            "the reference map has {} columns, but the network embeds in {} dimensions",
            embedding.ncols(),
            network.spec.embedding_dim
        )));
    }
    // Refinement, k-NN metrics and plots all search the reference map, so a
    // fine-tuned model without one is unusable, not merely incomplete.
    if stored.stage == ModelStage::Finetuned && embedding.nrows() == 0 {
        return Err(bad("the fine-tuned model has an empty reference map (0 rows)".into()));
    }
    if stored
        .reference_labels
        .as_ref()
        .is_some_and(|l| l.len() != embedding.nrows())
    {
        return Err(bad("the reference labels do not match the reference map".into()));
    }
    let inputs = stored
        .reference_inputs
        .map(|m| m.into_array("reference inputs"))
        .transpose()
        .map_err(bad)?;
    let projection = stored
        .reference_projection
        .map(StoredPca::into_pca)
        .transpose()
        .map_err(bad)?;
    if projection
        .as_ref()
        .is_some_and(|pca| pca.n_features() != network.n_features() || inputs.is_none())
    {
        return Err(bad(
            "the reference PCA does not match the input width or has no reference inputs".into(),
        ));
    }
    // Reference inputs are in the PCA's space when there is one, else raw.
    let input_width = projection.as_ref().map_or(network.n_features(), Pca::n_components);
    if inputs
        .as_ref()
        .is_some_and(|x| x.nrows() != embedding.nrows() || x.ncols() != input_width)
    {
        return Err(bad(
            "the reference inputs do not match the reference map or the input width".into(),
        ));
    }
    stored
        .config
        .validate()
        .map_err(|e| bad(format!("stored configuration: {e}")))?;
    check_against_config(&network, classifier.as_ref(), &stored.config).map_err(bad)?;
    check_inputs(&network, &stored.scaling, stored.image_shape).map_err(bad)?;
    check_classes(
        &network,
        stored.reference_labels.as_deref(),
        stored.label_names.as_deref(),
    )
    .map_err(bad)?;
    check_finite(&network, classifier.as_ref(), &embedding, &stored.scaling).map_err(bad)?;
    Ok(ParametricTsne {
        network,
        classifier,
        config: stored.config,
        scaling: stored.scaling,
        image_shape: stored.image_shape,
        label_names: stored.label_names,
        reference: Reference {
            embedding,
            labels: stored.reference_labels,
            inputs,
            projection,
        },
        stage: stored.stage,
        report: stored.report,
    })
}

/// The networks must be the ones the stored configuration builds: a file whose
/// spec disagrees with its own configuration (say a 1-D head) would load and
/// then fail far from here, in a plot or a saliency map.
fn check_against_config(
    network: &Network,
    classifier: Option<&Network>,
    config: &TrainConfig,
) -> std::result::Result<(), String> {
    let spec = &network.spec;
    let expected = config.network_spec(spec.n_features(), spec.n_outputs());
    if *spec != expected {
        return Err(format!(
            "the network ({}) is not the one its stored configuration builds ({})",
            describe_spec(spec),
            describe_spec(&expected)
        ));
    }
    if let Some(classifier) = classifier
        && classifier.spec.layer_widths != spec.layer_widths
    {
        return Err(format!(
            "the classifier has widths {:?}, but the network has {:?}",
            classifier.spec.layer_widths, spec.layer_widths
        ));
    }
    // A bias-free network's exact additive attribution relies on its biases being zero.
    for (what, net) in std::iter::once(("network", network)).chain(classifier.map(|c| ("classifier", c))) {
        if !net.spec.biases && !net.biases_are_zero() {
            return Err(format!("the {what} is stored as bias-free but has non-zero biases"));
        }
    }
    Ok(())
}

fn describe_spec(spec: &NetworkSpec) -> String {
    format!(
        "widths {:?}, a {}-D map, head on {:?}, output scale {}, {}",
        spec.layer_widths,
        spec.embedding_dim,
        spec.head_input,
        spec.output_scale,
        if spec.biases { "with biases" } else { "no biases" }
    )
}

/// The scaling and the image shape describe the network's inputs.
fn check_inputs(
    network: &Network,
    scaling: &Scaling,
    image_shape: Option<[usize; 2]>,
) -> std::result::Result<(), String> {
    let n_features = network.n_features();
    let scaled = match scaling {
        Scaling::None => None,
        Scaling::UnitRange { min, max } => Some((min.len(), max.len())),
        Scaling::Standardize { mean, std } => Some((mean.len(), std.len())),
    };
    if let Some((a, b)) = scaled
        && (a != n_features || b != n_features)
    {
        return Err(format!(
            "the input scaling has {a} and {b} parameters, but the network reads {n_features} features"
        ));
    }
    if let Some([h, w]) = image_shape
        && h.checked_mul(w) != Some(n_features)
    {
        return Err(format!(
            "the image shape {h} x {w} does not give the network's {n_features} features"
        ));
    }
    Ok(())
}

/// Every reference label and class name has a classifier output.
fn check_classes(
    network: &Network,
    labels: Option<&[u32]>,
    names: Option<&[String]>,
) -> std::result::Result<(), String> {
    let n_outputs = network.spec.n_outputs();
    if let Some(max) = labels.and_then(|l| l.iter().max())
        && *max as usize >= n_outputs
    {
        return Err(format!(
            "a reference label is {max}, but the network has {n_outputs} class outputs"
        ));
    }
    if let Some(names) = names
        && names.len() > n_outputs
    {
        return Err(format!(
            "{} class names are stored for {n_outputs} class outputs",
            names.len()
        ));
    }
    Ok(())
}

/// A NaN or infinity anywhere in the parameters would turn every embedded
/// point into NaN without an error.
fn check_finite(
    network: &Network,
    classifier: Option<&Network>,
    embedding: &Array2<f32>,
    scaling: &Scaling,
) -> std::result::Result<(), String> {
    let network_finite = |n: &Network| {
        n.layers
            .iter()
            .chain(std::iter::once(&n.head))
            .chain(&n.input_projection)
            .all(|l| all_finite(&l.weight) && all_finite(&l.bias))
    };
    if !network_finite(network) {
        return Err("the network's weights contain NaN or infinity".into());
    }
    if classifier.is_some_and(|c| !network_finite(c)) {
        return Err("the classifier's weights contain NaN or infinity".into());
    }
    if !all_finite(embedding) {
        return Err("the reference map contains NaN or infinity".into());
    }
    let scaling_finite = match scaling {
        Scaling::None => true,
        Scaling::UnitRange { min: a, max: b } | Scaling::Standardize { mean: a, std: b } => {
            all_finite(a.iter().chain(b))
        }
    };
    if !scaling_finite {
        return Err("the input scaling contains NaN or infinity".into());
    }
    Ok(())
}

fn all_finite<'a>(values: impl IntoIterator<Item = &'a f32>) -> bool {
    values.into_iter().all(|v| v.is_finite())
}

/// Writes `model` to `path` atomically (temporary file, then rename).
///
/// # Errors
/// [`ModelError::Data`] wrapping the I/O error with the path.
pub fn save(model: &ParametricTsne, path: &Path) -> Result<()> {
    let bytes = to_bytes(model)?;
    ssne_data::write_atomic(path, |w| w.write_all(&bytes))?;
    Ok(())
}

/// Reads a model file.
///
/// # Errors
/// [`ModelError::Io`] when it cannot be read, [`ModelError::BadModelFile`] when it is not valid.
pub fn load(path: &Path) -> Result<ParametricTsne> {
    let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    from_bytes(&bytes, path)
}
