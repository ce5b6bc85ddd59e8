//! ONNX export of a trained parametric t-SNE map.
//!
//! [`to_onnx`] writes the whole embedding function of a [`ParametricTsne`] as an
//! ONNX model (**IR version 8, default-domain opset 17**, both accepted by
//! current onnxruntime): the model's stored input scaling, every classifier
//! layer with its activation, the head input's activation, the head and the
//! output scale. The ONNX input `features` is `float32 [N, d]` and takes the
//! **raw** rows a user has (the rows `salient-sne embed` reads, before any
//! scaling): the graph applies the scaling itself, exactly as
//! [`ParametricTsne::prepare`] does (`(x - offset) / divisor`, a true division).
//! The output `embedding` is `float32 [N, embedding_dim]` (`[N, 2]`), and with
//! [`ExportOptions::probabilities`] a second output `probabilities` carries the
//! pretrained classifier's softmax over classes.
//!
//! A model the export cannot express is refused with an [`OnnxError`], never
//! written as a different function.
//!
//! No inference framework is involved: the messages are declared in
//! [`proto`] and encoded with `prost`.

pub mod proto;

use prost::Message;
use ssne_data::Scaling;
use ssne_model::{Activation, HeadInput, Network, ParametricTsne};

use proto::{
    AttributeProto, Dimension, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, TensorShapeProto,
    TypeProto, TypeProtoTensor, ValueInfoProto,
};

/// The ONNX IR version written.
pub const IR_VERSION: i64 = 8;
/// The default-domain opset written.
pub const OPSET: i64 = 17;
const FLOAT: i32 = 1;

/// Choices of the export.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportOptions {
    /// Add a second output with the pretrained classifier's class probabilities.
    pub probabilities: bool,
}

/// Why a model cannot be exported.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum OnnxError {
    /// Probabilities were asked of a model trained without labels.
    #[error("the model has no pretrained classifier (it was trained without labels), so it has no class probabilities")]
    NoClassifier,
    /// An input masked out in training still has non-zero first-layer weights, so
    /// the exported product would differ from what the masked network computes.
    #[error("{network}: input {input} is masked out but its first-layer weights are not zero")]
    MaskedInputWeights {
        /// Which network ("map" or "classifier").
        network: &'static str,
        /// The masked input's index.
        input: usize,
    },
    /// The input mask does not have one entry per input.
    #[error("{network}: the input mask has {found} entries for {expected} inputs")]
    MaskLength {
        /// Which network.
        network: &'static str,
        /// Inputs of the network.
        expected: usize,
        /// Entries of the mask.
        found: usize,
    },
    /// The parameters do not chain from input to output.
    #[error("{network}: {what} is {found} wide where {expected} was expected")]
    Shape {
        /// Which network.
        network: &'static str,
        /// The parameter.
        what: String,
        /// Expected width.
        expected: usize,
        /// Found width.
        found: usize,
    },
    /// The head reads the last hidden layer of a network without hidden layers.
    #[error("the head reads the last hidden layer, but the network has no hidden layer")]
    NoHiddenLayer,
    /// A parameter is NaN or infinite.
    #[error("{network}: {what} holds a non-finite value")]
    NonFinite {
        /// Which network.
        network: &'static str,
        /// The parameter.
        what: String,
    },
    /// The stored scaling has the wrong number of entries.
    #[error("the stored input scaling has {found} entries for {expected} inputs")]
    ScalingLength {
        /// Inputs of the model.
        expected: usize,
        /// Entries of the scaling.
        found: usize,
    },
}

