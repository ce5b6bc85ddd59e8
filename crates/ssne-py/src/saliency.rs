//! Saliency maps of a model (`ssne_saliency`): class and Jacobian saliency, and directional
//! saliency between two groups of points, computed with the GIL released.

use ndarray::{Array2, Array3};
use ssne_model::ParametricTsne;
use ssne_saliency::{
    Attribution, Baseline, Gradient, IntegratedGradients, Networks, SaliencyError, SmoothGrad, Target, jacobians,
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

fn networks(model: &ParametricTsne) -> Networks<'_> {
    Networks::from(model)
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
    Gradient
        .attribute(networks(model), x.view(), &Target::Classes(classes))
        .map_err(|e| e.to_string())
}

/// The Jacobian of the map at each row, `[n, 2, features]`.
pub(crate) fn jacobian_maps(model: &ParametricTsne, x: &Array2<f32>) -> Result<Array3<f32>, String> {
    jacobians(&model.network, x.view()).map_err(|e| e.to_string())
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
    let maps = match *method {
        Method::Gradient => run(&Gradient),
        Method::Integrated { steps } => IntegratedGradients::new(Baseline::Zeros, steps).and_then(|ig| run(&ig)),
        Method::SmoothGrad { samples, noise, seed } => {
            SmoothGrad::new(Gradient, samples, noise, seed).and_then(|sg| run(&sg))
        }
    };
    maps.map_err(|e| e.to_string())
}
