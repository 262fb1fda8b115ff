"""CODEOWNERS: which owners GitHub would request for a path (pure; the file's text comes from the caller).

GitHub's rules: one pattern and its owners per line, ``#`` comments, and the LAST matching line wins.
Patterns follow gitignore: a leading ``/`` anchors at the root, a pattern without a ``/`` (other than a
trailing one) matches at any depth, a trailing ``/`` or a bare directory matches everything below it,
``*`` stays within one path segment and ``**`` crosses segments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    pattern: str
    owners: tuple[str, ...]
    regex: re.Pattern[str]


def parse(text: str) -> tuple[Rule, ...]:
    rules = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        pattern, *owners = line.split()
        rules.append(Rule(pattern, tuple(owners), _compile(pattern)))
    return tuple(rules)


def _compile(pattern: str) -> re.Pattern[str]:
    anchored = pattern.startswith("/") or "/" in pattern.rstrip("/")
    body = pattern.strip("/")
    regex = ""
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            regex, i = regex + "(?:.*/)?", i + 3
        elif body.startswith("**", i):
            regex, i = regex + ".*", i + 2
        elif body[i] == "*":
            regex, i = regex + "[^/]*", i + 1
        elif body[i] == "?":
            regex, i = regex + "[^/]", i + 1
        else:
            regex, i = regex + re.escape(body[i]), i + 1
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(f"{prefix}{regex}(?:/.*)?")


def owners_of(rules: Iterable[Rule], path: str) -> tuple[str, ...]:
    """Owners of ``path`` (repository-relative, POSIX): those of the last matching rule, or ()."""
    found: tuple[str, ...] = ()
    for rule in rules:
        if rule.regex.fullmatch(path):
            found = rule.owners
    return found


def owners_of_paths(text: str, paths: Iterable[str]) -> tuple[str, ...]:
    """Every owner of any of ``paths`` (sorted, without duplicates)."""
    rules = parse(text)
    return tuple(sorted({owner for path in paths for owner in owners_of(rules, path)}))
