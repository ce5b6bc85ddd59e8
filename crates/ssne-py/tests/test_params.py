"""Constructor parameters: the library's defaults, scikit-learn's conventions, and each one reaching
the training configuration."""

import inspect
import json

import numpy as np
import pytest
from sklearn.base import clone

from salient_sne import SalientSNE, _core
from salient_sne._estimator import DEFAULT_SEED


def config(**params):
    """The library's TrainConfig that these estimator parameters describe."""
    return json.loads(_core.config_json(SalientSNE(**params)._params()))


def test_every_core_parameter_is_a_constructor_parameter():
    names = set(inspect.signature(SalientSNE).parameters)
    assert set(_core.PARAMETER_NAMES) - {"seed"} <= names
    assert names - set(_core.PARAMETER_NAMES) == {"random_state", "n_jobs", "verbose", "image_shape"}


def test_defaults_are_the_library_presets():
    for preset in ("default", "paper"):
        assert config(preset=preset) == json.loads(_core.preset_json(preset, DEFAULT_SEED))
        assert config(preset=preset, random_state=7) == json.loads(_core.preset_json(preset, 7))
    assert config(preset="paper")["finetune"]["perplexity"] == 30.0
    assert config()["finetune"]["perplexity"] == 15.0


def test_get_set_params_and_clone():
    est = SalientSNE(perplexity=12, hidden_widths=(64, 32), n_jobs=1)
    params = est.get_params()
    assert params["perplexity"] == 12 and params["hidden_widths"] == (64, 32) and params["scheme"] is None
    assert len(params) == len(inspect.signature(SalientSNE).parameters)
    est.set_params(perplexity=20, scheme="negative")
    assert (est.perplexity, est.scheme) == (20, "negative")
    copy = clone(est)
    assert copy.get_params() == est.get_params() and copy is not est
    # __init__ only stores: a bad value is refused at fit, not at construction.
    SalientSNE(perplexity=-1, preset="nonsense")


# Each parameter, a value, and where the value lands in the library's TrainConfig.
SETTINGS = [
    (dict(hidden_widths=(64, 32)), ["hidden_widths"], [64, 32]),
    (dict(hidden_widths=50), ["hidden_widths"], [50]),
    (dict(input_pca=30), ["input_pca"], 30),
    (dict(input_pca=0), ["input_pca"], None),
    (dict(hidden_activation="tanh"), ["hidden_activation"], "Tanh"),
    (dict(head_input="hidden"), ["head_input"], "Hidden"),
    (dict(head_input="softmax"), ["feature_activation"], "Softmax"),
    (dict(feature_activation="relu"), ["feature_activation"], "Relu"),
    (dict(output_scale=3.0), ["output_scale"], 3.0),
    (dict(prune_constant_inputs=False), ["prune_constant_inputs"], False),
    (dict(unlabelled_outputs=4), ["unlabelled_outputs"], 4),
    (dict(reference_pca=0), ["reference_space"], "Raw"),
    (dict(reference_pca=20), ["reference_space"], {"Pca": {"components": 20}}),
    (dict(pretrain_epochs=0), ["pretrain", "epochs"], 0),
    (dict(pretrain_batch_size=32), ["pretrain", "batch_size"], 32),
    (dict(pretrain_lr=0.01), ["pretrain", "adam", "lr"], 0.01),
    (dict(finetune_steps=77), ["finetune", "scheme"], {"Coupled": {"steps": 77, "edges_per_step": 500}}),
    (dict(edges_per_step=64), ["finetune", "scheme"], {"Coupled": {"steps": 6000, "edges_per_step": 64}}),
    (dict(scheme="fixed", finetune_epochs=5), ["finetune", "scheme"], {"FixedBatches": {"epochs": 5}}),
    (dict(scheme="redrawn"), ["finetune", "scheme"], {"RedrawnBatches": {"epochs": 200}}),
    (dict(preset="paper", scheme="coupled"), ["finetune", "scheme"], {"Coupled": {"steps": 6000, "edges_per_step": 500}}),
    (
        dict(scheme="negative", negatives=3, z_bar=0.5, finetune_steps=10),
        ["finetune", "scheme"],
        {"NegativeSampling": {"steps": 10, "edges_per_step": 500, "negatives_per_edge": 3, "z_bar": 0.5}},
    ),
    (dict(perplexity=25), ["finetune", "perplexity"], 25.0),
    (dict(batch_size=200), ["finetune", "batch_size"], 200),
    (dict(lr=0.005), ["finetune", "adam", "lr"], 0.005),
    (dict(ce_weight=0.5), ["finetune", "ce_weight"], 0.5),
    (dict(exaggeration=4, exaggeration_fraction=0.3), ["finetune", "exaggeration"], 4.0),
    (dict(exaggeration=4, exaggeration_fraction=0.25), ["finetune", "exaggeration_fraction"], 0.25),
    # As on the command line: a factor alone runs for the library's default fraction.
    (dict(exaggeration=4), ["finetune", "exaggeration_fraction"], 0.25),
    (dict(dof=0.5), ["finetune", "dof"], 0.5),
    (dict(trainable="head-only"), ["finetune", "trainable"], "HeadOnly"),
    (dict(shift_pixels=2), ["finetune", "shift_pixels"], 2),
]


