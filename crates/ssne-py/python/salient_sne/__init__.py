"""salient-sne: a parametric t-SNE map learned by a small network, as a scikit-learn estimator."""

from ._estimator import SalientSNE
from . import datasets

__all__ = ["SalientSNE", "datasets"]
