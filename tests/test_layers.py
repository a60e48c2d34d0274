"""No import runs back up the layers (docs/ARCHITECTURE.md, "Layers and what each may import").

Every ``import nnqm_ppl...`` in every module, at top level or inside a function, is read with
``ast``; a module may import from its own layer and the layers listed before it, never after.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "nnqm_ppl"

#: the layers in order (ARCHITECTURE.md's table): top-level module or package name -> layer.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__init__", "atomic", "strictjson", "cache"),
    ("physics", "kernels", "windows"),
    ("spec",),
    ("networks",),
    ("exact",),
    ("theories",),
    ("sampling", "checkpoint"),
    ("observables",),
    ("diagnostics",),
    ("fitting",),
    ("report", "tables", "figures"),
    ("tasks",),
    ("cli", "rundir"),
)
RANK = {name: i for i, names in enumerate(LAYERS) for name in names}


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("nnqm_ppl")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("nnqm_ppl"):
            if node.module == "nnqm_ppl":
                found += [(node.lineno, f"nnqm_ppl.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer():
    tops = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in MODULES}
    assert tops <= set(RANK), f"modules without a layer (add them to LAYERS and ARCHITECTURE.md): {tops - set(RANK)}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_import_runs_back_up_the_layers(path):
    own = RANK[path.relative_to(PACKAGE).parts[0].removesuffix(".py")]
    upward = [
        f"line {line}: {module} (layer {RANK[_top(module)]} > {own})"
        for line, module in _imports(path)
        if RANK[_top(module)] > own
    ]
    assert not upward, f"{path.relative_to(PACKAGE)} imports from a higher layer: {upward}"
