"""One process of a data-parallel fit, started by tests/test_distributed.py.

Usage: ``python _data_parallel_worker.py OUT METHOD RANK WORLD_SIZE [EPOCHS [SEED]]``. The
processes meet through a file in OUT (no TCP store) and gloo on the loopback
interface; each writes ``rank<r>.json``, and rank 0 pickles its detector.
"""

import json
import os
import pickle
import sys

import torch
import torch.distributed as dist
from skorch.callbacks import Callback

from sklearn_ganad.utils import all_detectors


class SameStateEveryEpoch(Callback):
    """After every epoch, the largest difference of any weight or buffer between processes."""

    def initialize(self):
        self.differences_ = []
        return self

    def on_epoch_end(self, net, **kwargs):
        tensors = net.module_.state_dict().values()
        state = torch.cat([t.detach().reshape(-1).double() for t in tensors])
        gathered = [torch.empty_like(state) for _ in range(dist.get_world_size())]
        dist.all_gather(gathered, state)
        self.differences_.append(max(float((g - state).abs().max()) for g in gathered))


def task(seed=0):
    """The fixed task of tests/test_distributed.py: a Gaussian table and shifted anomalies."""
    import numpy as np

    rng = np.random.RandomState(seed)
    d = 8
    mixing = rng.normal(size=(d, d)) / np.sqrt(d)
    X_train = rng.normal(size=(800, d)) @ mixing
    normal = rng.normal(size=(200, d)) @ mixing
    anomalies = rng.normal(size=(200, d)) @ mixing + rng.choice([-1.5, 1.5], size=(1, d))
    y_test = np.r_[np.zeros(200), np.ones(200)]
    return X_train, np.vstack([normal, anomalies]), y_test


def main():
    out, method, rank, world_size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    epochs = int(sys.argv[5]) if len(sys.argv) > 5 else 20
    seed = sys.argv[6] if len(sys.argv) > 6 else "0"
    seed = None if seed == "none" else int(seed)
    torch.set_num_threads(1)
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")  # listen on 127.0.0.1 only
    dist.init_process_group(
        "gloo", init_method=f"file://{out}/store", rank=rank, world_size=world_size
    )
    try:
        from sklearn.metrics import roc_auc_score

        X_train, X_test, y_test = task()
        detector = dict(all_detectors())[method](
            max_epochs=epochs, batch_size=64, random_state=seed, n_threads=1,
            callbacks=[("same_state", SameStateEveryEpoch())],
        ).fit(X_train)  # fmt: skip
        checker = dict(detector.net_.callbacks_)["same_state"]
        result = {
            "rank": rank,
            "roc_auc": roc_auc_score(y_test, -detector.score_samples(X_test)),
            "differences": checker.differences_,
            "offset": float(detector.offset_),
            "epochs": len(detector.net_.history),
            "batches_per_epoch": len(detector.net_.history[-1, "batches"]),
            "rows_per_batch": detector.net_.history[-1, "batches", 0, "train_batch_size"],
        }
        with open(f"{out}/rank{rank}.json", "w") as handle:
            json.dump(result, handle)
        if rank == 0:
            # The checker is defined in __main__: drop it before pickling.
            detector.set_params(callbacks=None)
            net = detector.net_
            net.callbacks = [(n, c) for n, c in net.callbacks if n != "same_state"]
            net.callbacks_ = [(n, c) for n, c in net.callbacks_ if n != "same_state"]
            with open(f"{out}/model.pkl", "wb") as handle:
                pickle.dump(detector, handle)
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
