"""A factory that fails."""


def build():
    raise ValueError("no trees configured for this market")
