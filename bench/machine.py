"""A description of the machine and libraries, stored with every result file."""

from __future__ import annotations

import os
import platform
import sys
from typing import Any

import numpy as np


def machine_info() -> dict[str, Any]:
    """CPU, core count, OS, Python and numpy versions, and vecsearch's SIMD level."""
    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "load_average_1min": load_average(),
    }
    try:
        import vecsearch

        info["vecsearch_simd"] = vecsearch.simd_info()
    except (ImportError, AttributeError):
        pass  # not built yet: the vecsearch engine is skipped anyway
    return info


def load_average() -> float | None:
    """1-minute load average (None where the OS has none): > ~0.5 means timings share the CPU."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