/// Encodes the embedding function of `model` as an ONNX model file's bytes.
///
/// # Example
/// ```
/// use prost::Message;
/// use ssne_model::{ParametricTsne, Preset, Scheme, Silent, TrainConfig};
/// use ssne_onnx::{ExportOptions, proto::ModelProto, to_onnx};
///
/// let train = ssne_data::bundled::mnist_sample()?.rows(0..200)?;
/// let mut config = TrainConfig::preset(Preset::Default, 7);
/// config.pretrain.epochs = 1;
/// config.finetune.scheme = Scheme::Coupled { steps: 50, edges_per_step: 200 };
/// let model = ParametricTsne::fit(&train, None, &config, &mut Silent)?;
///
/// let bytes = to_onnx(&model, &ExportOptions { probabilities: true })?;
/// let graph = ModelProto::decode(bytes.as_slice())?.graph.expect("a graph");
/// let names: Vec<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
/// assert_eq!(graph.input[0].name, "features");
/// assert_eq!(names, ["embedding", "probabilities"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// An [`OnnxError`] naming what the export cannot express.
pub fn to_onnx(model: &ParametricTsne, options: &ExportOptions) -> Result<Vec<u8>, OnnxError> {
    let d = model.network.n_features();
    let mut g = Graph::default();
    let input = scaled_input(&mut g, &model.scaling, d)?;
    let embedding = map_nodes(&mut g, "map", &model.network, &input)?;
    let mut outputs = vec![value_info("embedding", model.network.head.weight.ncols())];
    g.node("Identity", &[&embedding], "embedding", vec![]);
    if options.probabilities {
        let classifier = model.classifier.as_ref().ok_or(OnnxError::NoClassifier)?;
        let (logits, _) = mlp_nodes(&mut g, "classifier", classifier, &input)?;
        let width = classifier.layers.last().map_or(0, |l| l.weight.ncols());
        g.node("Softmax", &[&logits], "probabilities", vec![int_attr("axis", -1)]);
        outputs.push(value_info("probabilities", width));
    }
    let graph = GraphProto {
        node: g.nodes,
        name: "salient_sne_map".into(),
        initializer: g.initializers,
        doc_string: "parametric t-SNE map: raw features in, map coordinates out".into(),
        input: vec![value_info("features", d)],
        output: outputs,
    };
    let model = ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }],
        producer_name: "salient-sne".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: String::new(),
        graph: Some(graph),
    };
    Ok(model.encode_to_vec())
}

#[derive(Default)]
struct Graph {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
}

impl Graph {
    fn node(&mut self, op: &str, inputs: &[&str], output: &str, attribute: Vec<AttributeProto>) {
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.to_string()],
            name: output.to_string(),
            op_type: op.into(),
            attribute,
        });
    }

    fn constant(&mut self, name: &str, dims: &[usize], data: Vec<f32>) -> String {
        self.initializers.push(TensorProto {
            dims: dims.iter().map(|&v| v as i64).collect(),
            data_type: FLOAT,
            float_data: data,
            name: name.into(),
        });
        name.into()
    }
}

fn int_attr(name: &str, i: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        i,
        r#type: 2,
    }
}

fn value_info(name: &str, width: usize) -> ValueInfoProto {
    let dim = vec![
        Dimension {
            dim_value: None,
            dim_param: Some("N".into()),
        },
        Dimension {
            dim_value: Some(width as i64),
            dim_param: None,
        },
    ];
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            tensor_type: Some(TypeProtoTensor {
                elem_type: FLOAT,
                shape: Some(TensorShapeProto { dim }),
            }),
        }),
    }
}

/// `(x - offset) / divisor`, with the divisor [`Scaling`] uses (1 for a constant feature).
fn scaled_input(g: &mut Graph, scaling: &Scaling, d: usize) -> Result<String, OnnxError> {
    let (offset, scale): (&[f32], Vec<f32>) = match scaling {
        Scaling::None => return Ok("features".into()),
        Scaling::UnitRange { min, max } => {
            if max.len() != min.len() {
                return Err(OnnxError::ScalingLength {
                    expected: min.len(),
                    found: max.len(),
                });
            }
            (min, min.iter().zip(max).map(|(&lo, &hi)| hi - lo).collect())
        }
        Scaling::Standardize { mean, std } => (mean, std.clone()),
    };
    for found in [offset.len(), scale.len()] {
        if found != d {
            return Err(OnnxError::ScalingLength { expected: d, found });
        }
    }
    let divisor: Vec<f32> = scale.iter().map(|&s| if s > 0.0 { s } else { 1.0 }).collect();
    let offset = g.constant("scaling.offset", &[d], offset.to_vec());
    let divisor = g.constant("scaling.divisor", &[d], divisor);
    g.node("Sub", &["features", &offset], "scaling.shifted", vec![]);
    g.node("Div", &["scaling.shifted", &divisor], "scaled", vec![]);
    Ok("scaled".into())
}

fn activation_node(g: &mut Graph, activation: Activation, input: &str, output: &str) -> String {
    let op = match activation {
        Activation::Identity => return input.into(),
        Activation::Relu => "Relu",
        Activation::Tanh => "Tanh",
        Activation::Sigmoid => "Sigmoid",
        Activation::Softmax => "Softmax",
    };
    let attrs = if activation == Activation::Softmax {
        vec![int_attr("axis", -1)]
    } else {
        vec![]
    };
    g.node(op, &[input], output, attrs);
    output.into()
}

fn check_finite(network: &'static str, what: String, values: &[f32]) -> Result<(), OnnxError> {
    if values.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(OnnxError::NonFinite { network, what })
    }
}

