"""salient-sne: a parametric t-SNE map learned by a small network, as a scikit-learn estimator."""

from ._estimator import SalientSNE, ensemble_directional_saliency
from .onnx_map import OnnxMap, onnx_batches
from . import datasets

__all__ = ["OnnxMap", "SalientSNE", "datasets", "ensemble_directional_saliency", "onnx_batches"]
