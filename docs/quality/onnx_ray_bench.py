"""Throughput of the exported map: onnxruntime on 1 and 2 threads against `salient-sne embed`, and
Ray Data's overhead per million rows (docs/QUALITY.md, "ONNX and Ray").

Run from the repository root, after `cargo build --release -p ssne-cli` and installing the package
with its ONNX and Ray requirements (.ci/requirements.txt) into the Python that runs this:

    python docs/quality/onnx_ray_bench.py [--rows 100000] [--repeats 3]

The model is the default network trained briefly on 300 digits of the bundled sample (speed does
not depend on training); the rows are the 10,000 bundled digits repeated. Every figure is the
median of --repeats wall-clock runs. Ray runs locally on 2 CPUs with 2 actors of one
onnxruntime thread each, reading Parquet; its overhead is its wall time less onnxruntime's own
time for the same rows on 2 threads, and is measured at two sizes to split a fixed start-up cost
from the cost per row.
"""

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import numpy as np  # noqa: E402
import onnxruntime  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

import salient_sne.datasets  # noqa: E402
from salient_sne import SalientSNE  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def median_time(run, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def ort_seconds(onnx_path, X, threads, repeats, batch=8192):
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])

    def run():
        for i in range(0, len(X), batch):
            session.run(["embedding"], {"features": X[i:i + batch]})

    run()  # warm-up
    return median_time(run, repeats)


def write_parquet(X, folder, files=4):
    folder.mkdir()
    n, d = X.shape
    for part in range(files):
        s = slice(part * n // files, (part + 1) * n // files)
        features = pa.FixedSizeListArray.from_arrays(pa.array(X[s].ravel()), d)
        pq.write_table(pa.table({"id": np.arange(n)[s], "features": features}), folder / f"part-{part}.parquet")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cli", default=str(ROOT / "target" / "release" / "salient-sne"))
    args = parser.parse_args()

    X10k, y10k = salient_sne.datasets.load_mnist_sample()
    reps = -(-args.rows // len(X10k))
    X = np.ascontiguousarray(np.tile(X10k, (reps, 1))[: args.rows])
    small = X[: args.rows // 4]
    results = {"rows": args.rows, "features": X.shape[1], "repeats": args.repeats}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        est = SalientSNE(random_state=1, pretrain_epochs=1, finetune_steps=100, edges_per_step=100)
        est.fit(X10k[:300], y10k[:300])
        est.save(tmp / "m.ssne")
        est.to_onnx(tmp / "m.onnx")
        np.save(tmp / "rows.npy", X)
        for threads in (1, 2):
            def cli():
                subprocess.run(
                    [args.cli, "--quiet", "--threads", str(threads), "embed", "--model", str(tmp / "m.ssne"),
                     "--data", str(tmp / "rows.npy"), "--out", str(tmp / "out.npy")],
                    check=True, capture_output=True,
                )
            cli()  # warm the page cache
            results[f"cli_{threads}t_rows_per_s"] = args.rows / median_time(cli, args.repeats)
            results[f"ort_{threads}t_rows_per_s"] = args.rows / ort_seconds(tmp / "m.onnx", X, threads, args.repeats)

        import ray

        from salient_sne.ray import embed_dataset

        ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
        ray.data.DataContext.get_current().enable_progress_bars = False
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        try:
            for name, rows in (("small", small), ("large", X)):
                write_parquet(rows, tmp / f"parquet-{name}")

                def on_ray():
                    ds = embed_dataset(tmp / f"parquet-{name}", tmp / "m.onnx", batch_size=8192)
                    # Brings every coordinate back to the driver (count() could skip the map).
                    got = sum(len(b["x"]) for b in ds.iter_batches(batch_format="numpy", batch_size=None))
                    assert got == len(rows)

                ray_s = median_time(on_ray, args.repeats)
                ort_s = ort_seconds(tmp / "m.onnx", rows, 2, args.repeats)
                results[f"ray_{name}_rows"] = len(rows)
                results[f"ray_{name}_s"] = ray_s
                results[f"ort2_{name}_s"] = ort_s
        finally:
            ray.shutdown()
    n_small, n_large = results["ray_small_rows"], results["ray_large_rows"]
    over_small = results["ray_small_s"] - results["ort2_small_s"]
    over_large = results["ray_large_s"] - results["ort2_large_s"]
    per_row = (over_large - over_small) / (n_large - n_small)
    results["ray_overhead_fixed_s"] = over_small - per_row * n_small
    results["ray_overhead_s_per_million_rows"] = per_row * 1e6
    results["ray_total_overhead_s_per_million_rows_at_large"] = over_large / n_large * 1e6
    json.dump(results, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
