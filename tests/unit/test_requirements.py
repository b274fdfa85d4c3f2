"""`make run` installs requirements-run.txt only: it must hold everything the served code imports, and the
developer's requirements must hold all of it, every pin as constraints.txt has it."""

from __future__ import annotations

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from devserver import template

ROOT = template.ROOT
# What `make run` imports: the local runtime and everything it serves (the layers, the functions).
SERVED = [ROOT / "devserver", ROOT / "layers", ROOT / "functions"]
FIRST_PARTY = {"boxoffice", "devserver", "functions", "app", "scripts"}  # scripts: the key ring tools devserver shares


def requirements(path: Path) -> list[Requirement]:
    """The requirements a file lists, following its `-r` includes."""
    found: list[Requirement] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found += requirements(ROOT / line.removeprefix("-r ").strip())
        elif line:
            found.append(Requirement(line))
    return found


def pins(path: Path) -> dict[str, str]:
    return {canonicalize_name(r.name): str(r.specifier) for r in requirements(path)}


def installed_closure(wanted: list[Requirement]) -> set[str]:
    """The distributions installing `wanted` brings in: each one, its extras' and its dependencies'."""
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(canonicalize_name(r.name), frozenset(r.extras)) for r in wanted]
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        for line in metadata.distribution(name).requires or []:
            needed = Requirement(line)
            chosen = [{"extra": e} for e in extras] or [{"extra": ""}]
            if needed.marker is None or any(needed.marker.evaluate(env) for env in chosen):
                todo.append((canonicalize_name(needed.name), frozenset(needed.extras)))
    return {name for name, _ in seen}


def _type_checking_only(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _optional(node: ast.Try) -> bool:
    """`try: import x` / `except ImportError`: a module that is used only where it exists."""
    names = [h.type.id for h in node.handlers if isinstance(h.type, ast.Name)]
    return "ImportError" in names or "ModuleNotFoundError" in names


def imported_modules(tree: ast.AST) -> set[str]:
    """Top-level modules a file imports when it runs (not for type checkers, not optional ones)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if (isinstance(node, ast.If) and _type_checking_only(node)) or (isinstance(node, ast.Try) and _optional(node)):
            return
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def served_third_party_imports() -> dict[str, set[str]]:
    """Third-party top-level module -> the files (relative) that import it."""
    found: dict[str, set[str]] = {}
    for folder in SERVED:
        for path in folder.rglob("*.py"):
            for module in imported_modules(ast.parse(path.read_text(encoding="utf-8"))):
                if module not in sys.stdlib_module_names and module not in FIRST_PARTY:
                    found.setdefault(module, set()).add(path.relative_to(ROOT).as_posix())
    return found


def test_each_requirements_file_includes_the_one_below_it_run_then_test_then_dev() -> None:
    for upper, lower in (("test", "run"), ("dev", "test")):
        path = ROOT / f"requirements-{upper}.txt"
        assert f"-r requirements-{lower}.txt" in path.read_text(encoding="utf-8").splitlines()
        assert pins(ROOT / f"requirements-{lower}.txt").items() <= pins(path).items()


def test_make_test_installs_no_lint_or_mutation_tool() -> None:
    # `make test` from a clean clone installs requirements-test.txt only: the linters are make lint's.
    assert not {"ruff", "mypy", "cfn-lint", "mutmut"} & pins(ROOT / "requirements-test.txt").keys()


def test_every_pin_is_the_one_constraints_txt_holds() -> None:
    locked = {
        canonicalize_name(name): version
        for name, version in re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)$", (ROOT / "constraints.txt").read_text(), re.M)
    }
    for requirement in requirements(ROOT / "requirements-dev.txt"):
        assert str(requirement.specifier) == f"=={locked[canonicalize_name(requirement.name)]}", requirement


def test_what_make_run_serves_imports_only_what_the_run_requirements_install() -> None:
    providers = metadata.packages_distributions()
    installed = installed_closure(requirements(ROOT / "requirements-run.txt"))
    missing = {
        module: sorted(files)
        for module, files in served_third_party_imports().items()
        if not any(canonicalize_name(d) in installed for d in providers.get(module, []))
    }
    assert not missing, f"imported but not installed by requirements-run.txt: {missing}"


def test_the_import_scan_sees_imports_inside_functions_and_skips_type_only_ones() -> None:
    source = """
from typing import TYPE_CHECKING
import yaml
if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
try:
    from snapshot_restore_py import register_after_restore
except ImportError:
    pass
def later():
    from moto.server import ThreadedMotoServer
"""
    assert imported_modules(ast.parse(source)) == {"typing", "yaml", "moto"}
