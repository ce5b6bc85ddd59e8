"""Saliency from Python: shapes like the inputs, and the numbers agree with the map's own derivatives."""

import numpy as np
import pytest

from salient_sne import SalientSNE

from conftest import FAST, SMALL


@pytest.fixture(scope="module")
def model(small):
    X, y = small
    return SalientSNE(random_state=0, **SMALL).fit(X, y)


def test_jacobian_matches_finite_differences_of_transform(model, small):
    X = small[0][:4].astype(np.float64)
    J = model.saliency(X, kind="jacobian")
    assert J.shape == (4, 2, 6) and J.dtype == np.float32
    h = 1e-2
    for j in range(6):
        step = np.zeros(6)
        step[j] = h
        fd = (model.transform(X + step).astype(np.float64) - model.transform(X - step)) / (2 * h)
        np.testing.assert_allclose(J[:, :, j], fd, rtol=0.05, atol=0.05 * np.abs(J).max())


def test_class_saliency_has_the_shape_of_the_input_and_follows_the_class(model, small):
    X, y = small
    maps = model.saliency(X[:5])
    assert maps.shape == (5, 6) and np.isfinite(maps).all()
    # The predicted class by default; an explicit class changes the map.
    np.testing.assert_array_equal(maps, model.saliency(X[:5], classes=model.predict(X[:5])))
    other = model.saliency(X[:5], classes=(model.predict(X[:5]) + 1) % 3)
    assert not np.allclose(maps, other)
    np.testing.assert_array_equal(model.saliency(X[:5], classes=1), model.saliency(X[:5], classes=[1] * 5))
    with pytest.raises(ValueError, match="labels the model was not trained on"):
        model.saliency(X[:5], classes=7)
    with pytest.raises(ValueError, match="kind must be"):
        model.saliency(X[:5], kind="lime")


def test_directional_gradient_is_the_jacobian_along_the_centres(model, small):
    X, y = small
    source, target = X[y == 0][:5], X[y == 2]
    direction = model.transform(target).mean(0) - model.transform(source).mean(0)
    direction /= np.linalg.norm(direction)
    J = model.saliency(source, kind="jacobian")
    expected = np.einsum("k,nkj->nj", direction, J)
    maps = model.directional_saliency(source, target, method="gradient")
    assert maps.shape == source.shape
    np.testing.assert_allclose(maps, expected, rtol=1e-4, atol=1e-5)


def test_integrated_gradients_add_up_to_the_change_of_the_projection(model, small):
    X, y = small
    source, target = X[y == 0][:5], X[y == 2]
    direction = model.transform(target).mean(0) - model.transform(source).mean(0)
    direction /= np.linalg.norm(direction)
    maps = model.directional_saliency(source, target, method="integrated", steps=256)
    change = model.transform(source) @ direction - model.transform(np.zeros_like(source)) @ direction
    np.testing.assert_allclose(maps.sum(1), change, rtol=0.02, atol=0.02 * np.abs(change).max())


def test_smoothgrad_is_seeded(model, small):
    X, y = small
    source, target = X[y == 0][:3], X[y == 1]
    a = model.directional_saliency(source, target, method="smoothgrad", samples=8, seed=1)
    np.testing.assert_array_equal(a, model.directional_saliency(source, target, method="smoothgrad", samples=8, seed=1))
    assert not np.array_equal(a, model.directional_saliency(source, target, method="smoothgrad", samples=8, seed=2))
    with pytest.raises(ValueError, match="method must be"):
        model.directional_saliency(source, target, method="lrp")
    with pytest.raises(ValueError, match="steps"):
        model.directional_saliency(source, target, method="integrated", steps=0)


def test_image_models_return_images(sample):
    X, y, _, _ = sample
    est = SalientSNE(random_state=0, image_shape=(28, 28), **FAST).fit(X, y)
    assert est.saliency(X[:3]).shape == (3, 28, 28)
    assert est.saliency(X[:3], kind="jacobian").shape == (3, 2, 28, 28)
    assert est.directional_saliency(X[y == 1][:4], X[y == 7], method="gradient").shape == (4, 28, 28)


def test_an_ensemble_averages_its_members_maps(model, small):
    import salient_sne

    X, y = small
    other = SalientSNE(random_state=1, **SMALL).fit(X, y)
    source, target = X[y == 0][:4], X[y == 1]
    a = model.directional_saliency(source, target, method="gradient")
    b = other.directional_saliency(source, target, method="gradient")
    mean, agreement = salient_sne.ensemble_directional_saliency([model, other], source, target, method="gradient")
    assert mean.shape == agreement.shape == source.shape
    np.testing.assert_allclose(mean, (a + b) / 2, rtol=1e-6, atol=1e-7)
    expected = ((np.sign(a) == np.sign(mean)).astype(np.float32) + (np.sign(b) == np.sign(mean))) / 2
    np.testing.assert_array_equal(agreement, expected)
    with pytest.raises(ValueError, match="at least one"):
        salient_sne.ensemble_directional_saliency([], source, target)
    with pytest.raises(TypeError, match="SalientSNE estimators"):
        salient_sne.ensemble_directional_saliency([model, "m.ssne"], source, target)
