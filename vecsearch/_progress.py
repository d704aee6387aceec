"""Progress bars for long operations, through tqdm when it is installed (an optional extra)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Optional

# Below this many items an operation is quick and shows no bar unless asked.
AUTO_THRESHOLD = 50_000


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, s: str = "") -> None:
        pass


@contextmanager
def progress(total: int, desc: str, enabled: Optional[bool] = None, unit: str = "vec", initial: int = 0) -> Iterator[Any]:
    """A bar with `update(n)`; enabled=None shows it for large totals when tqdm exists.
    `initial`: items already done (a resumed operation), left out of its rate and time left."""
    show = (total >= AUTO_THRESHOLD) if enabled is None else bool(enabled)
    if show:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            show = False
    if not show:
        yield _NoBar()
        return
    bar = tqdm(total=total, desc=desc, unit=unit, unit_scale=True, leave=False, initial=initial)
    try:
        yield bar
    finally:
        bar.close()
