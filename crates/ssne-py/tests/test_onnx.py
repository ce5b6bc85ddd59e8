"""ONNX export from Python: the checker accepts the file, and onnxruntime's map of the 10,000 rows
of the bundled sample equals `salient-sne embed` of the same rows to 1e-5 of the map's spread, for
the default network, the paper preset, an unlabelled model and every network shape."""

import os
import subprocess

import numpy as np
import onnx
import onnxruntime
import pandas
import pytest
from sklearn.exceptions import NotFittedError

import salient_sne
from salient_sne import OnnxMap, SalientSNE, _core, onnx_batches

from conftest import cli

# Relative to the map's spread: onnxruntime and the Rust forward pass sum in different orders
# in float32, so the maps agree closely but not bit for bit.
TOLERANCE = 1e-5

# A few pretraining and fine-tuning steps on 300 rows: about a quarter of a second per fit.
TINY = dict(pretrain_epochs=1, finetune_steps=40, edges_per_step=100, n_jobs=2)


@pytest.fixture(scope="module")
def binary():
    return cli()


@pytest.fixture(scope="module")
def mnist():
    """All 10,000 rows of the bundled sample (the rows `embed --rows 0..10000` reads) and labels."""
    return salient_sne.datasets.load_mnist_sample()


def spread(Z):
    """The largest range of a coordinate over the rows."""
    return float(np.ptp(Z, axis=0).max())


def cli_embedding(binary, est, tmp_path):
    """`salient-sne embed` of the 10,000 sample rows with the model `est` saves."""
    model = tmp_path / "m.ssne"
    out = tmp_path / "cli-map.npy"
    est.save(model)
    subprocess.run(
        [str(binary), "--quiet", "embed", "--model", str(model), "--rows", "0..10000", "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return np.load(out)


def exported(est, tmp_path, probabilities=False):
    """Exports `est`, runs the full ONNX checker on the file and checks its interface."""
    path = tmp_path / "m.onnx"
    written = est.to_onnx(path, probabilities=probabilities)
    assert written == path.stat().st_size
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    assert model.ir_version == _core.ONNX_IR_VERSION == 8
    assert [(o.domain, o.version) for o in model.opset_import] == [("", _core.ONNX_OPSET)] == [("", 17)]
    graph = model.graph
    assert [i.name for i in graph.input] == ["features"]
    dims = graph.input[0].type.tensor_type.shape.dim
    assert graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert (dims[0].dim_param, dims[1].dim_value) == ("N", est.n_features_in_), "a symbolic batch dimension"
    outputs = {o.name: o.type.tensor_type.shape.dim for o in graph.output}
    assert [d.dim_param for d in outputs["embedding"]][0] == "N"
    assert outputs["embedding"][1].dim_value == 2
    assert list(outputs) == (["embedding", "probabilities"] if probabilities else ["embedding"])
    return path


def ort_outputs(path, X):
    """onnxruntime's outputs for the raw rows `X` (its own API, not salient_sne.OnnxMap)."""
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {"features": X})))


def relative_error(got, expected, scale):
    assert got.shape == expected.shape and got.dtype == np.float32
    return float(np.abs(got.astype(np.float64) - expected).max() / scale)


def check_equals_cli(binary, est, tmp_path, X):
    """The exported map of the 10,000 rows against `embed`'s, relative to the spread; returns it."""
    expected = cli_embedding(binary, est, tmp_path)
    got = ort_outputs(exported(est, tmp_path), X)["embedding"]
    scale = spread(expected)
    assert scale > 0.5, f"a map of distinct points has a spread ({scale})"
    err = relative_error(got, expected, scale)
    assert err <= TOLERANCE, f"onnxruntime and salient-sne embed differ by {err:.2e} of the spread {scale}"
    return err


def test_default_network_equals_cli_embed(binary, mnist, tmp_path):
    X, y = mnist
    est = SalientSNE(random_state=1, scaling="unit-range", **TINY).fit(X[:300], y[:300])
    assert est.get_params()["preset"] == "default"
    err = check_equals_cli(binary, est, tmp_path, X)
    print(f"default network: {err:.2e} of the spread")


def test_paper_preset_equals_cli_embed(binary, mnist, tmp_path):
    X, y = mnist
    est = SalientSNE("paper", random_state=2, scaling="standardize", pretrain_epochs=1, finetune_epochs=2, n_jobs=2)
    est.fit(X[:300], y[:300])
    err = check_equals_cli(binary, est, tmp_path, X)
    print(f"paper preset: {err:.2e} of the spread")


def test_unlabelled_model_equals_cli_embed(binary, mnist, tmp_path):
    X, _ = mnist
    est = SalientSNE(random_state=3, **TINY).fit(X[:300])
    assert not hasattr(est, "classes_")
    err = check_equals_cli(binary, est, tmp_path, X)
    print(f"unlabelled model: {err:.2e} of the spread")


