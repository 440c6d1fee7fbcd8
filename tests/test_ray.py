"""A grid search on Ray's joblib backend (where Ray's wheel installs)."""

import joblib
import numpy as np
import pytest

from ._params import small_grid_search

ray = pytest.importorskip("ray", reason="ray is not installed (pip install '.[ray]')")


@pytest.fixture(scope="module")
def ray_on_this_machine():
    """A local Ray of two CPUs on 127.0.0.1, shut down after the tests."""
    from ray.util.joblib import register_ray

    try:
        ray.init(
            num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
            object_store_memory=80 * 2**20, log_to_driver=False, configure_logging=False,
        )  # fmt: skip
    except (RuntimeError, ConnectionError, OSError) as error:  # a sandbox without its needs
        pytest.skip(f"Ray could not start a local cluster here: {error}")
    register_ray()
    yield
    ray.shutdown()


def test_grid_search_on_the_ray_joblib_backend(ray_on_this_machine):
    search, X, y = small_grid_search(n_jobs=2)
    with joblib.parallel_backend("ray"):
        search.fit(X, y)
    assert search.best_params_["latent_dim"] in (2, 4)
    scores = search.best_estimator_.score_samples(X)
    assert np.isfinite(scores).all() and scores[300:].mean() < scores[:300].mean()
    # The same fits as without Ray (the seeds travel with the estimators); a
    # worker's thread count can round differently, so ROC AUC to 0.02.
    local, _, _ = small_grid_search()
    local.fit(X, y)
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"], atol=0.02
    )
