"""vecsearch/_core.pyi names exactly what the native core exports, so the type check sees the
real API: a method added to or removed from the bindings without its stub fails here."""
from __future__ import annotations

import ast
import os

import vecsearch
from vecsearch import _core


def _stub() -> ast.Module:
    path = os.path.join(os.path.dirname(vecsearch.__file__), "_core.pyi")
    with open(path) as f:
        return ast.parse(f.read())


def _public(names) -> set:
    return {n for n in names if not n.startswith("_")}


def test_stub_lists_every_function_and_class():
    stub = _stub()
    top = {node.name for node in stub.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    top |= {t.id for node in stub.body if isinstance(node, ast.AnnAssign) for t in [node.target]
            if isinstance(t, ast.Name)}
    assert _public(top) == _public(dir(_core))


def test_stub_lists_every_method():
    for node in _stub().body:
        if isinstance(node, ast.ClassDef):
            methods = {item.name for item in node.body if isinstance(item, ast.FunctionDef)}
            assert _public(methods) == _public(dir(getattr(_core, node.name))), node.name
