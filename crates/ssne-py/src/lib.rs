//! Python bindings for salient-sne: the extension module `salient_sne._core`.
//!
//! Bindings only: every number is computed by the library crates; this module
//! converts numpy arrays, releases the GIL around the work, runs it in a rayon
//! pool of the requested size and turns library errors into `ValueError`.

use std::path::Path;

use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray2};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use ssne_data::Dataset;
use ssne_model::{ParametricTsne, Preset, Silent, TrainConfig, checkpoint};

fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
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

fn parse_preset(preset: &str) -> PyResult<Preset> {
    match preset {
        "default" => Ok(Preset::Default),
        "paper" => Ok(Preset::Paper),
        other => Err(PyValueError::new_err(format!(
            "preset must be 'default' or 'paper', not {other:?}"
        ))),
    }
}

/// A trained salient-sne model (the library's `ParametricTsne`).
#[pyclass(module = "salient_sne._core", frozen)]
struct Model {
    inner: ParametricTsne,
}

#[pymethods]
impl Model {
    /// Trains a model on `x` (n x d float32) with optional labels 0..k-1.
    #[staticmethod]
    #[pyo3(signature = (x, y=None, preset="default", seed=0, n_jobs=0, image_shape=None))]
    fn fit(
        py: Python<'_>,
        x: PyReadonlyArray2<'_, f32>,
        y: Option<Vec<u32>>,
        preset: &str,
        seed: u64,
        n_jobs: usize,
        image_shape: Option<(usize, usize)>,
    ) -> PyResult<Model> {
        let config = TrainConfig::preset(parse_preset(preset)?, seed);
        let mut data = Dataset::new(x.as_array().to_owned(), y).map_err(value_error)?;
        if let Some((h, w)) = image_shape {
            data = data.with_image_shape([h, w]).map_err(value_error)?;
        }
        let fitted = py.detach(|| in_pool(n_jobs, || ParametricTsne::fit(&data, None, &config, &mut Silent)))?;
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
        let x = x.as_array().to_owned();
        let model = &self.inner;
        let out = py.detach(|| {
            in_pool(n_jobs, || {
                if refine == 0 {
                    model.embed(x.view())
                } else {
                    model
                        .embed_refined(x.view(), &model.refine_config(refine))
                        .map(|(_, refined)| refined.positions)
                }
            })
        })?;
        Ok(out.map_err(value_error)?.into_pyarray(py))
    }

    /// Class indices 0..k-1 from the pretrained classifier.
    fn classify<'py>(&self, py: Python<'py>, x: PyReadonlyArray2<'py, f32>) -> PyResult<Bound<'py, PyArray1<u32>>> {
        let x = x.as_array().to_owned();
        let model = &self.inner;
        let out = py.detach(|| model.classify(x.view())).map_err(value_error)?;
        Ok(out.into_pyarray(py))
    }

    /// The map of the training rows.
    fn reference_embedding<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f32>> {
        self.inner.reference.embedding.clone().into_pyarray(py)
    }

    /// The number of input features.
    fn n_features(&self) -> usize {
        self.inner.network.n_features()
    }

    /// The model file's bytes (the `.ssne` format).
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = checkpoint::to_bytes(&self.inner).map_err(value_error)?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// A model from `.ssne` bytes; `source` names them in error messages.
    #[staticmethod]
    #[pyo3(signature = (data, source="<bytes>"))]
    fn from_bytes(data: &[u8], source: &str) -> PyResult<Model> {
        let inner = checkpoint::from_bytes(data, Path::new(source)).map_err(value_error)?;
        Ok(Model { inner })
    }
}

/// The bundled 10,000-digit MNIST sample as (features n x 784 float32 in 0..1, labels).
#[pyfunction]
fn load_mnist_sample<'py>(py: Python<'py>) -> PyResult<(Bound<'py, PyArray2<f32>>, Bound<'py, PyArray1<u32>>)> {
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
    Ok(())
}
