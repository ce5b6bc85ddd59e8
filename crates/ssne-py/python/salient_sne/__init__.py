"""salient-sne: a parametric t-SNE map learned by a small network, as a scikit-learn estimator."""

from ._estimator import SalientSNE, ensemble_directional_saliency
from . import datasets

__all__ = ["SalientSNE", "datasets", "ensemble_directional_saliency"]