@pytest.mark.parametrize("params,path,expected", SETTINGS, ids=lambda v: str(v) if isinstance(v, dict) else None)
def test_each_parameter_reaches_the_config(params, path, expected):
    value = config(**params)
    for key in path:
        value = value[key]
    if isinstance(expected, float):
        assert value == pytest.approx(expected, rel=1e-6)
    else:
        assert value == expected
    # Nothing else changed (apart from what head_input="softmax" implies).
    base, changed = config(preset=params.get("preset", "default")), config(**params)
    differing = {k for k in base if base[k] != changed[k]}
    assert differing <= {path[0], "feature_activation", "head_input"}


@pytest.mark.parametrize(
    "params,exc,message",
    [
        (dict(preset="fast"), ValueError, "preset must be one of"),
        (dict(perplexity=-1), ValueError, "finetune.perplexity"),
        (dict(perplexity="high"), TypeError, "perplexity must be a number"),
        (dict(finetune_steps=-3), ValueError, "finetune_steps must be an integer >= 0"),
        (dict(hidden_widths=(10, 0)), ValueError, "hidden_widths"),
        (dict(scheme="fixed", finetune_steps=10), ValueError, "batch schemes count finetune_epochs"),
        (dict(finetune_epochs=10), ValueError, "count finetune_steps"),
        (dict(z_bar=0.5), ValueError, "belong to scheme='negative'"),
        (dict(exaggeration_fraction=2.0), ValueError, "exaggeration_fraction"),
        (dict(head_input="softmax", feature_activation="tanh"), ValueError, "leave out feature_activation"),
        (dict(edges_per_step=1), ValueError, "edges_per_step"),
        (dict(lr=0.0), ValueError, "lr"),
        (dict(scheme="fixed", batch_size=10), ValueError, "below batch size - 1"),
        (dict(trainable="some"), ValueError, "trainable must be one of"),
        (dict(shift_pixels=300), ValueError, "shift_pixels"),
        (dict(random_state=-2), ValueError, "random_state must be >= 0"),
    ],
)
def test_bad_parameters_are_refused_with_the_parameter_named(params, exc, message):
    with pytest.raises(exc, match=message):
        config(**params)


def test_bad_parameters_are_refused_by_fit_before_training(small):
    X, y = small
    with pytest.raises(ValueError, match="finetune.perplexity"):
        SalientSNE(perplexity=0).fit(X, y)
    with pytest.raises(ValueError, match="n_jobs"):
        SalientSNE(n_jobs=0).fit(X, y)
    with pytest.raises(ValueError, match="shift_pixels shifts images"):
        SalientSNE(shift_pixels=1, perplexity=5).fit(X, y)


def test_a_random_state_instance_draws_the_seed():
    seed = SalientSNE(random_state=np.random.RandomState(0))._params()["seed"]
    assert seed == np.random.RandomState(0).randint(np.iinfo(np.int32).max)


def test_fit_adapts_the_default_preset_to_the_data_as_the_cli_does(sample):
    """7 x 7 images get no 1-pixel shift, 300 rows get 600 pretraining steps and values of 0..255
    get unit-range scaling; a parameter given wins, and the paper preset is never adapted."""
    from conftest import FAST

    X, y, _, _ = sample
    small = (X.reshape(-1, 28, 28)[:, ::4, ::4] * 255.0).reshape(len(X), -1)
    est = SalientSNE(image_shape=(7, 7), n_jobs=1, **FAST).fit(small, y)
    config = json.loads(est.model_.config_json())
    preset = json.loads(_core.preset_json("default", DEFAULT_SEED))
    assert preset["finetune"]["shift_pixels"] == 1
    assert config["finetune"]["shift_pixels"] == 0
    assert config["pretrain"]["epochs"] == 200  # 3 batches of 128 rows per epoch
    assert est.model_.scaling_kind() == "unit-range"
    given = SalientSNE(image_shape=(7, 7), n_jobs=1, pretrain_epochs=2, scaling="none", **FAST).fit(small, y)
    assert json.loads(given.model_.config_json())["pretrain"]["epochs"] == 2
    assert given.model_.scaling_kind() == "none"
    paper = SalientSNE(preset="paper", image_shape=(7, 7), n_jobs=1, finetune_epochs=1).fit(small, y)
    paper_preset = json.loads(_core.preset_json("paper", DEFAULT_SEED))
    assert json.loads(paper.model_.config_json())["pretrain"] == paper_preset["pretrain"]


def test_large_data_rules_apply_and_a_given_length_replaces_their_epochs():
    """From 12,000 rows the default preset counts fine-tuning in passes over the kNN graph and
    reads a PCA-100 projection; finetune_steps given replaces the passes, as on the command line."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 12_000)
    X = (rng.normal(size=(12_000, 120)) * 0.1 + y[:, None] * 0.5).astype(np.float32)
    est = SalientSNE(pretrain_epochs=1, finetune_steps=20, edges_per_step=100, n_jobs=2).fit(X, y)
    config = json.loads(est.model_.config_json())
    assert config["finetune"]["graph_epochs"] is None
    assert config["finetune"]["scheme"] == {"Coupled": {"steps": 20, "edges_per_step": 100}}
    assert config["input_pca"] == 100
    assert config["finetune"]["knn_space"] == {"Pca": {"components": 50}}
    assert config["finetune"]["adam"]["schedule"] == "Linear"
    assert est.transform(X[:5]).shape == (5, 2)
