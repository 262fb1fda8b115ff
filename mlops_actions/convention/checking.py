"""What the semantic checks look at (``Context``: the repository, the policy, the models) and what they yield
(``Finding``: path parts, where, message, severity); ``semantic`` and ``build_checks`` share them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_actions.convention.datapaths import check_local
from mlops_actions.convention.headers import read_columns
from mlops_actions.convention.model import Policy
from mlops_actions.convention.paths import repo_path_problem
from mlops_actions.errors import InputError

Finding = tuple[list[Any], str, str, str]


@dataclass
class Context:
    """What semantic checks may look at: the repository root, the policy, the models that exist."""

    root: Path
    policy: Policy
    policy_loaded: bool
    models: frozenset[str]
    read_headers: bool = True  # False: skip the checks that read data files (plan reads no data file)
    _columns: dict[tuple[str, str], list[str] | str] = field(default_factory=dict)
    _paths: dict[str, str | None] = field(default_factory=dict)
    _local: dict[tuple[str, str], tuple[bool, str | None]] = field(default_factory=dict)

    def path_problem(self, relpath: str) -> str | None:
        """``repo_path_problem(root, relpath, must_exist=True)``, once per path in this run: 5,000 specs naming
        the same data file resolved it (two ``realpath`` walks each) 10,000 times, a tenth of ``validate``."""
        if relpath not in self._paths:
            self._paths[relpath] = repo_path_problem(self.root, relpath, must_exist=True)
        return self._paths[relpath]

    def local_data(self, path: str, fmt: str) -> tuple[bool, str | None]:
        """``datapaths.check_local`` (DVC-tracked or partitioned, and why not usable), once per path in this run."""
        key = (path, fmt)
        if key not in self._local:
            self._local[key] = check_local(self.root, path, fmt)
        return self._local[key]

    def columns(self, relpath: str, fmt: str) -> list[str] | str:
        """Header columns of a data file, cached; a string is the reason it could not be read."""
        key = (relpath, fmt)
        if key not in self._columns:
            try:
                self._columns[key] = read_columns(self.root / relpath, fmt)
            except InputError as exc:
                self._columns[key] = exc.message
            except OSError as exc:
                self._columns[key] = f"cannot read the data file: {exc.strerror or exc}"
        return self._columns[key]
