"""The layer package imports one way only: the HTTP edge over logic, logic over models and store, and all
of them over the base modules (records, errors, text, clock, ...). A backward import is named here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "shared" / "boxoffice"

# Which layers a layer must not import. "base" is every module outside the four layers.
FORBIDDEN = {
    "http": set(),
    "logic": {"http"},
    "models": {"http", "logic", "store"},
    "store": {"http", "logic", "models"},
    "base": {"http", "logic", "models", "store"},
}


# The edge's own modules outside boxoffice.http: the OpenAPI problem catalogue and the request parameters.
EDGE = {"catalogue", "params"}


def layer(module: str) -> str:
    """The layer of a dotted module name inside the package ("boxoffice.store.events" -> "store")."""
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in EDGE:
        return "http"
    return parts[1] if len(parts) > 1 and parts[1] in FORBIDDEN else "base"


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def imported(tree: ast.AST, module: str) -> set[str]:
    """Every boxoffice module the source imports, at the top or inside a function (lazy imports count)."""
    found: set[str] = set()
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing module's package
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            if base == "boxoffice":  # `from boxoffice import store` imports the store layer
                found.update(f"{base}.{alias.name}" for alias in node.names)
            else:
                found.add(base)
    return {name for name in found if name.split(".")[0] == "boxoffice"}


def backward_imports() -> list[str]:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        own = layer(module)
        for target in sorted(imported(ast.parse(path.read_text(), str(path)), module)):
            if layer(target) in FORBIDDEN[own]:
                problems.append(f"{module} ({own}) imports {target} ({layer(target)})")
    return problems


def test_no_module_of_the_layer_imports_a_layer_above_its_own() -> None:
    assert backward_imports() == []


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("from boxoffice.models.events import venue_key", "boxoffice.store.events", "boxoffice.models.events"),
        ("from boxoffice import http", "boxoffice.logic.events", "boxoffice.http"),
        ("def f():\n    import boxoffice.logic.access", "boxoffice.store.events", "boxoffice.logic.access"),
        ("from ..logic import access", "boxoffice.store.events", "boxoffice.logic"),
    ],
)
def test_an_import_is_seen_wherever_and_however_it_is_written(source: str, module: str, expected: str) -> None:
    assert expected in imported(ast.parse(source), module)
    assert layer(expected) in FORBIDDEN[layer(module)]
