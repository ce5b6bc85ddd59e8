//! A reference evaluator for the few ONNX operators the export writes, in
//! `f64`, written from the operator definitions and independent of the
//! model crate's forward pass: if the graph is wrong, its output differs.

use std::collections::HashMap;

use prost::Message;
use ssne_data::ndarray::{Array2, ArrayView2};
use ssne_onnx::proto::{ModelProto, NodeProto, ValueInfoProto};

/// A tensor of rank 0, 1 or 2 (all the export uses), row-major.
#[derive(Debug, Clone)]
struct Tensor {
    shape: Vec<usize>,
    data: Vec<f64>,
}

impl Tensor {
    fn rows_cols(&self) -> (usize, usize) {
        match self.shape.as_slice() {
            [] => (1, 1),
            [c] => (1, *c),
            [r, c] => (*r, *c),
            other => panic!("rank {} tensor", other.len()),
        }
    }
}

/// The decoded model: its graph's inputs, outputs and a way to run it.
pub(crate) struct Evaluator {
    model: ModelProto,
}

impl Evaluator {
    /// Decodes the bytes `to_onnx` wrote.
    pub(crate) fn decode(bytes: &[u8]) -> Evaluator {
        Evaluator {
            model: ModelProto::decode(bytes).expect("the export decodes as an ONNX ModelProto"),
        }
    }

    /// The decoded model.
    pub(crate) fn model(&self) -> &ModelProto {
        &self.model
    }

    /// Runs the graph on `features` (the graph's single input) and returns every output by name.
    pub(crate) fn run(&self, features: ArrayView2<'_, f32>) -> HashMap<String, Array2<f64>> {
        let graph = self.model.graph.as_ref().expect("the model has a graph");
        let mut values: HashMap<String, Tensor> = HashMap::new();
        for init in &graph.initializer {
            assert_eq!(init.data_type, 1, "{} is not FLOAT", init.name);
            let shape: Vec<usize> = init
                .dims
                .iter()
                .map(|&d| usize::try_from(d).expect("dims >= 0"))
                .collect();
            assert_eq!(shape.iter().product::<usize>(), init.float_data.len(), "{}", init.name);
            let data = init.float_data.iter().map(|&v| f64::from(v)).collect();
            assert!(
                values.insert(init.name.clone(), Tensor { shape, data }).is_none(),
                "{} twice",
                init.name
            );
        }
        assert_eq!(graph.input.len(), 1, "one graph input");
        let input = &graph.input[0];
        check_declared(input, features.ncols());
        values.insert(
            input.name.clone(),
            Tensor {
                shape: vec![features.nrows(), features.ncols()],
                data: features.iter().map(|&v| f64::from(v)).collect(),
            },
        );
        for node in &graph.node {
            let out = eval_node(node, &values);
            assert_eq!(node.output.len(), 1, "{}: one output", node.name);
            assert!(
                values.insert(node.output[0].clone(), out).is_none(),
                "{} is assigned twice",
                node.output[0]
            );
        }
        graph
            .output
            .iter()
            .map(|o| {
                let t = values
                    .get(&o.name)
                    .unwrap_or_else(|| panic!("output {} is never computed", o.name));
                let (r, c) = t.rows_cols();
                check_declared(o, c);
                assert_eq!(r, features.nrows(), "{}: one row per input row", o.name);
                let array = Array2::from_shape_vec((r, c), t.data.clone()).expect("shape");
                (o.name.clone(), array)
            })
            .collect()
    }
}

/// A value declared as `float32 [N, width]` with a symbolic `N`.
fn check_declared(info: &ValueInfoProto, width: usize) {
    let tensor = info
        .r#type
        .as_ref()
        .and_then(|t| t.tensor_type.as_ref())
        .expect("a tensor type");
    assert_eq!(tensor.elem_type, 1, "{} is float32", info.name);
    let dims = &tensor.shape.as_ref().expect("a shape").dim;
    assert_eq!(dims.len(), 2, "{} is [N, width]", info.name);
    assert_eq!(dims[0].dim_param.as_deref(), Some("N"), "{}: symbolic batch", info.name);
    assert_eq!(dims[0].dim_value, None);
    assert_eq!(dims[1].dim_value, Some(width as i64), "{}: width", info.name);
}

