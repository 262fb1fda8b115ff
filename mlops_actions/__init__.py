"""mlops-actions: the MLOps loop on GitHub (the repository is the registry, a PR is the review)."""

__version__ = "0.1.0"
