"""Byte-identical training across machines: pin the BLAS kernels the CPU would otherwise choose.

OpenBLAS (and MKL) pick kernels by CPU at load time: AVX-512 kernels on one runner, AVX2 on another. Their
last-bit rounding differs, the solver's path follows, and so do the artifact's bytes. Pinning the kernels to
AVX2, which every x86-64 GitHub runner has (AMD Zen uses these kernels anyway), makes the same fingerprint
give the same sha256 on any such machine. It must be set before numpy is first imported, so the CLI applies
it before the training command's lazy imports. No numpy import here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

OPENBLAS_CORETYPE = "Haswell"
MKL_CBWR = "AVX2"
_NEEDED_FLAGS = frozenset({"avx2", "fma"})
_X86_64 = frozenset({"x86_64", "amd64"})


def reproducible_env(env: Mapping[str, str], *, machine: str, cpu_flags: frozenset[str]) -> dict[str, str]:
    """Environment variables to add so BLAS kernels do not depend on the CPU; the user's own settings win."""
    if machine.lower() not in _X86_64 or not cpu_flags >= _NEEDED_FLAGS:
        return {}
    pins = {"OPENBLAS_CORETYPE": OPENBLAS_CORETYPE, "MKL_CBWR": MKL_CBWR}
    return {k: v for k, v in pins.items() if k not in env}


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The CPU's feature flags (Linux); empty elsewhere or when unreadable."""
    try:
        with cpuinfo.open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()
