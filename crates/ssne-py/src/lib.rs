//! Python bindings for salient-sne: the extension module `salient_sne._core`.
//!
//! Bindings only: every number is computed by the library crates; this module
//! converts numpy arrays, releases the GIL around the work, runs it in a rayon
//! pool of the requested size and turns library errors into `ValueError` (and the operating
//! system's refusals into `OSError`).

mod params;
mod progress;
mod saliency;

use std::path::{Path, PathBuf};

use ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArray3, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::{
    PyFileExistsError, PyFileNotFoundError, PyIsADirectoryError, PyNotADirectoryError, PyOSError, PyPermissionError,
    PyTypeError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use ssne_data::{DataError, Dataset, Scaling};
use ssne_model::{Checkpointing, DataSummary, ParametricTsne, metrics, model_file};

use crate::progress::{Progress, StopFlag, run_interruptibly};

fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// A write that failed: the operating system's refusals as the matching `OSError` subclass, the
/// message naming the file.
fn write_error(e: DataError) -> PyErr {
    let message = e.to_string();
    let DataError::Io { source, .. } = &e else {
        return PyOSError::new_err(message);
    };
    match source.kind() {
        std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(message),
        std::io::ErrorKind::PermissionDenied => PyPermissionError::new_err(message),
        std::io::ErrorKind::AlreadyExists => PyFileExistsError::new_err(message),
        std::io::ErrorKind::IsADirectory => PyIsADirectoryError::new_err(message),
        std::io::ErrorKind::NotADirectory => PyNotADirectoryError::new_err(message),
        _ => PyOSError::new_err(message),
    }
}

/// Runs `work` in a rayon pool of `n_jobs` threads (0: rayon's default pool).
fn in_pool<T: Send>(n_jobs: usize, work: impl FnOnce() -> T + Send) -> PyResult<T> {
    if n_jobs == 0 {
        return Ok(work());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(n_jobs)
        .build()
        .map_err(value_error)?;
    Ok(pool.install(work))
}

/// A trained salient-sne model (the library's `ParametricTsne`).
#[pyclass(module = "salient_sne._core", frozen)]
struct Model {
    inner: ParametricTsne,
}

impl Model {
    /// `x` as the model sees it: checked for its width, then scaled as the training rows were.
    fn prepared(&self, x: PyReadonlyArray2<'_, f32>) -> PyResult<Array2<f32>> {
        let x = x.as_array();
        self.inner.network.check_features(x.ncols()).map_err(value_error)?;
        scaled_rows(&self.inner, x.to_owned()).map_err(value_error)
    }

    /// The map of `x` (prepared), refined `refine` steps against the training map when `refine` > 0.
    fn map(&self, x: &Array2<f32>, refine: usize) -> ssne_model::Result<Array2<f32>> {
        if refine == 0 {
            self.inner.embed(x.view())
        } else {
            let config = self.inner.refine_config(refine);
            Ok(self.inner.embed_refined(x.view(), &config)?.1.positions)
        }
    }
}

#[pymethods]
impl Model {
    /// Trains a model on `x` (n x d float32) with optional labels 0..k-1 named `label_names`;
    /// `params` holds the estimator's training parameters (see `params.rs`).
    #[staticmethod]
    #[pyo3(signature = (x, y, label_names, image_shape, params, n_jobs=0, verbose=false))]
    #[allow(clippy::too_many_arguments)]
    fn fit(
        py: Python<'_>,
        x: PyReadonlyArray2<'_, f32>,
        y: Option<PyReadonlyArray1<'_, u32>>,
        label_names: Option<Vec<String>>,
        image_shape: Option<(usize, usize)>,
        params: &Bound<'_, PyDict>,
        n_jobs: usize,
        verbose: bool,
    ) -> PyResult<Model> {
        let labels = y.map(|y| y.as_array().to_vec());
        let mut data = Dataset::new(x.as_array().to_owned(), labels).map_err(value_error)?;
        if let Some(names) = label_names {
            if data.n_classes() != Some(names.len()) {
                return Err(PyValueError::new_err(format!(
                    "{} label names for {:?} classes",
                    names.len(),
                    data.n_classes()
                )));
            }
            data.set_label_names(names);
        }
        if let Some((h, w)) = image_shape {
            data = data.with_image_shape([h, w]).map_err(value_error)?;
        }
        let built = params::build(params, Some(&DataSummary::of(&data)))?;
        if image_shape.is_none() && built.shifts_requested {
            return Err(PyValueError::new_err(
                "shift_pixels shifts images: give image_shape=(height, width) as well",
            ));
        }
        let scaling = data.fit_scaling(built.scaling);
        data.apply_scaling(&scaling).map_err(value_error)?;
        let config = built.config;
        let mut progress = Progress::new(verbose);
        let fitted = run_interruptibly(py, |stop| {
            in_pool(n_jobs, || {
                let mut sink = StopFlag(stop);
                let checkpoints = Checkpointing {
                    resume: None,
                    sink: Some(&mut sink),
                };
                ParametricTsne::fit_with(&data, None, &config, &mut progress, checkpoints)
            })
        })??;
        Ok(Model {
            inner: fitted.map_err(value_error)?,
        })
    }

    /// Maps rows of `x` to 2-D; `refine` > 0 refines them that many steps against the training map.
    #[pyo3(signature = (x, refine=0, n_jobs=0))]
    fn embed<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
        refine: usize,
        n_jobs: usize,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let x = self.prepared(x)?;
        let out = py.detach(|| in_pool(n_jobs, || self.map(&x, refine)))?;
        Ok(out.map_err(value_error)?.into_pyarray(py))
    }

    /// Class indices 0..k-1 from the pretrained classifier.
    fn classify<'py>(&self, py: Python<'py>, x: PyReadonlyArray2<'py, f32>) -> PyResult<Bound<'py, PyArray1<u32>>> {
        let x = self.prepared(x)?;
        let model = &self.inner;
        let out = py.detach(|| model.classify(x.view())).map_err(value_error)?;
        Ok(out.into_pyarray(py))
    }

    /// The `k`-NN accuracy of the map of `x` (labels `y`, as class indices) against the training map.
    #[pyo3(signature = (x, y, k=10, refine=0, n_jobs=0))]
    fn knn_accuracy(
        &self,
        py: Python<'_>,
        x: PyReadonlyArray2<'_, f32>,
        y: PyReadonlyArray1<'_, u32>,
        k: usize,
        refine: usize,
        n_jobs: usize,
    ) -> PyResult<f64> {
        let x = self.prepared(x)?;
        let y = y.as_array().to_vec();
        let reference = &self.inner.reference;
        let labels = reference
            .labels
            .as_deref()
            .ok_or_else(|| PyValueError::new_err("the model was trained without labels, so it has no k-NN accuracy"))?;
        let out = py.detach(|| {
            in_pool(n_jobs, || {
                let map = self.map(&x, refine)?;
                metrics::knn_accuracy(reference.embedding.view(), labels, map.view(), &y, k)
            })
        })?;
        out.map_err(value_error)
    }

    /// Class saliency `[n, features]`: the gradient of each row's class score, for `classes`
    /// (one class index per row) or the classifier's predictions.
    #[pyo3(signature = (x, classes=None, n_jobs=0))]
    fn class_saliency<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
        classes: Option<PyReadonlyArray1<'py, u32>>,
        n_jobs: usize,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let x = self.prepared(x)?;
        let classes = classes.map(|c| c.as_array().to_vec());
        let out = py.detach(|| in_pool(n_jobs, || saliency::class_maps(&self.inner, &x, classes)))?;
        Ok(out.map_err(PyValueError::new_err)?.into_pyarray(py))
    }

    /// The Jacobian of the map at each row, `[n, 2, features]`.
    #[pyo3(signature = (x, n_jobs=0))]
    fn jacobian_saliency<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
        n_jobs: usize,
    ) -> PyResult<Bound<'py, PyArray3<f32>>> {
        let x = self.prepared(x)?;
        let out = py.detach(|| in_pool(n_jobs, || saliency::jacobian_maps(&self.inner, &x)))?;
        Ok(out.map_err(PyValueError::new_err)?.into_pyarray(py))
    }

    /// Directional saliency `[n, features]` at each row of `source`, toward `target`'s centre in
    /// the map; `method` is "gradient", "integrated" (`steps`) or "smoothgrad" (`samples`,
    /// `noise`, `seed`).
    #[pyo3(signature = (source, target, method, steps, samples, noise, seed, n_jobs=0))]
    #[allow(clippy::too_many_arguments)]
    fn directional_saliency<'py>(
        &self,
        py: Python<'py>,
        source: PyReadonlyArray2<'py, f32>,
        target: PyReadonlyArray2<'py, f32>,
        method: &str,
        steps: usize,
        samples: usize,
        noise: f32,
        seed: u64,
        n_jobs: usize,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let method = saliency::Method::parse(method, steps, samples, noise, seed)?;
        let source = self.prepared(source)?;
        let target = self.prepared(target)?;
        let out = py.detach(|| {
            in_pool(n_jobs, || {
                saliency::directional_maps(&self.inner, &source, &target, &method)
            })
        })?;
        Ok(out.map_err(PyValueError::new_err)?.into_pyarray(py))
    }

    /// The map of the training rows.
    fn reference_embedding<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f32>> {
        self.inner.reference.embedding.clone().into_pyarray(py)
    }

    /// The number of input features.
    fn n_features(&self) -> usize {
        self.inner.network.n_features()
    }

    /// The classifier's class count, `None` for a model trained without labels.
    fn n_classes(&self) -> Option<usize> {
        self.inner.classifier.as_ref().map(|c| c.spec.n_outputs())
    }

    /// The class names stored with the model, when the labels were not 0..k-1.
    fn label_names(&self) -> Option<Vec<String>> {
        self.inner.label_names.clone()
    }

    /// The image shape (height, width) of the inputs, when they are images.
    fn image_shape(&self) -> Option<(usize, usize)> {
        self.inner.image_shape.map(|[h, w]| (h, w))
    }

    /// The input scaling fitted on the training rows: "none", "unit-range" or "standardize".
    fn scaling_kind(&self) -> &'static str {
        match self.inner.scaling {
            Scaling::None => "none",
            Scaling::UnitRange { .. } => "unit-range",
            Scaling::Standardize { .. } => "standardize",
        }
    }

    /// The training configuration, as JSON.
    fn config_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.inner.config).map_err(value_error)
    }

    /// The model file's bytes (the `.ssne` format).
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = model_file::to_bytes(&self.inner).map_err(value_error)?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Writes the map as an ONNX model (`ssne_onnx::to_onnx`) at `path`, atomically (a temporary
    /// file beside it, then a rename); `probabilities` adds the classifier's class probabilities as
    /// a second output. Returns the number of bytes written.
    #[pyo3(signature = (path, probabilities=false))]
    fn to_onnx(&self, py: Python<'_>, path: PathBuf, probabilities: bool) -> PyResult<usize> {
        let options = ssne_onnx::ExportOptions { probabilities };
        let model = &self.inner;
        let bytes = py
            .detach(|| ssne_onnx::to_onnx(model, &options))
            .map_err(|e| PyValueError::new_err(format!("the model cannot be exported to ONNX: {e}")))?;
        py.detach(|| ssne_data::write_atomic(&path, |out| out.write_all(&bytes)))
            .map_err(write_error)?;
        Ok(bytes.len())
    }

    /// A model from `.ssne` bytes; `source` names them in error messages.
    #[staticmethod]
    #[pyo3(signature = (data, source="<bytes>"))]
    fn from_bytes(data: &[u8], source: &str) -> PyResult<Model> {
        let inner = model_file::from_bytes(data, Path::new(source)).map_err(value_error)?;
        Ok(Model { inner })
    }
}

