"""Resident memory of this process, from Linux's /proc (0 or the rusage peak elsewhere)."""

from __future__ import annotations

import resource


def rss_bytes() -> int:
    """Current resident set size (Linux /proc; 0 elsewhere)."""
    return status_kb("VmRSS") * 1024


def reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0); False when not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_bytes() -> int:
    """Peak RSS since the last :func:`reset_peak` (VmHWM), else since process start."""
    kb = status_kb("VmHWM")
    if kb:
        return kb * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def status_kb(field: str) -> int:
    """A ``kB`` field of /proc/self/status (``VmRSS``, ``VmHWM``, ...); 0 where there is none."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0
