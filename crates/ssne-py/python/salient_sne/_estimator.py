"""The SalientSNE estimator: argument checks only; every number comes from the Rust core."""

import numbers
import os

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _core

# The seed of ``random_state=None``: the command line's default ``--seed``, so that
# ``SalientSNE()`` and ``salient-sne train`` make the same model from the same data.
DEFAULT_SEED = 42

# The training parameters handed to the core as they are (``None``: the preset's value).
_TRAINING = tuple(name for name in _core.PARAMETER_NAMES if name not in ("preset", "seed"))


class SalientSNE(TransformerMixin, BaseEstimator):
    """Parametric t-SNE: a small network (MLP) trained to map points to 2-D, with saliency maps.

    With labels, ``fit`` first pretrains the network as a classifier, then fine-tunes it with a
    t-SNE loss; without labels it skips pretraining. New points are mapped by one forward pass.

    Every training parameter defaults to ``None``, which means the value of ``preset`` in the
    library (``ssne_model::TrainConfig::preset``); the values below are the ``"default"``
    preset's, then the ``"paper"`` preset's where it differs. The names are the command line's
    flags (``salient-sne train --help``) with ``_`` for ``-``.

    Parameters
    ----------
    preset : {"default", "paper"}
        The configuration the other parameters start from: ``"default"`` is the measured best,
        ``"paper"`` the exact method of the paper.
    random_state : int, RandomState or None
        Seed of every random draw. None uses 42 (the CLI's default seed). The same seed gives
        the same model, byte for byte, on any ``n_jobs``.
    n_jobs : int or None
        Threads for training and mapping (None or -1: all cores).
    verbose : bool
        Print progress of each stage and epoch to ``sys.stderr``.
    image_shape : (int, int) or None
        Height and width when each row is an image; turns on image-only options (``shift_pixels``).
    scaling : {"none", "unit-range", "standardize"} or None
        Per-feature scaling fitted on the training rows and stored with the model (None: "none").
    hidden_widths : tuple of int or None
        Hidden layer widths (100,).
    input_pca : int or None
        Project the inputs on this many principal components of the training rows (stored in
        the model) before the first layer; saliency still reaches the inputs. 0: none (0).
    hidden_activation : {"relu", "tanh", "sigmoid", "identity", "softmax"} or None
        Activation after the hidden layers ("relu").
    head_input : {"logits", "softmax", "hidden"} or None
        What feeds the 2-D head ("logits").
    feature_activation : {"tanh", "identity", "relu", "sigmoid", "softmax"} or None
        Nonlinearity on the head's input ("tanh"; paper "identity").
    output_scale : float or None
        Fixed factor on the map's output (10; paper 1).
    prune_constant_inputs : bool or None
        Hold the weights of inputs constant in the training data at zero (True; paper False).
    unlabelled_outputs : int or None
        Classifier outputs when fitting without labels (10).
    reference_pca : int or None
        Keep the training inputs, for ``transform(refine=...)``, as their projection on this
        many principal components; 0 keeps them raw (50).
    pretrain_epochs : int or None
        Pretraining epochs; 0 skips pretraining (10).
    pretrain_batch_size : int or None
        Pretraining mini-batch size (128).
    pretrain_lr : float or None
        Pretraining learning rate (0.001).
    scheme : {"coupled", "fixed", "redrawn", "negative"} or None
        Fine-tuning batches and loss ("coupled"; paper "fixed").
    finetune_steps : int or None
        Optimiser steps of the "coupled" and "negative" schemes (6000). These schemes count
        steps, not epochs: one pass over n points is about n / (2 * edges_per_step) steps.
    finetune_epochs : int or None
        Passes over the data of the "fixed" and "redrawn" schemes (paper 200).
    edges_per_step : int or None
        Edges sampled per step of the "coupled" and "negative" schemes (500).
    negatives : int or None
        Negative pairs per edge of the "negative" scheme (5).
    z_bar : float or None
        Fixed normalisation of the "negative" scheme; larger means less repulsion (0.1).
    perplexity : float or None
        Target perplexity of the input affinities (15; paper 30).
    batch_size : int or None
        Points per batch of the batch schemes; must exceed perplexity + 1 (1000).
    lr : float or None
        Fine-tuning learning rate (0.002; paper 0.001).
    ce_weight : float or None
        Weight of a cross-entropy term kept during fine-tuning (0).
    exaggeration : float or None
        Early exaggeration of the attraction, 1 = off (1). A value above 1 needs
        ``exaggeration_fraction``.
    exaggeration_fraction : float or None
        Fraction of the fine-tuning run that is exaggerated (0).
    dof : float or None
        Degrees of freedom of the Student-t kernel, 1 = classic t-SNE (1).
    trainable : {"all", "head-only"} or None
        Which parameters fine-tuning changes ("all").
    shift_pixels : int or None
        Shift images randomly by up to this many pixels at every fine-tuning step, 0 = off
        (1, only with ``image_shape``; paper 0).

    Attributes
    ----------
    embedding_ : ndarray of shape (n_samples, 2)
        The map of the training rows.
    n_features_in_ : int
        Number of features seen during fit.
    classes_ : ndarray of shape (n_classes,)
        The labels seen during fit (only when fitted with labels).
    model_ : salient_sne._core.Model
        The trained model (what ``save`` writes).
    """

    def __init__(
        self,
        preset="default",
        *,
        random_state=None,
        n_jobs=None,
        verbose=False,
        image_shape=None,
        scaling=None,
        hidden_widths=None,
        input_pca=None,
        hidden_activation=None,
        head_input=None,
        feature_activation=None,
        output_scale=None,
        prune_constant_inputs=None,
        unlabelled_outputs=None,
        reference_pca=None,
        pretrain_epochs=None,
        pretrain_batch_size=None,
        pretrain_lr=None,
        scheme=None,
        finetune_steps=None,
        finetune_epochs=None,
        edges_per_step=None,
        negatives=None,
        z_bar=None,
        perplexity=None,
        batch_size=None,
        lr=None,
        ce_weight=None,
        exaggeration=None,
        exaggeration_fraction=None,
        dof=None,
        trainable=None,
        shift_pixels=None,
    ):
        self.preset = preset
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.image_shape = image_shape
        self.scaling = scaling
        self.hidden_widths = hidden_widths
        self.input_pca = input_pca
        self.hidden_activation = hidden_activation
        self.head_input = head_input
        self.feature_activation = feature_activation
        self.output_scale = output_scale
        self.prune_constant_inputs = prune_constant_inputs
        self.unlabelled_outputs = unlabelled_outputs
        self.reference_pca = reference_pca
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_batch_size = pretrain_batch_size
        self.pretrain_lr = pretrain_lr
        self.scheme = scheme
        self.finetune_steps = finetune_steps
        self.finetune_epochs = finetune_epochs
        self.edges_per_step = edges_per_step
        self.negatives = negatives
        self.z_bar = z_bar
        self.perplexity = perplexity
        self.batch_size = batch_size
        self.lr = lr
        self.ce_weight = ce_weight
        self.exaggeration = exaggeration
        self.exaggeration_fraction = exaggeration_fraction
        self.dof = dof
        self.trainable = trainable
        self.shift_pixels = shift_pixels

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # The core computes in float32 (sums in float64): maps are float32 whatever X was.
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    # -- argument conversion ----------------------------------------------------------------

    def _seed(self):
        if self.random_state is None:
            return DEFAULT_SEED
        if isinstance(self.random_state, numbers.Integral):
            if self.random_state < 0:
                raise ValueError(f"random_state must be >= 0, not {self.random_state}")
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _threads(self):
        n = self.n_jobs
        if n is None or n == -1:
            return 0
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
            raise ValueError(f"n_jobs must be None, -1 or a positive integer, not {n!r}")
        return int(n)

    def _params(self):
        """The training parameters as the core reads them."""
        params = {name: getattr(self, name) for name in _TRAINING}
        if params["hidden_widths"] is not None and np.ndim(params["hidden_widths"]) == 0:
            params["hidden_widths"] = [params["hidden_widths"]]
        if params["hidden_widths"] is not None:
            params["hidden_widths"] = list(params["hidden_widths"])
        params["preset"] = self.preset
        params["seed"] = self._seed()
        return params

    def _image_shape(self):
        if self.image_shape is None:
            return None
        shape = tuple(self.image_shape)
        if len(shape) != 2 or not all(isinstance(s, numbers.Integral) and s > 0 for s in shape):
            raise ValueError(f"image_shape must be (height, width) of positive integers, not {self.image_shape!r}")
        return (int(shape[0]), int(shape[1]))

    def _rows(self, X, reset):
        """X as C-contiguous float32 after scikit-learn's checks (2-D, finite, non-empty, width)."""
        X = validate_data(self, X, dtype=np.float32, reset=reset, order="C")
        return np.ascontiguousarray(X, dtype=np.float32)

    def _codes(self, y, n_rows):
        """``y`` as class indices of ``classes_``; raises for labels that are not among them."""
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != n_rows:
            raise ValueError(f"y has shape {y.shape}, but X has {n_rows} rows: one label per row is needed")
        codes = np.searchsorted(self.classes_, y)
        codes = np.minimum(codes, len(self.classes_) - 1)
        unknown = self.classes_[codes] != y
        if unknown.any():
            raise ValueError(f"y has labels the model was not trained on: {np.unique(y[unknown])[:10].tolist()}")
        return codes.astype(np.uint32)

    def _adopt(self, model, X=None):
        """Sets the fitted attributes from a trained or loaded model."""
        self.model_ = model
        self.embedding_ = model.reference_embedding()
        self.n_features_in_ = model.n_features()
        if model.n_classes() is None and hasattr(self, "classes_"):
            del self.classes_

    # -- scikit-learn API -------------------------------------------------------------------

    def fit(self, X, y=None):
        """Trains the map of ``X``; labels ``y`` (ints or strings) make it pretrain a classifier first.

        Returns the fitted estimator.
        """
        X = self._rows(X, reset=True)
        codes, names = None, None
        if y is not None:
            y = np.asarray(y)
            if y.ndim != 1 or len(y) != len(X):
                raise ValueError(f"y has shape {y.shape}, but X has {len(X)} rows: one label per row is needed")
            check_classification_targets(y)
            classes, codes = np.unique(y, return_inverse=True)
            codes = np.ascontiguousarray(codes.reshape(-1), dtype=np.uint32)
            numbered = classes.dtype.kind in "iu" and np.array_equal(classes, np.arange(len(classes)))
            names = None if numbered else [str(c) for c in classes]
        model = _core.Model.fit(
            X,
            codes,
            names,
            self._image_shape(),
            self._params(),
            n_jobs=self._threads(),
            verbose=bool(self.verbose),
        )
        if y is not None:
            self.classes_ = classes
        self._adopt(model)
        return self

    def fit_transform(self, X, y=None):
        """Fits and returns the map of the training rows, ``embedding_``."""
        return self.fit(X, y).embedding_

    def transform(self, X, refine=False):
        """Maps rows to 2-D with the network.

        ``refine=True`` then moves each point against the frozen training map for the library's
        default number of steps (an int: that many steps), which is closer to t-SNE but slower.
        """
        check_is_fitted(self, "model_")
        X = self._rows(X, reset=False)
        return self.model_.embed(X, self._refine_steps(refine), self._threads())

    @staticmethod
    def _refine_steps(refine):
        if refine is True:
            return _core.DEFAULT_REFINE_STEPS
        if refine is False or refine is None:
            return 0
        if not isinstance(refine, numbers.Integral) or refine < 0:
            raise ValueError(f"refine must be True, False or a number of steps >= 0, not {refine!r}")
        return int(refine)

    def predict(self, X):
        """Class labels from the pretrained classifier."""
        check_is_fitted(self, "model_")
        if not hasattr(self, "classes_"):
            raise ValueError("this SalientSNE was fitted without labels, so it has no classifier")
        X = self._rows(X, reset=False)
        return self.classes_[self.model_.classify(X)]

    def score(self, X, y, k=10, refine=False):
        """The ``k``-NN accuracy of the map of ``X`` against the labelled training map."""
        check_is_fitted(self, "model_")
        if not hasattr(self, "classes_"):
            raise ValueError("this SalientSNE was fitted without labels, so it has no k-NN accuracy")
        X = self._rows(X, reset=False)
        codes = self._codes(y, len(X))
        return self.model_.knn_accuracy(X, codes, int(k), self._refine_steps(refine), self._threads())

    # -- saliency -----------------------------------------------------------------------------

    def _shaped(self, maps, lead):
        """``maps`` (rows of features) as images when the model has an image shape."""
        shape = self.model_.image_shape()
        return maps if shape is None else maps.reshape(*maps.shape[:lead], *shape)

    def saliency(self, X, kind="class", classes=None):
        """Saliency maps of the rows of ``X``, shaped like them (as images with an image shape).

        ``kind="class"``: the gradient of each row's class score (the pretrained classifier's
        logit) for ``classes`` (labels, one per row or one for all) or the predicted class; shape
        ``X.shape``. ``kind="jacobian"``: the Jacobian of the map, shape ``(n, 2, *features)``.
        """
        check_is_fitted(self, "model_")
        X = self._rows(X, reset=False)
        if kind == "jacobian":
            if classes is not None:
                raise ValueError("classes belong to kind='class'")
            return self._shaped(self.model_.jacobian_saliency(X, self._threads()), 2)
        if kind != "class":
            raise ValueError(f"kind must be 'class' or 'jacobian', not {kind!r}")
        if not hasattr(self, "classes_"):
            raise ValueError("this SalientSNE was fitted without labels, so it has no class saliency")
        codes = None
        if classes is not None:
            classes = np.asarray(classes)
            if classes.ndim == 0:
                classes = np.full(len(X), classes)
            codes = self._codes(classes, len(X))
        return self._shaped(self.model_.class_saliency(X, codes, self._threads()), 1)

    def directional_saliency(self, source, target, method="integrated", steps=32, samples=32, noise=0.15, seed=42):
        """What moves each point of ``source`` toward the group ``target`` in the map.

        The maps explain ``v . Y(x)`` at each row ``x`` of ``source``, with ``v`` the unit
        direction from the map's centre of ``source`` to that of ``target``; positive features
        move the point toward ``target``. ``method`` is "integrated" (integrated gradients from
        zeros in ``steps`` steps), "gradient", or "smoothgrad" (``samples`` noisy copies, noise
        ``noise`` of the input range, seeded by ``seed``); the defaults are the CLI's. The result
        is shaped like ``source``.
        """
        check_is_fitted(self, "model_")
        source = self._rows(source, reset=False)
        target = self._rows(target, reset=False)
        for name, value in (("steps", steps), ("samples", samples), ("seed", seed)):
            if not isinstance(value, numbers.Integral) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, not {value!r}")
        maps = self.model_.directional_saliency(
            source, target, str(method), int(steps), int(samples), float(noise), int(seed), self._threads()
        )
        return self._shaped(maps, 1)

    # -- persistence --------------------------------------------------------------------------

    def save(self, path):
        """Writes the model as a ``.ssne`` file (readable by the CLI and ``SalientSNE.load``)."""
        check_is_fitted(self, "model_")
        data = self.model_.to_bytes()
        with open(path, "wb") as f:
            f.write(data)

    def to_onnx(self, path, probabilities=False):
        """Writes the map as an ONNX model (IR version 8, opset 17), as ``salient-sne export`` does.

        The graph is the whole embedding function: it takes the raw rows ``transform`` takes, as
        input ``features`` float32 ``[N, n_features_in_]`` (the stored input scaling is part of
        the graph), and gives ``embedding`` float32 ``[N, 2]``. ``probabilities=True`` (``export
        --probabilities``) adds the output ``probabilities`` float32 ``[N, n_classes]``: the
        pretrained classifier's softmax, its columns in the order of ``classes_``. The file is
        written atomically (a temporary file beside it, then a rename). Run it with
        ``salient_sne.OnnxMap`` or any ONNX runtime. Returns the number of bytes written.
        """
        check_is_fitted(self, "model_")
        if probabilities and not hasattr(self, "classes_"):
            raise ValueError(
                "this SalientSNE was fitted without labels, so it has no classifier and no class probabilities"
            )
        return self.model_.to_onnx(os.fspath(path), bool(probabilities))

    @classmethod
    def load(cls, path):
        """Reads a ``.ssne`` model file written from Python or by the CLI."""
        with open(path, "rb") as f:
            data = f.read()
        est = cls()
        est._adopt(_core.Model.from_bytes(data, str(path)))
        n_classes = est.model_.n_classes()
        if n_classes is not None:
            names = est.model_.label_names()
            est.classes_ = np.arange(n_classes) if names is None else np.array(names)
        shape = est.model_.image_shape()
        if shape is not None:
            est.image_shape = shape
        return est

    def __getstate__(self):
        state = super().__getstate__()
        if "model_" in state:
            state = dict(state)
            state["model_"] = bytes(state["model_"].to_bytes())
        return state

    def __setstate__(self, state):
        if "model_" in state:
            state = dict(state)
            state["model_"] = _core.Model.from_bytes(state["model_"], "<pickled SalientSNE>")
        super().__setstate__(state)


