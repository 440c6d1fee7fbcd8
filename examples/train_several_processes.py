"""
Training on several GPUs (or processes)
=======================================

A detector fitted inside a ``torch.distributed`` process group trains
data-parallel: every process computes its share of each batch, the gradients
are averaged at every step, and every process ends with the same fitted
detector. Launch one process per GPU::

    torchrun --nproc_per_node=4 examples/train_several_processes.py
    accelerate launch --num_processes=4 examples/train_several_processes.py

On a machine without GPUs the processes use the CPU and the gloo backend
(``torchrun --nproc_per_node=2 ...``); run without a launcher, the script
trains on one process. This script is not run when the documentation is built.
"""

import os

import torch
import torch.distributed as dist
from sklearn.metrics import roc_auc_score

from sklearn_ganad import GANomaly
from sklearn_ganad.datasets import load_breast_cancer_outliers
from sklearn_ganad.persistence import save_model


def main():
    launched = "WORLD_SIZE" in os.environ  # set by torchrun and accelerate launch
    if launched:
        # NCCL between GPUs, gloo between CPU processes; the launcher's
        # environment says where the processes meet.
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    rank = dist.get_rank() if launched else 0
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    device = f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu"

    # Every process loads the same data and fits the same detector: each
    # takes its share of every batch of 64 rows (batch_size is the global batch).
    data = load_breast_cancer_outliers()
    detector = GANomaly(
        device=device, batch_size=64, precision="bf16" if device != "cpu" else "32",
        random_state=0,
    )  # fmt: skip
    detector.fit(data.X_train)

    if rank == 0:  # every process holds the same model; one reports and saves it
        roc_auc = roc_auc_score(data.y_test, -detector.score_samples(data.X_test))
        epochs = detector.net_.history[-1, "epoch"]
        print(f"{epochs} epochs on {dist.get_world_size() if launched else 1} process(es); "
              f"test ROC AUC {roc_auc:.3f}")  # fmt: skip
        save_model(
            "breast-cancer.ganad", detector, feature_names=list(data.feature_names),
            method="GANomaly",
        )  # fmt: skip
    if launched:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
