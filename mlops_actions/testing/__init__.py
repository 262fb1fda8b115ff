"""Testing aids shipped with mlops-actions: the GitHub REST API emulator (``testing.github_emulator``) and a
served model for the length of a ``with`` block (``testing.serving.served``)."""