def test_probabilities_are_the_classifier_softmax(binary, mnist, tmp_path):
    X, y = mnist
    est = SalientSNE(random_state=4, **TINY).fit(X[:300], y[:300])
    out = ort_outputs(exported(est, tmp_path, probabilities=True), X)
    expected = cli_embedding(binary, est, tmp_path)
    assert relative_error(out["embedding"], expected, spread(expected)) <= TOLERANCE
    p = out["probabilities"]
    assert p.shape == (len(X), len(est.classes_)) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    # The classifier's predictions are the argmax, except where two classes tie to float32 noise.
    predicted = est.predict(X)
    top2 = np.sort(p, axis=1)[:, -2:]
    differ = est.classes_[p.argmax(axis=1)] != predicted
    assert np.all(top2[differ, 1] - top2[differ, 0] < 1e-5), f"{differ.sum()} predictions differ"
    assert differ.sum() <= 2


def test_python_and_cli_export_the_same_bytes(binary, sample, fitted, tmp_path):
    fitted.save(tmp_path / "m.ssne")
    for flags, probabilities in (([], False), (["--probabilities"], True)):
        fitted.to_onnx(tmp_path / "py.onnx", probabilities=probabilities)
        subprocess.run(
            [str(binary), "--quiet", "export", "--model", str(tmp_path / "m.ssne"), "--onnx",
             str(tmp_path / "cli.onnx"), *flags],
            check=True,
            capture_output=True,
        )
        assert (tmp_path / "py.onnx").read_bytes() == (tmp_path / "cli.onnx").read_bytes(), flags


ACTIVATIONS = ("identity", "relu", "tanh", "sigmoid", "softmax")


def network_shapes():
    """A covering set of the shapes the model crate's network spec allows (ssne-onnx's own Rust
    test walks every combination; this checks the Python path end to end against the CLI): each
    hidden activation with two feature activations (itself and the one two places on), the head
    on the logits for the first and on the last hidden layer (two hidden layers) for the second,
    each feature activation without a hidden layer, each hidden activation with one, the
    "softmax" head, and output scales of 1 and 7.5."""
    cases = []
    for i, hidden in enumerate(ACTIVATIONS):
        for offset, head in ((0, "logits"), (2, "hidden")):
            feature = ACTIVATIONS[(i + offset) % len(ACTIVATIONS)]
            cases.append(dict(hidden_widths=(24, 16), hidden_activation=hidden, feature_activation=feature,
                              head_input=head, output_scale=1.0 if offset else 7.5))
    for feature in ACTIVATIONS:
        cases.append(dict(hidden_widths=(), feature_activation=feature, head_input="logits"))
    for hidden in ACTIVATIONS:
        cases.append(dict(hidden_widths=(32,), hidden_activation=hidden, head_input="logits"))
    cases.append(dict(hidden_widths=(32,), head_input="softmax"))
    return cases


def shape_id(case):
    return "-".join(f"{v if not isinstance(v, tuple) else 'x'.join(map(str, v)) or 'none'}" for v in case.values())


@pytest.mark.parametrize("shape", network_shapes(), ids=shape_id)
def test_every_network_shape_equals_cli_embed(binary, mnist, tmp_path, shape):
    """Some of these briefly trained maps are nearly collapsed (softmax hidden layers under a
    sigmoid head: a spread of 0.2 around coordinates of 7); there float32 rounding of the
    coordinates themselves is 1e-5 of the spread, so the tolerance is taken of the larger of the
    spread and the largest coordinate, as in ssne-onnx's own equivalence test."""
    X, y = mnist
    est = SalientSNE(random_state=5, scaling="standardize", **TINY, **shape).fit(X[:300], y[:300])
    expected = cli_embedding(binary, est, tmp_path)
    got = ort_outputs(exported(est, tmp_path), X)["embedding"]
    scale = max(spread(expected), float(np.abs(expected).max()))
    assert spread(expected) > 0.0
    err = relative_error(got, expected, scale)
    assert err <= TOLERANCE, f"{shape}: differ by {err:.2e} of {scale}"


def test_to_onnx_refusals_are_python_exceptions(mnist, fitted, tmp_path):
    with pytest.raises(NotFittedError):
        SalientSNE().to_onnx(tmp_path / "m.onnx")
    X, _ = mnist
    unlabelled = SalientSNE(random_state=0, **TINY).fit(X[:200])
    with pytest.raises(ValueError, match="fitted without labels"):
        unlabelled.to_onnx(tmp_path / "m.onnx", probabilities=True)
    # The library's own refusal, through the binding: a ValueError, not a PanicException.
    with pytest.raises(ValueError, match="cannot be exported to ONNX: the model has no pretrained classifier"):
        unlabelled.model_.to_onnx(str(tmp_path / "m.onnx"), True)
    missing = tmp_path / "no such folder" / "m.onnx"
    with pytest.raises(FileNotFoundError, match="no such folder"):
        fitted.to_onnx(missing)
    with pytest.raises(IsADirectoryError, match=str(tmp_path)):
        fitted.to_onnx(tmp_path)
    assert sorted(os.listdir(tmp_path)) == [], "no file, not even a temporary one, is left behind"


