"""scikit-learn's estimator checks on a fast configuration; each exempted check says why."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from salient_sne import SalientSNE

# Checks whose premise a t-SNE-like estimator does not meet, with the reason.
EXPECTED_FAILED = {
    # The check wants the error for a 1-row fit to say "1 sample" (or similar). t-SNE needs
    # more rows than the perplexity, and the 1-row fit is refused with the library's ValueError,
    # "1 point given; affinities need at least 2 points" (test_sklearn_checks_1_sample below), so
    # only the wording differs.
    "check_fit2d_1sample": "t-SNE refuses a 1-row fit with the library's own wording ('1 point given')",
}


def expected_failed(estimator):
    return EXPECTED_FAILED


@parametrize_with_checks(
    [SalientSNE(perplexity=2, finetune_steps=20, edges_per_step=10, pretrain_epochs=2, n_jobs=1)],
    expected_failed_checks=expected_failed,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_sklearn_checks_1_sample():
    import numpy as np
    import pytest

    with pytest.raises(ValueError, match="1 point given; affinities need at least 2 points"):
        SalientSNE(perplexity=2, finetune_steps=5).fit(np.zeros((1, 10)))
