"""Ray Data as the engine for scale: the exported map as one ``map_batches`` step.

A parametric map embeds each point by itself, so a dataset of any size is embedded by running the
ONNX model (``SalientSNE.to_onnx`` or ``salient-sne export``) on its batches in parallel. The same
call works on a laptop (``ray.init()``) and on a cluster (``ray.init(address="auto")`` or
``address="ray://head:10001"``): the model's bytes travel with the step, so workers need the
``salient-sne[ray]`` package but no shared file system. Ray Data does not keep row order: join the
result on the id column.
"""

import os

import pyarrow.dataset
import ray
import ray.data

from .onnx_map import OnnxMap


def embed_dataset(
    ds,
    model_path,
    *,
    batch_size=4096,
    column="features",
    id_column="id",
    actors=2,
    num_cpus=0.5,
    threads=1,
):
    """The map of every row of ``ds``: a ``ray.data.Dataset`` of ``id_column``, ``x`` and ``y``.

    Parameters
    ----------
    ds : ray.data.Dataset, str or os.PathLike
        A dataset with a column of feature vectors (a list, fixed-size list or tensor column),
        or a Parquet file or folder, read with ``ray.data.read_parquet``.
    model_path : str or os.PathLike
        The ONNX file of the map (it takes the raw feature vectors; the scaling is in the graph).
    batch_size : int
        Rows per call of the model.
    column, id_column : str
        The feature column, and the column copied next to the coordinates.
    actors : int
        Actors in the pool; each holds one onnxruntime session for all its batches.
    num_cpus : float
        The CPU each actor claims. Below 1 so that the read tasks still find a CPU: with actors
        that each claim a whole CPU, 2 actors on 2 CPUs leave none for reading and the pipeline
        hangs.
    threads : int
        onnxruntime threads per actor.
    """
    for name, value in (("batch_size", batch_size), ("actors", actors), ("threads", threads)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, not {value!r}")
    if not num_cpus > 0:
        raise ValueError(f"num_cpus must be > 0, not {num_cpus!r}")
    if isinstance(ds, (str, os.PathLike)):
        path = os.fspath(ds)
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: no such Parquet file or folder")
        # The Parquet footers give the columns without a Ray job.
        _check_columns(pyarrow.dataset.dataset(path, format="parquet").schema.names, (column, id_column), path)
        ds = ray.data.read_parquet(path).select_columns([id_column, column])
    elif isinstance(ds, ray.data.Dataset):
        schema = ds.schema(fetch_if_missing=False)
        if schema is not None:
            _check_columns(schema.names, (column, id_column), "the dataset")
    else:
        raise TypeError(f"ds must be a ray.data.Dataset or a Parquet path, not {type(ds).__name__}")
    model_path = os.fspath(model_path)
    with open(model_path, "rb") as f:
        model = f.read()
    # Fails here, in the driver, for a file that is not an exported map, not later in an actor.
    OnnxMap(model_path, column=column, id_column=id_column)
    # Streaming, without a shuffle: blocks of at most one batch, so that every actor gets work
    # even when the reader makes one big block (Ray's blocks are up to 128 MiB).
    ds = ds.repartition(target_num_rows_per_block=batch_size)
    return ds.map_batches(
        OnnxMap,
        fn_constructor_kwargs=dict(model=model, column=column, id_column=id_column, threads=threads),
        batch_size=batch_size,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=num_cpus,
        udf_modifying_row_count=False,
    )


def _check_columns(names, wanted, source):
    for name in wanted:
        if name not in names:
            raise ValueError(f"{source} has no column {name!r} (it has {list(names)})")
