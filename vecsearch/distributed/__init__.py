"""vecsearch on Ray: :class:`ShardedIndex`, the Index API over shards held by Ray actors.

Needs the ``[ray]`` extra (``pip install 'vecsearch[ray]'``); importing this package does not
import Ray, creating an index does.
"""
from vecsearch.distributed.sharded import ShardedIndex, ShardedPlan
from vecsearch.errors import ShardError

__all__ = ["ShardedIndex", "ShardedPlan", "ShardError"]
