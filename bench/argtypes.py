"""argparse value types shared by the suites' command lines."""
from __future__ import annotations

import argparse


def names(text: str) -> tuple[str, ...]:
    """Comma-separated names (unknown ones are reported by whoever knows the registry)."""
    return tuple(v.strip() for v in text.split(",") if v.strip())


def _number_list(text: str, kind: type, what: str) -> tuple:
    try:
        values = tuple(kind(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated {what}s, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError(f"expected at least one {what}")
    return values


def int_list(text: str) -> tuple[int, ...]:
    """Comma-separated integers, at least one."""
    return _number_list(text, int, "integer")


def float_list(text: str) -> tuple[float, ...]:
    """Comma-separated numbers, at least one."""
    return _number_list(text, float, "number")


def positive_int_list(text: str) -> tuple[int, ...]:
    """Comma-separated integers, each at least 1."""
    values = int_list(text)
    if min(values) < 1:
        raise argparse.ArgumentTypeError("expected positive integers")
    return values