fn get<'a>(values: &'a HashMap<String, Tensor>, node: &NodeProto, i: usize) -> &'a Tensor {
    let name = node
        .input
        .get(i)
        .unwrap_or_else(|| panic!("{}: input {i} missing", node.name));
    values
        .get(name)
        .unwrap_or_else(|| panic!("{}: {name} is used before it is computed", node.name))
}

fn int_attr(node: &NodeProto, name: &str) -> Option<i64> {
    node.attribute.iter().find(|a| a.name == name).map(|a| {
        assert_eq!(a.r#type, 2, "{}: {name} is an INT attribute", node.name);
        a.i
    })
}

/// Numpy-style broadcasting of `b` (rank <= 2) onto `a` of shape `[r, c]`.
fn broadcast(node: &NodeProto, a: &Tensor, b: &Tensor, f: impl Fn(f64, f64) -> f64) -> Tensor {
    let (r, c) = a.rows_cols();
    assert_eq!(a.shape.len(), 2, "{}: the left operand is a matrix", node.name);
    let (br, bc) = b.rows_cols();
    assert!(br == 1 || br == r, "{}: rows {br} onto {r}", node.name);
    assert!(bc == 1 || bc == c, "{}: columns {bc} onto {c}", node.name);
    let mut data = Vec::with_capacity(r * c);
    for i in 0..r {
        for j in 0..c {
            let bv = b.data[(if br == 1 { 0 } else { i }) * bc + if bc == 1 { 0 } else { j }];
            data.push(f(a.data[i * c + j], bv));
        }
    }
    Tensor {
        shape: a.shape.clone(),
        data,
    }
}

fn map(a: &Tensor, f: impl Fn(f64) -> f64) -> Tensor {
    Tensor {
        shape: a.shape.clone(),
        data: a.data.iter().map(|&v| f(v)).collect(),
    }
}

fn eval_node(node: &NodeProto, values: &HashMap<String, Tensor>) -> Tensor {
    let unary = |expected: usize| {
        assert_eq!(node.input.len(), expected, "{} {}: inputs", node.op_type, node.name);
    };
    match node.op_type.as_str() {
        "MatMul" => {
            unary(2);
            let (a, b) = (get(values, node, 0), get(values, node, 1));
            assert_eq!((a.shape.len(), b.shape.len()), (2, 2), "{}: matrices", node.name);
            let (n, k) = a.rows_cols();
            let (k2, m) = b.rows_cols();
            assert_eq!(k, k2, "{}: inner dimensions", node.name);
            let mut data = vec![0.0; n * m];
            for i in 0..n {
                for p in 0..k {
                    let av = a.data[i * k + p];
                    for j in 0..m {
                        data[i * m + j] += av * b.data[p * m + j];
                    }
                }
            }
            Tensor {
                shape: vec![n, m],
                data,
            }
        }
        "Add" | "Sub" | "Mul" | "Div" => {
            unary(2);
            let (a, b) = (get(values, node, 0), get(values, node, 1));
            let f: fn(f64, f64) -> f64 = match node.op_type.as_str() {
                "Add" => |x, y| x + y,
                "Sub" => |x, y| x - y,
                "Mul" => |x, y| x * y,
                _ => |x, y| x / y,
            };
            broadcast(node, a, b, f)
        }
        "Relu" => {
            unary(1);
            map(get(values, node, 0), |v| v.max(0.0))
        }
        "Tanh" => {
            unary(1);
            map(get(values, node, 0), f64::tanh)
        }
        "Sigmoid" => {
            unary(1);
            map(get(values, node, 0), |v| 1.0 / (1.0 + (-v).exp()))
        }
        "Identity" => {
            unary(1);
            get(values, node, 0).clone()
        }
        "Softmax" => {
            unary(1);
            // Opset 13+: the axis defaults to -1; the export states it.
            assert_eq!(
                int_attr(node, "axis").unwrap_or(-1),
                -1,
                "{}: softmax over the last axis",
                node.name
            );
            let a = get(values, node, 0);
            let (r, c) = a.rows_cols();
            let mut data = Vec::with_capacity(r * c);
            for row in a.data.chunks(c) {
                let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let sum: f64 = row.iter().map(|&v| (v - max).exp()).sum();
                data.extend(row.iter().map(|&v| (v - max).exp() / sum));
            }
            Tensor {
                shape: a.shape.clone(),
                data,
            }
        }
        other => panic!("{}: operator {other} is not one the export should write", node.name),
    }
}
