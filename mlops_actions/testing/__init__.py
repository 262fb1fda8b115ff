"""Testing aids shipped with mlops-actions: the GitHub REST API emulator (``testing.github_emulator``)."""
