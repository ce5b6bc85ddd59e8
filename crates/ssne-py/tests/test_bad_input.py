"""Bad input gets a ValueError or TypeError saying what is wrong, never a PanicException or a crash."""

import numpy as np
import pytest

from salient_sne import SalientSNE

from conftest import SMALL


@pytest.fixture(scope="module")
def model(small):
    X, y = small
    return SalientSNE(random_state=0, **SMALL).fit(X, y)


@pytest.mark.parametrize(
    "X,message",
    [
        (np.zeros(10, np.float32), "Expected 2D array"),
        (np.zeros((0, 6), np.float32), "0 sample"),
        (np.zeros((5, 0), np.float32), "0 feature"),
        (np.array([[1.0, np.nan]] * 30), "NaN"),
        (np.array([[1.0, np.inf]] * 30), "infinity"),
        (np.array([["a", "b"]] * 30), "could not convert"),
        (np.zeros((3, 4, 5)), "Found array with dim 3"),
    ],
    ids=["1-D", "no rows", "no features", "NaN", "Inf", "strings", "3-D"],
)
def test_bad_X_for_fit(X, message):
    with pytest.raises(ValueError, match=message):
        SalientSNE(**SMALL).fit(X)


def test_too_few_rows_for_the_perplexity(small):
    X, y = small
    with pytest.raises(ValueError, match="perplexity 15"):
        SalientSNE(finetune_steps=10).fit(X[:12], y[:12])


@pytest.mark.parametrize(
    "y,exc,message",
    [
        (np.zeros(59, int), ValueError, r"y has shape \(59,\), but X has 60 rows"),
        (np.zeros((60, 2), int), ValueError, "one label per row"),
        (np.linspace(0, 1, 60), ValueError, "Unknown label type"),
        (np.array([np.nan] * 60), ValueError, "Input y contains NaN|Unknown label type"),
    ],
    ids=["short", "2-D", "continuous", "NaN"],
)
def test_bad_labels(small, y, exc, message):
    X, _ = small
    with pytest.raises(exc, match=message):
        SalientSNE(**SMALL).fit(X, y)


def test_huge_label_values_size_nothing(small):
    X, y = small
    # Three classes, whatever their values: the classifier has three outputs, not 2**63.
    est = SalientSNE(random_state=0, **SMALL).fit(X, np.array([0, 2**40, 2**63 - 1])[y])
    assert est.model_.n_classes() == 3


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda m, X, y: m.transform(X[:, :5]), "has 5 features, but SalientSNE is expecting 6"),
        (lambda m, X, y: m.transform(np.where(X == X[0, 0], np.nan, X)), "NaN"),
        (lambda m, X, y: m.transform(X[0]), "Expected 2D array"),
        (lambda m, X, y: m.predict(X[:, :7] if X.shape[1] > 7 else np.hstack([X, X])), "features"),
        (lambda m, X, y: m.transform(X, refine=-1), "refine must be"),
        (lambda m, X, y: m.score(X, y[:-1]), "one label per row"),
        (lambda m, X, y: m.score(X, y + 10), "labels the model was not trained on"),
        (lambda m, X, y: m.score(X, y, k=1000), "k-NN accuracy"),
    ],
    ids=["width", "NaN", "1-D", "predict width", "refine", "score y length", "unknown labels", "k too large"],
)
def test_bad_input_for_a_fitted_model(model, small, call, message):
    X, y = small
    with pytest.raises(ValueError, match=message):
        call(model, X, y)


def test_bad_image_shape(small):
    X, y = small
    with pytest.raises(ValueError, match="image"):
        SalientSNE(image_shape=(2, 2), **SMALL).fit(X, y)
    with pytest.raises(ValueError, match="image_shape must be"):
        SalientSNE(image_shape=(6,), **SMALL).fit(X, y)
