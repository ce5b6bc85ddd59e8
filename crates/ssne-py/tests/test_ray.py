"""Ray Data on a local 2-CPU Ray: `salient_sne.ray.embed_dataset` embeds 200,000 rows from Parquet,
and the result equals `salient-sne embed` of the same rows, row for row by id, none lost or
duplicated. A hang (actors that starve the read tasks) fails by the timeout."""

import logging
import os
import subprocess

os.environ["RAY_USAGE_STATS_ENABLED"] = "0"

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import pytest  # noqa: E402
import pytest_timeout  # noqa: E402,F401  (the timeout marker below needs the plugin: fail, never ignore)
import ray  # noqa: E402

import salient_sne.ray  # noqa: E402
from salient_sne import SalientSNE  # noqa: E402

from conftest import cli  # noqa: E402

TOLERANCE = 1e-5
N_ROWS = 200_000
D = 24


def mixture(rng, n):
    """`n` rows of `D` features around 4 centres, with their labels."""
    labels = rng.integers(0, 4, size=n)
    centres = np.eye(4, D) * 6.0
    return (centres[labels] + rng.normal(size=(n, D))).astype(np.float32), labels


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A map of the mixture trained on 400 rows, its .ssne and .onnx files."""
    folder = tmp_path_factory.mktemp("ray-model")
    X, y = mixture(np.random.default_rng(1), 400)
    est = SalientSNE(random_state=2, scaling="standardize", pretrain_epochs=5, finetune_steps=100,
                     edges_per_step=100, perplexity=10, n_jobs=2).fit(X, y)
    est.save(folder / "m.ssne")
    est.to_onnx(folder / "m.onnx")
    return folder


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    """200,000 rows in 4 Parquet files (id, features) with ids that are not positions, the same
    rows as an .npy file, and their ids in that file's order."""
    folder = tmp_path_factory.mktemp("ray-rows")
    rng = np.random.default_rng(3)
    X, _ = mixture(rng, N_ROWS)
    ids = rng.permutation(N_ROWS).astype(np.int64) * 7 + 11
    (folder / "parquet").mkdir()
    for part in range(4):
        s = slice(part * N_ROWS // 4, (part + 1) * N_ROWS // 4)
        features = pa.FixedSizeListArray.from_arrays(pa.array(X[s].ravel()), D)
        pq.write_table(pa.table({"id": ids[s], "features": features}), folder / "parquet" / f"part-{part}.parquet")
    np.save(folder / "rows.npy", X)
    return folder, ids


def cli_map(model, rows_npy, out):
    subprocess.run(
        [str(cli()), "--quiet", "embed", "--model", str(model / "m.ssne"), "--data", str(rows_npy), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return np.load(out)


@pytest.mark.timeout(300)
def test_ray_embeds_parquet_rows_as_the_cli_does(local_ray, model, rows, tmp_path):
    folder, ids = rows
    expected = cli_map(model, folder / "rows.npy", tmp_path / "cli.npy")
    result = salient_sne.ray.embed_dataset(folder / "parquet", model / "m.onnx", batch_size=8192, actors=2)
    got = result.to_pandas()
    assert list(got.columns) == ["id", "x", "y"]
    assert len(got) == N_ROWS, "no row lost or duplicated"
    position = {int(i): p for p, i in enumerate(ids)}
    where = np.array([position[int(i)] for i in got["id"]])
    assert np.array_equal(np.sort(where), np.arange(N_ROWS)), "every id exactly once"
    spread = float(np.ptp(expected, axis=0).max())
    assert spread > 1.0
    err = float(np.abs(got[["x", "y"]].to_numpy(np.float64) - expected[where]).max() / spread)
    assert err <= TOLERANCE, f"Ray and salient-sne embed differ by {err:.2e} of the spread"
    print(f"Ray, 200,000 rows: {err:.2e} of the spread")


@pytest.mark.timeout(120)
def test_ray_takes_a_dataset_with_a_list_column(local_ray, model, tmp_path):
    rng = np.random.default_rng(4)
    X, _ = mixture(rng, 3000)
    keys = [f"row-{i}" for i in range(len(X))]
    ds = ray.data.from_arrow(pa.table({"key": keys, "pixels": pa.array(list(X), type=pa.list_(pa.float32()))}))
    expected = SalientSNE.load(model / "m.ssne").transform(X)
    got = salient_sne.ray.embed_dataset(ds, model / "m.onnx", batch_size=500, column="pixels",
                                        id_column="key").to_pandas()
    assert sorted(got["key"]) == sorted(keys)
    where = got["key"].str.slice(4).astype(int).to_numpy()
    spread = float(np.ptp(expected, axis=0).max())
    assert np.abs(got[["x", "y"]].to_numpy(np.float64) - expected[where]).max() / spread <= TOLERANCE


def test_ray_refuses_what_it_cannot_map_before_running(local_ray, model, rows, tmp_path):
    folder, _ = rows
    with pytest.raises(ValueError, match="parquet has no column 'pixels'"):
        salient_sne.ray.embed_dataset(folder / "parquet", model / "m.onnx", column="pixels")
    with pytest.raises(ValueError, match="has no column 'key'"):
        salient_sne.ray.embed_dataset(folder / "parquet", model / "m.onnx", id_column="key")
    with pytest.raises(FileNotFoundError, match="no such Parquet"):
        salient_sne.ray.embed_dataset(tmp_path / "absent", model / "m.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"junk")
    with pytest.raises(ValueError, match="junk.onnx: not a model onnxruntime can load"):
        salient_sne.ray.embed_dataset(folder / "parquet", tmp_path / "junk.onnx")
    with pytest.raises(ValueError, match="actors must be a positive integer"):
        salient_sne.ray.embed_dataset(folder / "parquet", model / "m.onnx", actors=0)
