"""scikit-learn's estimator checks on every detector, with fast settings."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from ._params import ALL_DETECTORS, make_fast

# No check is expected to fail; an entry here needs a reason.
EXPECTED_FAILED_CHECKS: dict = {}


@parametrize_with_checks(
    # With the default scaling, which every check then goes through.
    [make_fast(cls, preprocessing="auto") for cls in ALL_DETECTORS],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(type(est).__name__, {}),
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
