//! Saliency maps of a model (`ssne_saliency`): class and Jacobian saliency, and directional
//! saliency between two groups of points, computed with the GIL released. Gradient maps are
//! with respect to the inputs as the user gave them, before the model's scaling.

use ndarray::{Array2, Array3, ArrayViewMut2};
use ssne_model::ParametricTsne;
use ssne_saliency::{
    Attribution, Baseline, Ensemble, EnsembleMaps, Gradient, IntegratedGradients, Networks, SaliencyError, SmoothGrad,
    Target, jacobians,
};

/// How a directional map is computed.
pub(crate) enum Method {
    /// One vector-Jacobian product.
    Gradient,
    /// Integrated gradients from an all-zero baseline in this many steps.
    Integrated { steps: usize },
    /// SmoothGrad: the mean gradient over noisy copies.
    SmoothGrad { samples: usize, noise: f32, seed: u64 },
}

impl Method {
    /// The method named `name` ("gradient", "integrated" or "smoothgrad") with its settings.
    ///
    /// # Errors
    /// `ValueError` for another name.
    pub(crate) fn parse(name: &str, steps: usize, samples: usize, noise: f32, seed: u64) -> pyo3::PyResult<Method> {
        match name {
            "gradient" => Ok(Method::Gradient),
            "integrated" => Ok(Method::Integrated { steps }),
            "smoothgrad" => Ok(Method::SmoothGrad { samples, noise, seed }),
            other => Err(pyo3::exceptions::PyValueError::new_err(format!(
                "method must be 'integrated', 'gradient' or 'smoothgrad', not {other:?}"
            ))),
        }
    }
}

fn networks(model: &ParametricTsne) -> Networks<'_> {
    Networks::from(model)
}

/// Gradients with respect to the model's scaled inputs, made gradients with respect to the inputs
/// the user gave (the chain rule through the stored scaling, `Scaling::gradient_to_raw`).
fn to_raw(model: &ParametricTsne, grads: ArrayViewMut2<'_, f32>) -> Result<(), String> {
    model.scaling.gradient_to_raw(grads).map_err(|e| e.to_string())
}

impl Method {
    /// Whether the maps are gradients (per unit of input), as opposed to integrated gradients'
    /// attributions (in units of the output), which do not depend on how the inputs are scaled.
    fn is_gradient(&self) -> bool {
        !matches!(self, Method::Integrated { .. })
    }
}

/// Class saliency `[n, features]`: the gradient of each row's class score (`classes`: one per row,
/// or the classifier's prediction when `None`).
pub(crate) fn class_maps(
    model: &ParametricTsne,
    x: &Array2<f32>,
    classes: Option<Vec<u32>>,
) -> Result<Array2<f32>, String> {
    let classes = match classes {
        Some(classes) => classes,
        None => model.classify(x.view()).map_err(|e| e.to_string())?,
    };
    let mut maps = Gradient
        .attribute(networks(model), x.view(), &Target::Classes(classes))
        .map_err(|e| e.to_string())?;
    to_raw(model, maps.view_mut())?;
    Ok(maps)
}

/// The Jacobian of the map at each row, `[n, 2, features]`.
pub(crate) fn jacobian_maps(model: &ParametricTsne, x: &Array2<f32>) -> Result<Array3<f32>, String> {
    let mut jacs = jacobians(&model.network, x.view()).map_err(|e| e.to_string())?;
    let (n, dim, features) = jacs.dim();
    let rows = jacs
        .view_mut()
        .into_shape_with_order((n * dim, features))
        .map_err(|e| e.to_string())?;
    to_raw(model, rows)?;
    Ok(jacs)
}

/// Directional saliency `[n, features]` at each row of `source`: what moves it along the unit
/// direction from the map's centre of `source` to the map's centre of `target`.
pub(crate) fn directional_maps(
    model: &ParametricTsne,
    source: &Array2<f32>,
    target: &Array2<f32>,
    method: &Method,
) -> Result<Array2<f32>, String> {
    let goal = Target::BetweenGroups {
        from: source.clone(),
        to: target.clone(),
    };
    let nets = networks(model);
    let run = |method: &dyn Attribution| -> Result<Array2<f32>, SaliencyError> {
        method.attribute(nets, source.view(), &goal)
    };
    let mut maps = with_method(model, method, run)?;
    if method.is_gradient() {
        to_raw(model, maps.view_mut())?;
    }
    Ok(maps)
}

/// The all-zero input as the user gives it, in the model's scaled space: integrated gradients
/// start there, so that their attributions add up to the change from the user's zeros.
fn zero_input_baseline(model: &ParametricTsne) -> Result<Baseline, String> {
    let zeros = Array2::zeros((1, model.network.n_features()));
    let baseline = crate::scaled_rows(model, zeros).map_err(|e| e.to_string())?;
    Ok(Baseline::Points(baseline))
}

/// Runs `run` with the attribution `method` names, for maps of `model`'s inputs.
fn with_method<T>(
    model: &ParametricTsne,
    method: &Method,
    run: impl Fn(&dyn Attribution) -> Result<T, SaliencyError>,
) -> Result<T, String> {
    let out = match *method {
        Method::Gradient => run(&Gradient),
        Method::Integrated { steps } => {
            IntegratedGradients::new(zero_input_baseline(model)?, steps).and_then(|ig| run(&ig))
        }
        Method::SmoothGrad { samples, noise, seed } => {
            SmoothGrad::new(Gradient, samples, noise, seed).and_then(|sg| run(&sg))
        }
    };
    out.map_err(|e| e.to_string())
}

/// Directional saliency of an ensemble: each member works out the direction in its own map; the
/// mean map `[n, features]` and the share of members agreeing with its sign. `scaled_by` is a
/// member whose input scaling every member shares (the caller checks that).
pub(crate) fn ensemble_directional_maps(
    scaled_by: &ParametricTsne,
    models: &[&ParametricTsne],
    source: &Array2<f32>,
    target: &Array2<f32>,
    method: &Method,
) -> Result<EnsembleMaps, String> {
    let ensemble = Ensemble::new(models.iter().map(|m| networks(m)).collect()).map_err(|e| e.to_string())?;
    let goal = Target::BetweenGroups {
        from: source.clone(),
        to: target.clone(),
    };
    let mut maps = with_method(scaled_by, method, |method| {
        ensemble.attribute(&method, source.view(), &goal)
    })?;
    // Dividing by the scaling keeps every sign, so the agreement stands.
    if method.is_gradient() {
        to_raw(scaled_by, maps.mean.view_mut())?;
    }
    Ok(maps)
}
