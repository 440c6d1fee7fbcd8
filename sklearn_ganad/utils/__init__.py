"""Internal helpers shared by every estimator (device, seeding, validation, docstrings)."""