/// An ensemble's mean map and the share of members agreeing with its sign.
type MeanAndAgreement<'py> = (Bound<'py, PyArray2<f32>>, Bound<'py, PyArray2<f32>>);

/// Directional saliency of an ensemble of models at each row of `source`, toward `target`: the
/// mean map `[n, features]` and the share of members that agree with its sign. The members must
/// take the same features with the same scaling.
#[pyfunction]
#[pyo3(signature = (models, source, target, method, steps, samples, noise, seed, n_jobs=0))]
#[allow(clippy::too_many_arguments)]
fn ensemble_directional_saliency<'py>(
    py: Python<'py>,
    models: Vec<PyRef<'py, Model>>,
    source: PyReadonlyArray2<'py, f32>,
    target: PyReadonlyArray2<'py, f32>,
    method: &str,
    steps: usize,
    samples: usize,
    noise: f32,
    seed: u64,
    n_jobs: usize,
) -> PyResult<MeanAndAgreement<'py>> {
    let method = saliency::Method::parse(method, steps, samples, noise, seed)?;
    let first = models
        .first()
        .ok_or_else(|| PyValueError::new_err("an ensemble needs at least one fitted model"))?;
    if models.iter().any(|m| m.inner.scaling != first.inner.scaling) {
        return Err(PyValueError::new_err(
            "the ensemble's models scale their inputs differently, so no one input means the same to all",
        ));
    }
    let source = first.prepared(source)?;
    let target = first.prepared(target)?;
    let members: Vec<&ParametricTsne> = models.iter().map(|m| &m.inner).collect();
    let scaled_by = &first.inner;
    let out = py.detach(|| {
        in_pool(n_jobs, || {
            saliency::ensemble_directional_maps(scaled_by, &members, &source, &target, &method)
        })
    })?;
    let maps = out.map_err(PyValueError::new_err)?;
    Ok((maps.mean.into_pyarray(py), maps.agreement.into_pyarray(py)))
}

