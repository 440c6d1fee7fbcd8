"""Benchmarks of sklearn-ganad: ``python -m benchmarks`` runs the suite."""
