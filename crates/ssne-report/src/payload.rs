//! The data the page reads: the networks, the scaling, the points, the cluster centres and pairs,
//! as one JSON object whose arrays are base64 (`f32` little-endian, or grey levels as bytes).

use serde_json::{Value, json};
use ssne_data::Dataset;
use ssne_data::ndarray::ArrayView2;
use ssne_model::{HeadInput, ModelStage, Network, ParametricTsne, clusters};
use ssne_saliency::{Baseline, Groups, IntegratedGradients, Networks, directional};

use crate::base64::{encode, f32_le};
use crate::error::{ReportError, Result};
use crate::input::ReportInput;

/// Grey levels `k / 255` are stored as one byte each; anything else as `f32`.
const GREY_LEVELS: f32 = 255.0;

/// The JSON object of the page, built from `input`.
pub(crate) fn payload(input: &ReportInput<'_>) -> Result<Value> {
    let model = input.model;
    if model.stage != ModelStage::Finetuned {
        return Err(ReportError::NotFinetuned);
    }
    let n_features = model.n_features();
    let points = scaled(model, input.points, "points")?;
    let embedding = model.embed(points.features.view())?;
    let n = points.n_points();
    if let Some(refined) = input.refined
        && refined.dim() != (n, 2)
    {
        return Err(ReportError::Mismatch {
            what: "refined positions (one row of 2 per point)",
            expected: n,
            found: refined.nrows(),
        });
    }
    let reference = &model.reference;
    let training = match input.training {
        Some(training) => {
            if training.n_points() != reference.embedding.nrows() {
                return Err(ReportError::Mismatch {
                    what: "training rows (one per point of the model's map)",
                    expected: reference.embedding.nrows(),
                    found: training.n_points(),
                });
            }
            Some(scaled(model, training, "training rows")?)
        }
        None => None,
    };
    let n_classes = class_count(model, input.points.labels.as_deref());
    let label_names: Vec<String> = (0..n_classes)
        .map(|l| {
            model
                .label_names
                .as_ref()
                .and_then(|names| names.get(l))
                .cloned()
                .unwrap_or_else(|| l.to_string())
        })
        .collect();
    let centres = match reference.labels.as_deref() {
        Some(labels) => clusters::map_centres(reference.embedding.view(), labels)?,
        None => Vec::new(),
    };
    // Pair maps need labelled inputs: the training rows, or else the labelled points.
    let class_data = training.as_ref().or(Some(&points).filter(|p| p.labels.is_some()));
    let pairs = match class_data {
        Some(data) => pair_maps(model, data, &centres, input.pair_steps)?,
        None => Vec::new(),
    };
    let scaling = model
        .scaling
        .parameters(n_features)?
        .map(|p| json!({ "offset": f32_le(p.offset.iter().copied()), "divisor": f32_le(p.divisor.iter().copied()) }));
    Ok(json!({
        "title": input.title,
        "n_features": n_features,
        "image_shape": model.image_shape.or(input.points.image_shape),
        "feature_names": input.points.feature_names,
        "label_names": label_names,
        "network": network(&model.network)?,
        "classifier": model.classifier.as_ref().map(network).transpose()?,
        "scaling": scaling,
        "points": {
            "n": n,
            "xy": f32_le(embedding.iter().copied()),
            "refined": input.refined.map(|r| f32_le(r.iter().copied())),
            "labels": input.points.labels,
            "features": features(input.points.features.view()),
        },
        "train": {
            "n": reference.embedding.nrows(),
            "xy": f32_le(reference.embedding.iter().copied()),
            "labels": reference.labels,
            "features": input.training.map(|t| features(t.features.view())),
        },
        "centres": centres
            .iter()
            .map(|c| json!({ "label": c.label, "x": c.centre[0], "y": c.centre[1], "count": c.size }))
            .collect::<Vec<_>>(),
        "pairs": pairs,
        "metrics": input.metrics.as_ref().map(|m| json!({ "columns": m.columns, "rows": m.rows })),
    }))
}

/// A copy of `data` under the model's scaling; refuses data that is scaled already.
fn scaled(model: &ParametricTsne, data: &Dataset, what: &'static str) -> Result<Dataset> {
    if data.scaling != ssne_data::Scaling::None {
        return Err(ReportError::AlreadyScaled {
            what,
            found: data.scaling.kind(),
        });
    }
    let mut copy = data.clone();
    model.prepare(&mut copy)?;
    Ok(copy)
}

/// The number of classes to name: the classifier's outputs, or one past the largest label.
fn class_count(model: &ParametricTsne, labels: Option<&[u32]>) -> usize {
    let from_labels = |labels: Option<&[u32]>| labels.and_then(|l| l.iter().max()).map_or(0, |&m| m as usize + 1);
    let classifier = model.classifier.as_ref().map_or(0, |c| c.spec.n_outputs());
    classifier
        .max(from_labels(labels))
        .max(from_labels(model.reference.labels.as_deref()))
}

