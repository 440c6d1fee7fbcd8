"""The one registry of the package's detectors."""

from __future__ import annotations

import inspect

_DETECTORS: dict[str, type] = {}


def register_detector(cls):
    """Class decorator: add a detector to the registry under its class name.

    The command line's ``--method`` choices, the benchmark runner and the
    common tests are derived from the registry, so a detector registered
    here reaches all of them (and tests/test_registry.py checks that every
    registered detector is in the API reference).

    Parameters
    ----------
    cls : type
        A concrete subclass of :class:`~sklearn_ganad.BaseGANDetector`.

    Returns
    -------
    cls : type
        The same class, registered.

    Raises
    ------
    TypeError
        If ``cls`` is not a concrete detector class.
    ValueError
        If another class is registered under the same name.
    """
    from ..base import BaseGANDetector  # base imports this package: import it when called

    if not (isinstance(cls, type) and issubclass(cls, BaseGANDetector)) or inspect.isabstract(cls):
        raise TypeError(f"{cls!r} is not a concrete subclass of BaseGANDetector.")
    registered = _DETECTORS.get(cls.__name__)
    if registered is not None and registered is not cls:
        raise ValueError(
            f"a detector named {cls.__name__!r} is already registered "
            f"({registered.__module__}.{registered.__qualname__})."
        )
    _DETECTORS[cls.__name__] = cls
    return cls


def unregister_detector(name):
    """Remove a detector from the registry (for tests and plugins that unload).

    Parameters
    ----------
    name : str
        The registered class name.

    Raises
    ------
    KeyError
        If no detector of that name is registered.
    """
    del _DETECTORS[name]


def all_detectors():
    """Return the registered detectors as ``(name, class)`` pairs, sorted by name.

    As scikit-learn's ``all_estimators``: the five methods of the package,
    plus any detector registered with :func:`register_detector`.

    Returns
    -------
    detectors : list of (str, type)

    Examples
    --------
    >>> from sklearn_ganad.utils import all_detectors
    >>> [name for name, _ in all_detectors()]
    ['ALAD', 'AnoGAN', 'EGBAD', 'FAnoGAN', 'GANomaly']
    """
    return sorted(_DETECTORS.items(), key=lambda item: item[0].lower())
