"""Typed attribute columns of an index, fed from dicts, pandas or pyarrow."""
from vecsearch.attributes.store import AttributeStore

__all__ = ["AttributeStore"]
