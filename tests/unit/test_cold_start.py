"""What a cold start does: no token or password library at init, and SnapStart's after-restore hook."""

from __future__ import annotations

import importlib
import json
import random
import subprocess
import sys
import types
from collections.abc import Callable

import pytest

from boxoffice import snapstart
from devserver import template

_IMPORT_EVERY_FUNCTION = """
import importlib.util, json, sys
for index, path in enumerate(sys.argv[1:]):
    spec = importlib.util.spec_from_file_location(f"app{index}", path)
    sys.modules[spec.name] = module = importlib.util.module_from_spec(spec)  # as Lambda imports it
    spec.loader.exec_module(module)
print(json.dumps(sorted(m for m in ("jwt", "bcrypt") if m in sys.modules)))
"""


def test_no_function_imports_pyjwt_or_bcrypt_at_init() -> None:
    modules = sorted({str(route.code_dir / "app.py") for route in template.routes()})
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_EVERY_FUNCTION, *modules],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": f"{template.ROOT / 'layers' / 'shared'}", "AWS_DEFAULT_REGION": "us-east-1"},
    )
    assert json.loads(out.stdout.splitlines()[-1]) == []


def test_a_restored_environment_reseeds_the_retry_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    registered: list[Callable[..., object]] = []
    runtime = types.ModuleType("snapshot_restore_py")
    runtime.register_after_restore = registered.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime)

    importlib.reload(snapstart)

    assert registered == [random.seed]
