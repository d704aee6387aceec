"""Engine adapters, loaded by name so a missing peer library only skips that engine."""

from __future__ import annotations

import importlib

from .base import Engine, HNSWParams

__all__ = ["ENGINES", "Engine", "HNSWParams", "load_engine"]

#: name -> "module:class"; modules are imported only when asked for.
ENGINES = {
    "vecsearch": "bench.engines.vecsearch_:VecsearchEngine",
    "hnswlib": "bench.engines.hnswlib_:HnswlibEngine",
    "faiss": "bench.engines.faiss_:FaissEngine",
    "usearch": "bench.engines.usearch_:UsearchEngine",
    "vecsearch-sq8": "bench.engines.vecsearch_:VecsearchSq8Engine",
    "vecsearch-fp32": "bench.engines.vecsearch_:VecsearchFloatEngine",
    "vecsearch-ncodes": "bench.engines.vecsearch_:VecsearchNeighbourCodesEngine",
    "svs-fp32": "bench.engines.svs_:SvsEngine",
    "svs-lvq8": "bench.engines.svs_:SvsLvq8Engine",
    "svs-lvq4x8": "bench.engines.svs_:SvsLvq4x8Engine",
    "symphonyqg": "bench.engines.symqg_:SymqgEngine",
    "glass": "bench.engines.glass_:GlassEngine",
    "scann": "bench.engines.scann_:ScannEngine",
}


def load_engine(name: str, params: HNSWParams) -> Engine:
    """Import and construct the named engine.

    Raises:
        KeyError: the name is not in :data:`ENGINES`.
        ImportError: its library is not installed (or, for vecsearch, not built).
    """
    module_name, class_name = ENGINES[name].split(":")
    module = importlib.import_module(module_name)
    return getattr(module, class_name)(params)