def test_to_onnx_replaces_a_file_whole(fitted, tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"old contents " * 100_000)
    size = fitted.to_onnx(str(path))
    assert path.stat().st_size == size
    onnx.checker.check_model(onnx.load(path), full_check=True)
    assert os.listdir(tmp_path) == ["m.onnx"]


@pytest.fixture(scope="module")
def exported_map(tmp_path_factory, fitted):
    path = tmp_path_factory.mktemp("onnx") / "m.onnx"
    fitted.to_onnx(path, probabilities=True)
    return path


def test_onnx_map_takes_numpy_and_pandas_batches(sample, fitted, exported_map):
    X = sample[2]
    expected = fitted.transform(X)
    ids = np.arange(len(X)) * 3 + 7
    step = OnnxMap(exported_map, probabilities=True)
    scale = spread(expected)
    for features in (X, np.array(list(X), dtype=object), list(map(list, X))):
        out = step({"id": ids, "features": features})
        assert list(out) == ["id", "x", "y", "probabilities"]
        np.testing.assert_array_equal(out["id"], ids)
        assert relative_error(np.column_stack([out["x"], out["y"]]), expected, scale) <= TOLERANCE
        assert out["probabilities"].shape == (len(X), 10)
    frame = pandas.DataFrame({"id": ids, "features": list(X)}, index=ids[::-1])
    out = step(frame)
    assert isinstance(out, pandas.DataFrame) and list(out.index) == list(frame.index)
    assert relative_error(out[["x", "y"]].to_numpy(), expected, scale) <= TOLERANCE
    assert len(out["probabilities"].iloc[0]) == 10
    np.testing.assert_array_equal(OnnxMap(exported_map.read_bytes()).run(X), OnnxMap(exported_map).run(X))


def test_onnx_batches_maps_pandas_frames_as_spark_would(binary, mnist, tmp_path):
    """The function for Spark's mapInPandas, on pandas frames like those Spark hands it (a column
    of numpy vectors, ids in no order): equals `embed` row for row, by id."""
    X, y = mnist
    est = SalientSNE(random_state=6, scaling="unit-range", **TINY).fit(X[:300], y[:300])
    expected = cli_embedding(binary, est, tmp_path)
    path = tmp_path / "m.onnx"
    est.to_onnx(path)
    order = np.random.default_rng(0).permutation(len(X))
    frames = [
        pandas.DataFrame({"row": order[i:i + 1500] * 10, "features": list(X[order[i:i + 1500]])})
        for i in range(0, len(X), 1500)
    ]
    fn = onnx_batches(path.read_bytes(), column="features", id_column="row")
    result = pandas.concat(list(fn(iter(frames))))
    assert list(result.columns) == ["row", "x", "y"] and len(result) == len(X)
    rows = result["row"].to_numpy() // 10
    assert np.array_equal(np.sort(rows), np.arange(len(X))), "each row once"
    got = np.empty_like(expected)
    got[rows] = result[["x", "y"]].to_numpy()
    assert relative_error(got, expected, spread(expected)) <= TOLERANCE


def test_onnx_map_refuses_bad_batches_and_files(sample, exported_map, tmp_path, fitted):
    X = sample[2]
    step = OnnxMap(exported_map)
    with pytest.raises(ValueError, match="no column 'pixels'"):
        OnnxMap(exported_map, column="pixels")({"id": [0], "features": X[:1]})
    with pytest.raises(ValueError, match="no id column 'id'"):
        step({"features": X[:2]})
    with pytest.raises(ValueError, match="rows have 783 features, but the map takes 784"):
        step({"id": [0, 1], "features": X[:2, 1:]})
    with pytest.raises(ValueError, match="different shapes"):
        step({"id": [0, 1], "features": np.array([X[0], X[1, :5]], dtype=object)})
    bad = X[:3].copy()
    bad[1, 5] = np.nan
    with pytest.raises(ValueError, match="row 1 of the batch holds a NaN"):
        step({"id": [0, 1, 2], "features": bad})
    assert step({"id": np.empty(0), "features": np.empty((0, 784), np.float32)})["x"].shape == (0,)
    assert list(OnnxMap(exported_map, id_column=None)({"features": X[:2]})) == ["x", "y"]
    with pytest.raises(FileNotFoundError):
        OnnxMap(tmp_path / "absent.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not a protobuf at all")
    with pytest.raises(ValueError, match="junk.onnx: not a model onnxruntime can load"):
        OnnxMap(tmp_path / "junk.onnx")
    fitted.to_onnx(tmp_path / "plain.onnx")
    with pytest.raises(ValueError, match="no output 'probabilities'"):
        OnnxMap(tmp_path / "plain.onnx", probabilities=True)
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        OnnxMap(exported_map, threads=0)
