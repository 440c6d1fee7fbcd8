"""Data-parallel training over a ``torch.distributed`` process group.

Only what :class:`~sklearn_ganad.GANNet` needs: whether a fit runs in a
group, and the three collectives it makes (averaging gradients, losses and
batch-norm statistics, and sending rank 0's weights to the others).
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors

__all__ = ["process_group_size", "average_", "broadcast_", "shared_seed"]


def process_group_size(distributed="auto") -> tuple[int, int]:
    """Return ``(rank, world_size)`` of the process group a fit trains in.

    Parameters
    ----------
    distributed : {"auto"} or bool
        ``"auto"``: the default process group when one is initialised,
        else one process. True: the default group, which must exist.
        False: one process, whatever is initialised.

    Returns
    -------
    rank, world_size : int
        ``(0, 1)`` when training runs on this process alone.
    """
    active = dist.is_available() and dist.is_initialized()
    if isinstance(distributed, str) and distributed == "auto":
        wanted = active
    else:
        wanted = bool(distributed)
        if wanted and not active:
            raise RuntimeError(
                "distributed=True needs an initialised torch.distributed process group: "
                "call torch.distributed.init_process_group() first (torchrun and "
                "accelerate launch set the environment it reads)."
            )
    if not wanted:
        return 0, 1
    return dist.get_rank(), dist.get_world_size()


def average_(tensors, world_size: int) -> None:
    """Replace each tensor by its mean over the processes, in one collective.

    Parameters
    ----------
    tensors : list of torch.Tensor
        Same shapes, dtype and device on every process.
    world_size : int
    """
    tensors = list(tensors)
    if not tensors:
        return
    flat = _flatten_dense_tensors(tensors)
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat.div_(world_size)
    for tensor, averaged in zip(tensors, _unflatten_dense_tensors(flat, tensors), strict=True):
        tensor.copy_(averaged)


def broadcast_(tensors, source: int = 0) -> None:
    """Overwrite each tensor with process ``source``'s copy.

    Parameters
    ----------
    tensors : list of torch.Tensor
    source : int, default=0
    """
    for tensor in tensors:
        dist.broadcast(tensor, src=source)


def shared_seed(device, seed=None) -> int:
    """Give every process rank 0's seed (drawn from torch's generator if None).

    Parameters
    ----------
    device : torch.device or str
        Where the collective's tensor lives (CUDA for NCCL).
    seed : int or None, default=None
        This process's seed; only rank 0's is used.

    Returns
    -------
    seed : int
    """
    if seed is None:
        seed = int(torch.randint(0, 2**62, (1,), dtype=torch.int64))
    value = torch.tensor([int(seed)], dtype=torch.int64).to(device)
    dist.broadcast(value, src=0)
    return int(value.item())
