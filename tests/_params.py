"""Small, fast constructor arguments for every detector of the package."""

import numpy as np
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.utils._param_validation import StrOptions

from sklearn_ganad import ALAD, EGBAD, AnoGAN, FAnoGAN, GANomaly
from sklearn_ganad.utils import all_detectors

_BIGAN = dict(generator_layer_sizes=(8,), discriminator_layer_sizes=(8, 8), lr=1e-3)

# Tiny networks and two epochs: the common checks fit dozens of times. On the
# CPU, so that the determinism tests mean the same on a machine with a GPU.
# No built-in scaling, so that tests can compare scores with the networks'
# outputs on X itself; the common checks and tests/test_defaults.py run the
# default scaling.
FAST_PARAMS = {
    GANomaly: dict(
        max_epochs=2, batch_size=16, hidden_layer_sizes=(8,), conv_channels=(4, 8),
        latent_dim=2, random_state=0, device="cpu",
    ),
    EGBAD: dict(
        max_epochs=2, batch_size=16, hidden_layer_sizes=(8,), conv_channels=(4, 8),
        latent_dim=2, random_state=0, **_BIGAN,
    ),
    ALAD: dict(
        max_epochs=2, batch_size=16, hidden_layer_sizes=(8,), conv_channels=(4, 8),
        latent_dim=2, random_state=0, cycle_layer_sizes=(8,), latent_cycle_layer_sizes=(4,),
        **_BIGAN,
    ),
    AnoGAN: dict(
        max_epochs=2, batch_size=16, hidden_layer_sizes=(8,), generator_layer_sizes=(8,),
        conv_channels=(4, 8), latent_dim=2, n_search_iter=5, n_search_candidates=4, lr=1e-3,
        random_state=0, device="cpu",
    ),
    FAnoGAN: dict(
        max_epochs=2, encoder_epochs=2, batch_size=16, hidden_layer_sizes=(8,),
        generator_layer_sizes=(8,), conv_channels=(4, 8), latent_dim=2, lr=1e-3,
        encoder_lr=1e-3, random_state=0, device="cpu",
    ),
}  # fmt: skip

for _params in FAST_PARAMS.values():
    _params["preprocessing"] = None

# Every registered detector, in the registry's order: a detector registered
# without fast settings here fails at import, so no test silently skips it.
ALL_DETECTORS = [cls for _, cls in all_detectors()]
_missing = [cls.__name__ for cls in ALL_DETECTORS if cls not in FAST_PARAMS]
if _missing:
    raise LookupError(f"tests/_params.py has no FAST_PARAMS for {_missing}")


def score_methods(detector_class):
    """The ``score_method`` values a detector accepts, sorted."""
    (options,) = [
        constraint
        for constraint in detector_class._parameter_constraints["score_method"]
        if isinstance(constraint, StrOptions)
    ]
    return sorted(options.options)


def make_fast(detector_class, **overrides):
    """Return ``detector_class`` with the fast test settings (and overrides)."""
    return detector_class(**{**FAST_PARAMS[detector_class], **overrides})


def small_grid_search(**options):
    """A two-candidate ``GridSearchCV`` of a fast GANomaly, with labelled data (+1 inlier).

    Returns ``(search, X, y)``: 300 Gaussian rows and 20 far ones (the last).
    """
    table = np.random.RandomState(5).normal(size=(300, 5)).astype(np.float32)
    X = np.vstack([table, table[:20] * 5])
    y = np.r_[np.ones(300), -np.ones(20)]
    search = GridSearchCV(
        make_fast(GANomaly),
        {"latent_dim": [2, 4]},
        scoring="roc_auc",
        cv=StratifiedKFold(2, shuffle=True, random_state=0),
        **options,
    )
    return search, X, y
