"""Device resolution and seeding helpers."""

import pytest
import torch

from sklearn_ganad.utils._torch import draw_seed, resolve_device, seeded
from sklearn_ganad.utils._validation import check_image_shape


def test_resolve_device():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto") == expected and resolve_device(None) == expected
    assert resolve_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="not a device torch understands"):
        resolve_device("gpu-please")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")


def test_seeded_block_is_reproducible_and_restores_the_global_state():
    before = torch.get_rng_state()
    with seeded(7, "cpu"):
        first = torch.randn(3)
    assert torch.equal(torch.get_rng_state(), before)
    with seeded(7, "cpu"):
        assert torch.equal(torch.randn(3), first)
    assert draw_seed(0) == draw_seed(0) and draw_seed(0) != draw_seed(1)


def test_check_image_shape():
    assert check_image_shape((8, 8)) == (1, 8, 8)
    assert check_image_shape([3, 32, 32]) == (3, 32, 32)
    for bad in [(8,), (1, 2, 3, 4), (1, -2, 2), (1, 2.5, 2), (True, 2, 2)]:
        with pytest.raises(ValueError, match="image_shape must be"):
            check_image_shape(bad)
