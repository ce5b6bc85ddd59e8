"""Fit, transform, predict and score from Python, and the same numbers on any thread count."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.neighbors import KNeighborsClassifier

import salient_sne
from salient_sne import SalientSNE

from conftest import FAST, SMALL


def test_sample_shape():
    X, y = salient_sne.datasets.load_mnist_sample()
    assert X.shape == (10000, 784) and X.dtype == np.float32
    assert 0.0 <= X.min() and X.max() <= 1.0
    assert y.shape == (10000,) and sorted(set(y.tolist())) == list(range(10))


def test_fit_gives_a_map_a_classifier_and_the_fitted_attributes(sample, fitted):
    X, y, Xt, yt = sample
    assert fitted.embedding_.shape == (len(X), 2) and np.isfinite(fitted.embedding_).all()
    assert fitted.n_features_in_ == 784
    np.testing.assert_array_equal(fitted.classes_, np.arange(10))
    Z = fitted.transform(Xt)
    assert Z.shape == (len(Xt), 2) and Z.dtype == np.float32 and np.isfinite(Z).all()
    # The training rows map to the stored reference map exactly (one forward pass either way).
    np.testing.assert_array_equal(fitted.transform(X), fitted.embedding_)
    # 300 training digits, a few epochs: far above chance (0.1) for the classifier and the map.
    assert (fitted.predict(Xt) == yt).mean() > 0.6
    assert fitted.score(Xt, yt) > 0.45


def test_score_is_the_10nn_accuracy_against_the_training_map(sample, fitted):
    X, y, Xt, yt = sample
    knn = KNeighborsClassifier(n_neighbors=10).fit(fitted.embedding_, y)
    expected = knn.score(fitted.transform(Xt), yt)
    # Vote ties may break differently (the library: the smaller label; sklearn: the first seen).
    assert abs(fitted.score(Xt, yt) - expected) <= 0.02


def test_refine_moves_points_and_stays_reproducible(sample, fitted):
    Xt = sample[2]
    plain = fitted.transform(Xt)
    refined = fitted.transform(Xt, refine=True)
    assert refined.shape == plain.shape and not np.array_equal(refined, plain)
    np.testing.assert_array_equal(refined, fitted.transform(Xt, refine=True))
    np.testing.assert_array_equal(fitted.transform(Xt, refine=0), plain)


def test_fit_transform_is_the_training_map(sample):
    X, y, _, _ = sample
    est = SalientSNE(random_state=3, n_jobs=2, **FAST)
    Z = est.fit_transform(X, y)
    np.testing.assert_array_equal(Z, est.embedding_)
    np.testing.assert_array_equal(Z, est.transform(X))


def test_same_seed_same_map_on_one_and_two_threads(sample, fitted):
    X, y, Xt, _ = sample
    other = SalientSNE(random_state=3, n_jobs=1, **FAST).fit(X, y)
    np.testing.assert_array_equal(other.embedding_, fitted.embedding_)
    assert other.model_.to_bytes() == fitted.model_.to_bytes()
    different = SalientSNE(random_state=4, n_jobs=2, **FAST).fit(X, y)
    assert not np.array_equal(different.embedding_, fitted.embedding_)


def test_without_labels_pretraining_is_skipped(sample):
    X, _, Xt, _ = sample
    est = SalientSNE(random_state=3, **FAST).fit(X)
    assert not hasattr(est, "classes_")
    assert est.model_.n_classes() is None
    assert est.transform(Xt).shape == (len(Xt), 2)
    with pytest.raises(ValueError, match="without labels"):
        est.predict(Xt)
    with pytest.raises(ValueError, match="without labels"):
        est.score(Xt, np.zeros(len(Xt), int))


def test_string_and_sparse_integer_labels_map_to_classes_and_back(small):
    X, y = small
    names = np.array(["cat", "dog", "emu"])[y]
    est = SalientSNE(random_state=0, **SMALL).fit(X, names)
    np.testing.assert_array_equal(est.classes_, ["cat", "dog", "emu"])
    assert set(est.predict(X).tolist()) <= {"cat", "dog", "emu"}
    assert (est.predict(X) == names).mean() > 0.9
    assert est.model_.label_names() == ["cat", "dog", "emu"]
    sparse = np.array([-5, 7, 4_000_000_000])[y]
    est = SalientSNE(random_state=0, **SMALL).fit(X, sparse)
    np.testing.assert_array_equal(est.classes_, [-5, 7, 4_000_000_000])
    assert (est.predict(X) == sparse).mean() > 0.9
    assert est.score(X, sparse) > 0.9


def test_scaling_is_fitted_on_the_training_rows_and_applied_to_new_ones(small):
    X, y = small
    est = SalientSNE(random_state=0, scaling="standardize", **SMALL).fit(X, y)
    # Scaling is part of the model: the training rows map to the reference map again.
    np.testing.assert_array_equal(est.transform(X), est.embedding_)
    plain = SalientSNE(random_state=0, **SMALL).fit(X, y)
    assert not np.array_equal(plain.embedding_, est.embedding_)


def test_uint8_and_float64_inputs_are_accepted(small):
    X, y = small
    X8 = np.clip(X * 10 + 100, 0, 255).astype(np.uint8)
    est = SalientSNE(random_state=0, **SMALL).fit(X8, y)
    np.testing.assert_array_equal(est.transform(X8.astype(np.float64)), est.embedding_)


def test_verbose_prints_progress(small, capsys):
    X, y = small
    SalientSNE(random_state=0, verbose=True, **SMALL).fit(X, y)
    err = capsys.readouterr().err
    assert "salient-sne: pretrain epoch 100" in err and "salient-sne: finetune" in err
    SalientSNE(random_state=0, **SMALL).fit(X, y)
    assert capsys.readouterr().err == ""


def test_unfitted_raises_not_fitted(small):
    X, y = small
    for call in (
        lambda e: e.transform(X),
        lambda e: e.predict(X),
        lambda e: e.score(X, y),
        lambda e: e.save("never-written.ssne"),
    ):
        with pytest.raises(NotFittedError):
            call(SalientSNE())
