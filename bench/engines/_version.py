"""Library versions for the results file."""

from __future__ import annotations

from importlib import metadata
from types import ModuleType


def dist_version(dist: str, module: ModuleType | None = None) -> str:
    """Installed distribution version, else the module's ``__version__``, else ``"unknown"``."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return str(getattr(module, "__version__", "unknown"))