/// The rows `x` as `model` sees them: through its stored input scaling.
pub(crate) fn scaled_rows(model: &ParametricTsne, x: Array2<f32>) -> ssne_model::Result<Array2<f32>> {
    if model.scaling == Scaling::None {
        return Ok(x);
    }
    let mut data = Dataset::new(x, None)?;
    model.prepare(&mut data)?;
    Ok(data.features)
}

/// The training configuration that the estimator's parameters `params` describe, as JSON (the
/// serialisation of `ssne_model::TrainConfig`); raises what `fit` would raise for them.
#[pyfunction]
fn config_json(params: &Bound<'_, PyDict>) -> PyResult<String> {
    let built = params::build(params, None)?;
    serde_json::to_string(&built.config).map_err(value_error)
}

/// The library's configuration of a preset with a seed, as JSON (`TrainConfig::preset`).
#[pyfunction]
fn preset_json(preset: &str, seed: u64) -> PyResult<String> {
    let preset = match preset {
        "default" => ssne_model::Preset::Default,
        "paper" => ssne_model::Preset::Paper,
        other => {
            return Err(PyValueError::new_err(format!(
                "preset must be 'default' or 'paper', not {other:?}"
            )));
        }
    };
    serde_json::to_string(&ssne_model::TrainConfig::preset(preset, seed)).map_err(value_error)
}

