"""Helpers: the registry of detectors (public), and internal helpers shared by every estimator.

The private modules hold device, seeding, validation, warning and docstring
helpers.
"""

from ._registry import all_detectors, register_detector, unregister_detector

__all__ = ["all_detectors", "register_detector", "unregister_detector"]
