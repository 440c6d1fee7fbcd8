"""Dask: blockwise scoring, dask-ml's Incremental, and grid searches on a LocalCluster."""

import logging

import joblib
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_ganad import GANomaly
from sklearn_ganad.metrics import anomaly_roc_auc_scorer

from ._params import make_fast, small_grid_search

da = pytest.importorskip("dask.array", reason="dask is not installed (pip install '.[dask]')")
dd = pytest.importorskip("dask.dataframe", reason="dask[dataframe] is not installed")
distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")


@pytest.fixture(scope="module")
def client():
    """Two single-threaded worker processes on 127.0.0.1, stopped after the tests."""
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, silence_logs=logging.ERROR,
    )  # fmt: skip
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def table():
    return np.random.RandomState(5).normal(size=(300, 5)).astype(np.float32)


def _assert_same_scores(got, expected):
    # Float64 matrix products may round a row differently with the batch's
    # size on some CPUs (1e-16 relative seen with MKL on an AMD EPYC).
    assert_allclose(got, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())


def test_scoring_a_dask_array_blockwise_equals_score_samples(client, table):
    detector = make_fast(GANomaly).fit(table)
    blocks = da.from_array(table, chunks=(37, 5))
    scores = blocks.map_blocks(detector.score_samples, drop_axis=1, dtype=np.float64)
    _assert_same_scores(scores.compute(), detector.score_samples(table))


def test_scoring_a_dask_dataframe_by_partition(client, table):
    frame = pd.DataFrame(table, columns=[f"f{i}" for i in range(5)])
    detector = make_fast(GANomaly).fit(frame)
    partitions = dd.from_pandas(frame, npartitions=4)
    scores = partitions.map_partitions(
        lambda part: pd.Series(detector.score_samples(part), index=part.index),
        meta=("score", "f8"),
    )
    _assert_same_scores(scores.compute().to_numpy(), detector.score_samples(frame))


def test_dask_ml_incremental_trains_block_by_block(table):
    wrappers = pytest.importorskip("dask_ml.wrappers", reason="dask-ml is not installed")
    blocks = da.from_array(table, chunks=(100, 5))
    # Incremental checks for a scorer at fit; a detector has no score method.
    # shuffle_blocks=False: the blocks in order, as the loop below feeds them.
    # One thread on both sides (the blocks may be trained on a worker process,
    # which Dask starts with one): kernels then round alike.
    incremental = wrappers.Incremental(
        make_fast(GANomaly, n_threads=1), scoring=anomaly_roc_auc_scorer, shuffle_blocks=False
    )
    incremental.fit(blocks)
    by_hand = make_fast(GANomaly, n_threads=1)
    for start in range(0, 300, 100):
        by_hand.partial_fit(table[start : start + 100])
    trained = incremental.estimator_
    assert trained.n_samples_seen_ == 300
    assert_array_equal(trained.score_samples(table), by_hand.score_samples(table))
    # Its blockwise scoring and prediction, as dask-ml's ParallelPostFit gives them.
    assert_array_equal(incremental.predict(blocks).compute(), by_hand.predict(table))


def test_grid_search_on_the_dask_joblib_backend(client):
    search, X, y = small_grid_search()
    with distributed.get_task_stream(client) as stream, joblib.parallel_backend("dask"):
        search.fit(X, y)
    # The fits ran on the two workers (processes of their own) and came back.
    assert len(stream.data) >= 4
    assert {task["worker"] for task in stream.data} <= set(client.scheduler_info()["workers"])
    assert search.best_params_["latent_dim"] in (2, 4)
    scores = search.best_estimator_.score_samples(X)
    assert np.isfinite(scores).all()
    assert scores[300:].mean() < scores[:300].mean()  # the outliers score lower
