"""argparse value types shared by the suites' command lines."""
from __future__ import annotations

import argparse


def names(text: str) -> tuple[str, ...]:
    """Comma-separated names (unknown ones are reported by whoever knows the registry)."""
    return tuple(v.strip() for v in text.split(",") if v.strip())


def int_list(text: str) -> tuple[int, ...]:
    """Comma-separated integers, at least one."""
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one integer")
    return values


def positive_int_list(text: str) -> tuple[int, ...]:
    """Comma-separated integers, each at least 1."""
    values = int_list(text)
    if min(values) < 1:
        raise argparse.ArgumentTypeError("expected positive integers")
    return values