/// Features and labels as numpy arrays.
type Arrays<'py> = (Bound<'py, PyArray2<f32>>, Bound<'py, PyArray1<u32>>);

/// The bundled 10,000-digit MNIST sample as (features n x 784 float32 in 0..1, labels).
#[pyfunction]
fn load_mnist_sample<'py>(py: Python<'py>) -> PyResult<Arrays<'py>> {
    let data = ssne_data::bundled::mnist_sample().map_err(value_error)?;
    let labels = data
        .labels
        .clone()
        .ok_or_else(|| PyTypeError::new_err("the bundled sample has no labels"))?;
    Ok((data.features.into_pyarray(py), labels.into_pyarray(py)))
}

/// The extension module.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Model>()?;
    m.add_function(wrap_pyfunction!(load_mnist_sample, m)?)?;
    m.add_function(wrap_pyfunction!(config_json, m)?)?;
    m.add_function(wrap_pyfunction!(ensemble_directional_saliency, m)?)?;
    m.add_function(wrap_pyfunction!(preset_json, m)?)?;
    m.add("PARAMETER_NAMES", params::NAMES.to_vec())?;
    m.add("VERSION", env!("CARGO_PKG_VERSION"))?;
    m.add("ONNX_IR_VERSION", ssne_onnx::IR_VERSION)?;
    m.add("ONNX_OPSET", ssne_onnx::OPSET)?;
    m.add(
        "DEFAULT_REFINE_STEPS",
        ssne_model::refine::RefineConfig::default().steps,
    )?;
    Ok(())
}
