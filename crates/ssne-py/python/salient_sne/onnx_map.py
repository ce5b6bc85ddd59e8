"""The exported map run by onnxruntime, one batch at a time: the step Ray Data and Spark repeat.

``SalientSNE.to_onnx`` (or ``salient-sne export``) writes the map as an ONNX file; ``OnnxMap``
loads it into one onnxruntime session and maps batches of rows, given as a dict of numpy arrays
(Ray Data's ``"numpy"`` batches) or a pandas DataFrame (Spark's ``mapInPandas``), to their two
coordinates next to the batch's id column. onnxruntime is imported when a map is made, so that
``import salient_sne`` does not need it.
"""

import errno
import os

import numpy as np

# The names `ssne_onnx::to_onnx` gives the graph's input and outputs.
INPUT = "features"
EMBEDDING = "embedding"
PROBABILITIES = "probabilities"


class OnnxMap:
    """One onnxruntime session of an exported map, applied to batches of rows.

    Parameters
    ----------
    model : str, os.PathLike or bytes
        The ONNX file written by ``SalientSNE.to_onnx`` or ``salient-sne export``, or its bytes.
    column : str
        The batch column holding each row's feature vector (raw, unscaled: the graph scales).
    id_column : str or None
        The column copied next to the coordinates, so results can be joined back by id; None
        copies none.
    threads : int
        onnxruntime's intra-op threads (1 suits one map per worker or actor).
    probabilities : bool
        Also return the classifier's class probabilities as a column ``probabilities`` (the model
        must have been exported with ``probabilities=True``).

    A batch maps to ``{id_column: ids, "x": ..., "y": ...}`` (float32), in the batch's type and
    row order.
    """

    def __init__(self, model, column="features", id_column="id", threads=1, probabilities=False):
        import onnxruntime

        if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
            raise ValueError(f"threads must be a positive integer, not {threads!r}")
        self.column = column
        self.id_column = id_column
        self.probabilities = bool(probabilities)
        source = bytes(model) if isinstance(model, (bytes, bytearray, memoryview)) else os.fspath(model)
        self._source = "<ONNX bytes>" if isinstance(source, bytes) else source
        if isinstance(source, str) and not os.path.isfile(source):
            raise FileNotFoundError(errno.ENOENT, "no such ONNX model file", source)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self.session = onnxruntime.InferenceSession(source, options, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own classes for unreadable or invalid files
            if isinstance(e, OSError):
                raise
            raise ValueError(f"{self._source}: not a model onnxruntime can load: {e}") from e
        inputs = self.session.get_inputs()
        outputs = [o.name for o in self.session.get_outputs()]
        if [i.name for i in inputs] != [INPUT] or outputs[:1] != [EMBEDDING]:
            raise ValueError(
                f"{self._source}: not an exported salient-sne map (inputs {[i.name for i in inputs]}, "
                f"outputs {outputs}; expected input {INPUT!r} and output {EMBEDDING!r})"
            )
        if self.probabilities and PROBABILITIES not in outputs:
            raise ValueError(
                f"{self._source} has no output {PROBABILITIES!r}: export it with probabilities=True "
                "(salient-sne export --probabilities)"
            )
        width = inputs[0].shape[1]
        if not isinstance(width, int):
            raise ValueError(f"{self._source}: the input has no fixed number of features ({inputs[0].shape})")
        self.n_features = width
        self._outputs = [EMBEDDING, PROBABILITIES] if self.probabilities else [EMBEDDING]

    def run(self, features):
        """The map of the rows ``features`` ``[n, n_features]``: the ``[n, 2]`` coordinates, or with
        ``probabilities`` the pair (coordinates, ``[n, classes]`` probabilities)."""
        return self._run(_rows(features, "features", self.n_features))

    def _run(self, rows):
        outputs = self.session.run(self._outputs, {INPUT: rows})
        return tuple(outputs) if self.probabilities else outputs[0]

    def __call__(self, batch):
        """Maps one batch: a dict of numpy arrays or a pandas DataFrame with ``column``."""
        try:
            values = batch[self.column]
        except KeyError:
            raise ValueError(
                f"the batch has no column {self.column!r} (it has {list(batch.keys())}): "
                "name the feature column with column="
            ) from None
        out = {}
        if self.id_column is not None:
            if self.id_column not in batch:
                raise ValueError(
                    f"the batch has no id column {self.id_column!r} (it has {list(batch.keys())}): "
                    "name it with id_column=, or pass id_column=None"
                )
            out[self.id_column] = np.asarray(batch[self.id_column])
        mapped = self._run(_rows(values, f"column {self.column!r}", self.n_features))
        xy, probabilities = mapped if self.probabilities else (mapped, None)
        out["x"] = xy[:, 0]
        out["y"] = xy[:, 1]
        if _is_pandas(batch):
            import pandas

            if probabilities is not None:
                out[PROBABILITIES] = list(probabilities)
            return pandas.DataFrame(out, index=batch.index)
        if probabilities is not None:
            out[PROBABILITIES] = probabilities
        return out


def onnx_batches(model, column="features", id_column="id", threads=1, probabilities=False):
    """A function from an iterator of pandas DataFrames to an iterator of their maps, as Spark's
    ``DataFrame.mapInPandas`` takes; one ``OnnxMap`` (one onnxruntime session) is made per call,
    that is per Spark partition. The arguments are those of ``OnnxMap``; with ``model`` as bytes
    the ONNX file travels with the function, so the workers need no shared file system::

        fn = salient_sne.onnx_batches(open("m.onnx", "rb").read(), column="features")
        df.mapInPandas(fn, "id long, x float, y float")
    """
    if isinstance(model, (bytes, bytearray, memoryview)):
        model = bytes(model)
    else:
        model = os.fspath(model)

    def map_frames(frames):
        step = OnnxMap(model, column=column, id_column=id_column, threads=threads, probabilities=probabilities)
        for frame in frames:
            yield step(frame)

    return map_frames


def _is_pandas(batch):
    return type(batch).__module__.split(".")[0] == "pandas" and hasattr(batch, "index")


def _rows(values, what, width):
    """``values`` (a 2-D array, or one vector per row as an object array, list or pandas Series)
    as a C-contiguous float32 ``[n, width]`` array of finite numbers."""
    if hasattr(values, "to_numpy") and not isinstance(values, np.ndarray):
        values = values.to_numpy()
    array = np.asarray(values) if not isinstance(values, list) else None
    if array is None or array.dtype == object:
        vectors = list(values)
        if not vectors:
            return np.empty((0, width), dtype=np.float32)
        lengths = {np.shape(v) for v in vectors}
        if len(lengths) != 1:
            raise ValueError(f"{what}: the rows' feature vectors have different shapes {sorted(lengths)[:4]}")
        array = np.stack([np.asarray(v, dtype=np.float32) for v in vectors])
    if array.ndim != 2:
        raise ValueError(f"{what}: expected one vector of {width} features per row, got an array of shape {array.shape}")
    if array.shape[1] != width:
        raise ValueError(f"{what}: rows have {array.shape[1]} features, but the map takes {width}")
    if array.dtype.kind not in "fiub":
        raise ValueError(f"{what}: features must be numbers, not {array.dtype}")
    rows = np.ascontiguousarray(array, dtype=np.float32)
    finite = np.isfinite(rows).all(axis=1)
    if not finite.all():
        raise ValueError(f"{what}: row {int(np.argmin(finite))} of the batch holds a NaN or infinite feature")
    return rows
