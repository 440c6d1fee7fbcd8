"""Device resolution and seeding without touching the caller's global random state."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

import joblib
import numpy as np
import torch
from sklearn.utils import check_random_state


def resolve_device(device: str | torch.device | None) -> str:
    """Return the concrete device a model will be trained on.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda", "cuda:<i>", "mps"} or torch.device or None
        ``"auto"`` (and ``None``) mean CUDA when it is available, else the CPU.

    Returns
    -------
    device : str
        A string torch accepts, such as ``"cpu"`` or ``"cuda:0"``.

    Raises
    ------
    ValueError
        If the device string is not one torch understands, or names a CUDA
        device when CUDA is not available.
    """
    if device is None or device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a device torch understands; use 'auto', "
            "'cpu', 'cuda' or 'cuda:<index>'."
        ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available on this "
            "machine; use device='auto' or 'cpu'."
        )
    return str(resolved)


def draw_seed(random_state) -> int:
    """Draw one integer seed from a scikit-learn ``random_state``.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        The estimator's ``random_state`` parameter.

    Returns
    -------
    seed : int
        A seed in ``[0, 2**31 - 1)``.
    """
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def call_seed(seed: int, call: int) -> int:
    """The seed of training call ``call`` (0: the first) of a detector seeded with ``seed``.

    The first call uses ``seed`` itself, so that one ``partial_fit`` trains
    as ``fit`` does; later calls get independent seeds derived from both.

    Parameters
    ----------
    seed : int
    call : int

    Returns
    -------
    seed : int
    """
    if call == 0:
        return seed
    return int(np.random.SeedSequence([seed, call]).generate_state(1)[0] >> 1)


def resolve_n_threads(n_threads) -> int | None:
    """The torch threads a detector may use; None keeps torch's setting.

    Parameters
    ----------
    n_threads : int or None
        A positive count, or joblib's negative convention (``-1``: one per
        usable CPU, ``-2``: all but one, ...).

    Returns
    -------
    n_threads : int or None
    """
    if n_threads is None:
        return None
    if n_threads > 0:
        return int(n_threads)
    # joblib.cpu_count honours CPU affinity and container quotas.
    return max(1, joblib.cpu_count() + 1 + int(n_threads))


@contextlib.contextmanager
def limited_threads(n_threads) -> Iterator[None]:
    """Run the block with ``n_threads`` torch threads, then restore torch's setting.

    Parameters
    ----------
    n_threads : int or None
        See :func:`resolve_n_threads`; None changes nothing.
    """
    threads = resolve_n_threads(n_threads)
    if threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def seeded(seed: int, device: str) -> Iterator[None]:
    """Seed torch inside the block and restore the caller's RNG state after it.

    Weight initialisation, dropout masks, noise and shuffling all draw from
    torch's global generators, so seeding them inside a forked RNG makes a fit
    reproducible without changing what the user's own code draws afterwards.

    Parameters
    ----------
    seed : int
        The seed for the CPU generator and, on CUDA, the current device's one.
    device : str
        The device of the fit; only its own CUDA generator is forked.
    """
    torch_device = torch.device(device)
    cuda_devices = []
    if torch_device.type == "cuda":
        index = torch_device.index
        cuda_devices = [torch.cuda.current_device() if index is None else index]
    with torch.random.fork_rng(devices=cuda_devices):
        torch.default_generator.manual_seed(seed)
        for index in cuda_devices:
            with torch.cuda.device(index):
                torch.cuda.manual_seed(seed)
        yield


@functools.lru_cache(maxsize=8)
def fused_adam_supported(device: str) -> bool:
    """Whether Adam's fused implementation runs on ``device``.

    The fused kernel updates all parameters in one pass; on the CPU it makes
    the small networks of the tabular models train about a third faster.

    Parameters
    ----------
    device : str

    Returns
    -------
    supported : bool
    """
    try:
        probe = torch.zeros(1, device=device, requires_grad=True)
        torch.optim.Adam([probe], fused=True)
    except (RuntimeError, TypeError, ValueError):
        return False
    return True


@contextlib.contextmanager
def frozen(parameters) -> Iterator[None]:
    """Turn off ``requires_grad`` of ``parameters`` inside the block.

    A backward pass then computes no gradient for them, which is both faster
    and leaves their ``.grad`` untouched; the flags are restored afterwards.

    Parameters
    ----------
    parameters : iterable of torch.nn.Parameter
    """
    trainable = [param for param in parameters if param.requires_grad]
    for param in trainable:
        param.requires_grad_(False)
    try:
        yield
    finally:
        for param in trainable:
            param.requires_grad_(True)


def at_least_float32(tensor: torch.Tensor) -> torch.Tensor:
    """``tensor`` in float32 if it is in a half precision, else unchanged.

    Parameters
    ----------
    tensor : torch.Tensor

    Returns
    -------
    tensor : torch.Tensor
    """
    return tensor.float() if tensor.dtype in (torch.float16, torch.bfloat16) else tensor
