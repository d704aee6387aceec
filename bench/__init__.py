"""vecsearch benchmark harness: run as ``python -m bench`` from the repo root.

See ``bench/README.md`` for the commands and what is measured.
"""
