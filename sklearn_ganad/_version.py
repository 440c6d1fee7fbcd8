"""The package version, in one place (read by pyproject.toml and pickles)."""

__version__ = "0.1.0"