/// One network as the page computes it: its layers (weights `[in, out]` row-major), its
/// activations, the head and its output scale.
fn network(net: &Network) -> Result<Value> {
    let unsupported = |reason: String| ReportError::Unsupported { reason };
    if net.spec.embedding_dim != 2 {
        return Err(unsupported(format!(
            "a map of {} dimensions (the page draws 2)",
            net.spec.embedding_dim
        )));
    }
    let mut width = net.n_features();
    if let Some(projection) = &net.input_projection {
        if projection.weight.nrows() != width || projection.bias.len() != projection.weight.ncols() {
            return Err(unsupported("an input projection that does not read the inputs".into()));
        }
        width = projection.weight.ncols();
    }
    let mut widths = vec![width];
    for (idx, layer) in net.layers.iter().enumerate() {
        if layer.weight.nrows() != width || layer.bias.len() != layer.weight.ncols() {
            return Err(unsupported(format!(
                "layer {idx} does not chain with the one before it"
            )));
        }
        width = layer.weight.ncols();
        widths.push(width);
    }
    let head_in = match net.spec.head_input {
        HeadInput::Logits => width,
        HeadInput::Hidden if widths.len() >= 3 => widths[widths.len() - 2],
        HeadInput::Hidden => return Err(unsupported("a head on a hidden layer of a network without one".into())),
    };
    if net.head.weight.dim() != (head_in, 2) || net.head.bias.len() != 2 {
        return Err(unsupported("a head that does not fit the layer it reads".into()));
    }
    let params = net
        .layers
        .iter()
        .flat_map(|l| [&l.weight, &l.bias])
        .chain([&net.head.weight, &net.head.bias])
        .chain(net.input_projection.iter().flat_map(|p| [&p.weight, &p.bias]));
    if params.flat_map(|p| p.iter()).any(|v| !v.is_finite()) {
        return Err(unsupported("a parameter that is NaN or infinite".into()));
    }
    let dense = |w: ArrayView2<'_, f32>, b: ArrayView2<'_, f32>| json!({ "rows": w.nrows(), "cols": w.ncols(), "w": f32_le(w.iter().copied()), "b": f32_le(b.iter().copied()) });
    Ok(json!({
        "projection": net.input_projection.as_ref().map(|p| dense(p.weight.view(), p.bias.view())),
        "layers": net.layers.iter().map(|l| dense(l.weight.view(), l.bias.view())).collect::<Vec<_>>(),
        "hidden": net.spec.hidden_activation.name(),
        "head_input": match net.spec.head_input { HeadInput::Logits => "logits", HeadInput::Hidden => "hidden" },
        "feature": net.spec.feature_activation.name(),
        "head": dense(net.head.weight.view(), net.head.bias.view()),
        "scale": net.spec.output_scale,
    }))
}

/// Rows of features: one byte per value when every value is a grey level `k / 255` (images),
/// else little-endian `f32`.
fn features(x: ArrayView2<'_, f32>) -> Value {
    let grey = x.iter().all(|&v| {
        let k = (v * GREY_LEVELS).round();
        (0.0..=GREY_LEVELS).contains(&k) && k / GREY_LEVELS == v
    });
    if grey {
        let bytes: Vec<u8> = x.iter().map(|&v| (v * GREY_LEVELS).round() as u8).collect();
        json!({ "encoding": "u8/255", "data": encode(&bytes) })
    } else {
        json!({ "encoding": "f32", "data": f32_le(x.iter().copied()) })
    }
}

/// Directional maps (integrated gradients from a zero input, at the source class's centre)
/// between every pair of neighbouring clusters of the map, both ways, as the demo draws them.
fn pair_maps(
    model: &ParametricTsne,
    data: &Dataset,
    centres: &[clusters::ClusterCentre],
    steps: usize,
) -> Result<Vec<Value>> {
    let Some(labels) = data.labels.as_deref() else {
        return Ok(Vec::new());
    };
    let n_labels = labels.iter().map(|&l| l as usize + 1).max().unwrap_or(0);
    let mut members = vec![Vec::new(); n_labels];
    for (row, &label) in labels.iter().enumerate() {
        members[label as usize].push(row);
    }
    let present = |l: u32| members.get(l as usize).is_some_and(|m| !m.is_empty());
    let groups = Groups::new(
        members
            .iter()
            .enumerate()
            .filter(|(_, m)| !m.is_empty())
            .map(|(l, m)| (l.to_string(), m.clone()))
            .collect(),
    )?;
    let method = IntegratedGradients::new(Baseline::Zeros, steps)?;
    let networks = Networks::from(model);
    let mut maps = Vec::new();
    for (a, b) in clusters::adjacent_pairs(centres, 1) {
        if !(present(a) && present(b)) {
            continue;
        }
        for (from, to) in [(a, b), (b, a)] {
            let map = directional(
                networks,
                data.features.view(),
                &groups,
                &from.to_string(),
                &to.to_string(),
                &method,
            )?;
            maps.push(json!({ "from": from, "to": to, "map": f32_le(map.map.iter().copied()) }));
        }
    }
    Ok(maps)
}
