"""Shared fixtures: a few hundred rows of the bundled sample and a fast training configuration."""

import os
import subprocess
from pathlib import Path

# scikit-learn's array-API check (numpy namespace) skips itself unless this is set before scipy is
# imported; set it so that check runs instead of skipping.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import salient_sne  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]


def cli():
    """The salient-sne binary of this checkout, built by cargo if it is not built yet."""
    subprocess.run(["cargo", "build", "--quiet", "-p", "ssne-cli"], cwd=ROOT, check=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "debug" / "salient-sne"


# Small enough that a fit takes a second or two; the map is still far from random.
FAST = dict(finetune_steps=150, edges_per_step=100)


@pytest.fixture(scope="session")
def sample():
    """(X_train, y_train, X_test, y_test): 300 training and 200 test digits."""
    X, y = salient_sne.datasets.load_mnist_sample()
    return X[:300], y[:300], X[300:500], y[300:500]


@pytest.fixture(scope="session")
def fitted(sample):
    """A labelled fit on two threads."""
    X, y, _, _ = sample
    return salient_sne.SalientSNE(random_state=3, n_jobs=2, **FAST).fit(X, y)


@pytest.fixture(scope="session")
def small():
    """60 rows of 6 features in 3 well-separated groups, for checks that need many fits."""
    rng = np.random.default_rng(0)
    centres = np.repeat(np.eye(3, 6) * 8.0, 20, axis=0)
    X = (centres + rng.normal(size=(60, 6))).astype(np.float32)
    y = np.repeat(np.array([0, 1, 2]), 20)
    return X, y

# For `small`: 60 rows give one pretraining step an epoch, so more epochs; a perplexity below 20.
SMALL = dict(FAST, perplexity=5, pretrain_epochs=100)
