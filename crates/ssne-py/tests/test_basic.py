"""Fit, transform, predict and the .ssne round trips from Python."""

import pickle

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

import salient_sne
from salient_sne import SalientSNE


@pytest.fixture(scope="module")
def sample():
    X, y = salient_sne.datasets.load_mnist_sample()
    return X[:600], y[:600], X[600:800], y[600:800]


@pytest.fixture(scope="module")
def fitted(sample):
    X, y, _, _ = sample
    return SalientSNE(random_state=3, n_jobs=2).fit(X, y)


def test_sample_shape():
    X, y = salient_sne.datasets.load_mnist_sample()
    assert X.shape == (10000, 784) and X.dtype == np.float32
    assert y.shape == (10000,) and sorted(set(y.tolist())) == list(range(10))


def test_fit_gives_a_finite_map_and_a_classifier(sample, fitted):
    X, y, Xt, yt = sample
    assert fitted.embedding_.shape == (len(X), 2)
    assert np.isfinite(fitted.embedding_).all()
    Z = fitted.transform(Xt)
    assert Z.shape == (len(Xt), 2) and np.isfinite(Z).all()
    # A trained classifier on digits beats chance (0.1) by far.
    assert (fitted.predict(Xt) == yt).mean() > 0.6


def test_same_seed_same_map_on_any_thread_count(sample, fitted):
    X, y, Xt, _ = sample
    other = SalientSNE(random_state=3, n_jobs=1).fit(X, y)
    np.testing.assert_array_equal(other.transform(Xt), fitted.transform(Xt))


def test_save_load_and_pickle_keep_the_map(tmp_path, sample, fitted):
    Xt = sample[2]
    path = tmp_path / "m.ssne"
    fitted.save(path)
    loaded = SalientSNE.load(path)
    np.testing.assert_array_equal(loaded.transform(Xt), fitted.transform(Xt))
    assert path.read_bytes()[:8] == b"SSNEMODL"


def test_unfitted_raises_not_fitted():
    with pytest.raises(NotFittedError):
        SalientSNE().transform(np.zeros((3, 4), np.float32))


def test_corrupt_model_file_is_a_value_error(tmp_path):
    path = tmp_path / "bad.ssne"
    path.write_bytes(b"SSNEMODL" + b"\0" * 40)
    with pytest.raises(ValueError):
        SalientSNE.load(path)
