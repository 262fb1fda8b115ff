from sklearn.linear_model import LogisticRegression

from .helpers import LOADED


def build():
    return LogisticRegression()
