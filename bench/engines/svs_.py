"""Intel SVS (``scalable-vs``) adapters: Vamana graphs over float32, LVQ8 or LVQ4x8 vectors.

SVS builds a Vamana graph (degree ``2 * M``, alpha 1.2 for L2, construction window
``ef_construction``) and walks it with its search window as the knob. LVQ keeps a
per-vector scaled code (8 bits, or 4 bits with an 8-bit residual that re-ranks); the
LVQ loader reads its input from a file, so the base is written to a temporary
``.fvecs`` first (not timed: SVS's own documented route). SVS's LVQ runs only on Intel CPUs:
elsewhere it ends the whole process ("not supported on non-Intel hardware"), so its adapters
refuse to load there, as an absent library does.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import numpy as np
import svs

from ._version import dist_version
from .base import HNSWParams, WholeBatchEngine
from .files import saved_bytes


def cpu_vendor() -> str:
    """The CPU's vendor id from /proc/cpuinfo (``GenuineIntel``, ``AuthenticAMD``), or ""."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("vendor_id"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


class SvsEngine(WholeBatchEngine):
    """Vamana over float32 vectors."""

    name = "svs-fp32"
    knob = "search_window_size"
    #: LVQ bits (primary, residual); (0, 0) keeps float32 vectors.
    lvq: tuple[int, int] = (0, 0)

    def __init__(self, params: HNSWParams) -> None:
        vendor = cpu_vendor()
        if self.lvq != (0, 0) and vendor != "GenuineIntel":
            raise ImportError(f"SVS LVQ needs an Intel CPU (this one: {vendor or 'unknown'}); "
                              "SVS would exit the process")
        super().__init__(params)

    @property
    def version(self) -> str:
        return dist_version("scalable-vs", svs)

    def build_all(self, data: np.ndarray, threads: int) -> None:
        p = self.params
        params = svs.VamanaBuildParameters(
            alpha=1.2, graph_max_degree=2 * p.M, window_size=p.ef_construction
        )
        primary, residual = self.lvq
        if primary == 0:
            source = data
        else:
            self._scratch = tempfile.mkdtemp(prefix="bench-svs-")
            path = os.path.join(self._scratch, "base.fvecs")
            svs.write_vecs(data, path)
            # padding 32: codes start on a cache-line half, SVS's recommended layout for speed
            source = svs.LVQLoader(
                svs.VectorDataLoader(path, svs.DataType.float32),
                primary=primary, residual=residual, padding=32,
            )  # fmt: skip
        self.index = svs.Vamana.build(params, source, svs.DistanceType.L2, num_threads=threads)

    def search(self, queries: np.ndarray, k: int, ef: int, threads: int) -> np.ndarray:
        index = self.index
        index.num_threads = threads
        window = max(ef, k)
        sp = index.search_parameters
        # A buffer wider than the window (for the LVQ4x8 residual re-rank) was measured to add
        # no recall here and cost 20-25% of the QPS: the window is the whole buffer.
        sp.buffer_config = svs.SearchBufferConfig(window, window)
        index.search_parameters = sp
        ids, _ = index.search(queries, k)
        return ids.astype(np.int64)

    def index_bytes(self) -> int | None:
        return saved_bytes(self._save)

    def _save(self, path: str) -> None:
        os.makedirs(path)
        self.index.save(*(os.path.join(path, part) for part in ("config", "graph", "data")))

    def close(self) -> None:
        super().close()
        scratch = self.__dict__.pop("_scratch", None)
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


class SvsLvq8Engine(SvsEngine):
    """Vamana walked on LVQ8 codes (one byte per dimension plus a per-vector scale)."""

    name = "svs-lvq8"
    codes = "lvq8"
    lvq = (8, 0)


class SvsLvq4x8Engine(SvsEngine):
    """Vamana walked on 4-bit LVQ codes, re-ranked with their 8-bit residuals."""

    name = "svs-lvq4x8"
    codes = "lvq4x8"
    lvq = (4, 8)