/// A dense layer `input @ W + b`, checked to read `width` inputs; returns its output and width.
fn dense_nodes(
    g: &mut Graph,
    network: &'static str,
    name: &str,
    layer: &ssne_model::Dense,
    input: &str,
    width: usize,
) -> Result<(String, usize), OnnxError> {
    let (n_in, n_out) = layer.weight.dim();
    if n_in != width {
        return Err(OnnxError::Shape {
            network,
            what: format!("{name} weight"),
            expected: width,
            found: n_in,
        });
    }
    if layer.bias.dim() != (1, n_out) {
        return Err(OnnxError::Shape {
            network,
            what: format!("{name} bias"),
            expected: n_out,
            found: layer.bias.len(),
        });
    }
    let w: Vec<f32> = layer.weight.iter().copied().collect();
    let b: Vec<f32> = layer.bias.iter().copied().collect();
    check_finite(network, format!("{name} weight"), &w)?;
    check_finite(network, format!("{name} bias"), &b)?;
    let w = g.constant(&format!("{network}.{name}.weight"), &[n_in, n_out], w);
    let b = g.constant(&format!("{network}.{name}.bias"), &[n_out], b);
    let product = format!("{network}.{name}.product");
    let out = format!("{network}.{name}.out");
    g.node("MatMul", &[input, &w], &product, vec![]);
    g.node("Add", &[&product, &b], &out, vec![]);
    Ok((out, n_out))
}

/// The classifier layers; returns the logits and the activated last hidden layer.
fn mlp_nodes(
    g: &mut Graph,
    network: &'static str,
    net: &Network,
    input: &str,
) -> Result<(String, Option<(String, usize)>), OnnxError> {
    let d = net.n_features();
    if let Some(mask) = &net.input_mask {
        if mask.len() != d {
            return Err(OnnxError::MaskLength {
                network,
                expected: d,
                found: mask.len(),
            });
        }
        // The mask holds the weights that read the inputs (the input projection's, else the
        // first layer's) at zero; only then is the plain product exact.
        let reads_inputs = net.input_projection.as_ref().or(net.layers.first());
        if let (Some(first), Some(input)) = (reads_inputs, mask.iter().position(|&keep| !keep))
            && first.weight.nrows() == d
        {
            for (i, _) in mask.iter().enumerate().skip(input).filter(|&(_, &keep)| !keep) {
                if first.weight.row(i).iter().any(|&w| w != 0.0) {
                    return Err(OnnxError::MaskedInputWeights { network, input: i });
                }
            }
        }
    }
    let mut h = input.to_string();
    let mut width = d;
    // The fixed input projection: one more MatMul and Add, with no activation.
    if let Some(projection) = &net.input_projection {
        (h, width) = dense_nodes(g, network, "input_projection", projection, &h, width)?;
    }
    let mut hidden = None;
    let n = net.layers.len();
    for (idx, layer) in net.layers.iter().enumerate() {
        let (out, w) = dense_nodes(g, network, &format!("layer{idx}"), layer, &h, width)?;
        width = w;
        h = if idx + 1 < n {
            let act = activation_node(
                g,
                net.spec.hidden_activation,
                &out,
                &format!("{network}.layer{idx}.act"),
            );
            hidden = Some((act.clone(), w));
            act
        } else {
            out
        };
    }
    Ok((h, hidden))
}

/// The whole map: classifier layers, head input activation, head, output scale.
fn map_nodes(g: &mut Graph, network: &'static str, net: &Network, input: &str) -> Result<String, OnnxError> {
    let (logits, hidden) = mlp_nodes(g, network, net, input)?;
    let logits_width = net.layers.last().map_or(0, |l| l.weight.ncols());
    let (head_in, width) = match net.spec.head_input {
        HeadInput::Logits => (logits, logits_width),
        HeadInput::Hidden => hidden.ok_or(OnnxError::NoHiddenLayer)?,
    };
    let features = activation_node(
        g,
        net.spec.feature_activation,
        &head_in,
        &format!("{network}.head.features"),
    );
    let (out, _) = dense_nodes(g, network, "head", &net.head, &features, width)?;
    let scale = net.spec.output_scale;
    if !scale.is_finite() {
        return Err(OnnxError::NonFinite {
            network,
            what: "output scale".into(),
        });
    }
    if scale == 1.0 {
        return Ok(out);
    }
    let s = g.constant(&format!("{network}.output_scale"), &[], vec![scale]);
    let scaled = format!("{network}.scaled");
    g.node("Mul", &[&out, &s], &scaled, vec![]);
    Ok(scaled)
}
