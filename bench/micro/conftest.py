"""Micro-benchmarks need pytest-benchmark; without it the whole folder is skipped."""

import pytest

pytest.importorskip("pytest_benchmark")
