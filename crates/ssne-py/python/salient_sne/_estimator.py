"""The SalientSNE estimator: argument checks only; every number comes from the Rust core."""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _core


class SalientSNE(TransformerMixin, BaseEstimator):
    """Parametric t-SNE: a small MLP trained to map points to 2-D.

    Parameters
    ----------
    preset : {"default", "paper"}
        The library's training preset.
    random_state : int
        Seed of every random stream (same seed, same model, on any ``n_jobs``).
    n_jobs : int or None
        Threads of the rayon pool the work runs in (None: all cores).
    image_shape : (int, int) or None
        Height and width when the rows are images.
    """

    def __init__(self, preset="default", random_state=0, n_jobs=None, verbose=False, image_shape=None):
        self.preset = preset
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.image_shape = image_shape

    def _threads(self):
        return 0 if self.n_jobs is None else int(self.n_jobs)

    def fit(self, X, y=None):
        """Fits the map; labels make it pretrain a classifier first."""
        X = validate_data(self, X, dtype=np.float32, reset=True)
        codes = None
        if y is not None:
            y = np.asarray(y)
            if y.ndim != 1 or len(y) != len(X):
                raise ValueError(f"y has shape {y.shape}, X has {len(X)} rows: one label per row is needed")
            self.classes_, codes = np.unique(y, return_inverse=True)
            codes = codes.astype(np.uint32).tolist()
        seed = 0 if self.random_state is None else int(self.random_state)
        shape = None if self.image_shape is None else tuple(int(s) for s in self.image_shape)
        self.model_ = _core.Model.fit(
            np.ascontiguousarray(X), codes, self.preset, seed, self._threads(), shape
        )
        self.embedding_ = self.model_.reference_embedding()
        return self

    def transform(self, X, refine=False):
        """Maps rows to 2-D (``refine``: True for 50 steps against the training map, or a step count)."""
        check_is_fitted(self, "model_")
        X = validate_data(self, X, dtype=np.float32, reset=False)
        steps = 50 if refine is True else int(refine or 0)
        return self.model_.embed(np.ascontiguousarray(X), steps, self._threads())

    def predict(self, X):
        """Class labels from the pretrained classifier."""
        check_is_fitted(self, "classes_")
        X = validate_data(self, X, dtype=np.float32, reset=False)
        return self.classes_[self.model_.classify(np.ascontiguousarray(X))]

    def save(self, path):
        """Writes the model as a ``.ssne`` file."""
        check_is_fitted(self, "model_")
        with open(path, "wb") as f:
            f.write(self.model_.to_bytes())

    @classmethod
    def load(cls, path):
        """Reads a ``.ssne`` model file (from Python or the CLI)."""
        with open(path, "rb") as f:
            data = f.read()
        est = cls()
        est.model_ = _core.Model.from_bytes(data, str(path))
        est.embedding_ = est.model_.reference_embedding()
        est.n_features_in_ = est.model_.n_features()
        return est
