"""Sizes in human units (``4GiB``, ``512 MiB``, ``2GB``, or a number of bytes), parsed and shown (pure)."""

from __future__ import annotations

import re

UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
         "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}
SIZE_PATTERN = r"^[0-9]+(\.[0-9]+)? ?([KMGT]i?B|B)$"  # the policy schema carries the same pattern
_SIZE = re.compile(SIZE_PATTERN)


def parse_size(value: int | str) -> int:
    """Bytes of ``4GiB`` / ``512 MiB`` / ``2GB`` / ``1048576``; ``ValueError`` for anything else."""
    if isinstance(value, bool):
        raise ValueError(f"not a size: {value!r}")
    if isinstance(value, int):
        return value
    text = value.strip()
    if _SIZE.fullmatch(text) is None:
        raise ValueError(f"not a size: {value!r} (write e.g. 4GiB, 512MiB or 2GB)")
    number, unit = re.split(r" ?(?=[KMGT]?i?B$)", text, maxsplit=1)
    return int(float(number) * UNITS[unit])


def format_size(size: float) -> str:
    """``4.0 GiB``, ``512.0 MiB``, ``900 B``: binary units, one decimal."""
    for unit in ("TiB", "GiB", "MiB", "KiB"):
        if size >= UNITS[unit]:
            return f"{size / UNITS[unit]:.1f} {unit}"
    return f"{int(size)} B"
