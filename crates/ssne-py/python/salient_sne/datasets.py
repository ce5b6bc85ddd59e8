"""Data bundled with salient-sne."""

from ._core import load_mnist_sample as _load


def load_mnist_sample():
    """The bundled 10,000-digit MNIST sample: ``(X, y)``, X float32 (10000, 784) in 0..1."""
    return _load()
