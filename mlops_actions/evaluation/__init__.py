"""Evaluation of a trained candidate: baseline selection, diffs against it, and gates."""