def ensemble_directional_saliency(estimators, source, target, method="integrated", steps=32, samples=32, noise=0.15, seed=42):
    """Directional saliency of an ensemble of fitted estimators (e.g. several seeds).

    Each member works out the direction from ``source`` to ``target`` in its own map (the maps
    of two seeds are rotated or reflected copies of each other), so the maps are comparable.
    Returns ``(mean, agreement)``, both shaped like ``source``: the mean map over the members,
    and per feature the share of members whose map has the sign of the mean. The settings are
    those of ``SalientSNE.directional_saliency``.
    """
    estimators = list(estimators)
    if not estimators:
        raise ValueError("an ensemble needs at least one fitted SalientSNE")
    for est in estimators:
        if not isinstance(est, SalientSNE):
            raise TypeError(f"ensemble members must be SalientSNE estimators, not {type(est).__name__}")
        check_is_fitted(est, "model_")
    first = estimators[0]
    source = first._rows(source, reset=False)
    target = first._rows(target, reset=False)
    for name, value in (("steps", steps), ("samples", samples), ("seed", seed)):
        if not isinstance(value, numbers.Integral) or value < 0:
            raise ValueError(f"{name} must be an integer >= 0, not {value!r}")
    mean, agreement = _core.ensemble_directional_saliency(
        [est.model_ for est in estimators],
        source,
        target,
        str(method),
        int(steps),
        int(samples),
        float(noise),
        int(seed),
        first._threads(),
    )
    return first._shaped(mean, 1), first._shaped(agreement, 1)
