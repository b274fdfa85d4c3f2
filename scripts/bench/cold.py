"""Cold init of every function (fresh interpreter: import + module setup) beside a boto3-only floor."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from devserver import template
from scripts.bench.common import median_ms, table

RUNS = 11
LAYER = template.ROOT / "layers" / "shared"
# What Lambda has: the layer's requirements plus boto3, nothing from the dev tools (moto pulls in
# cryptography, which PyJWT would then import). `make bench` builds it; override with BENCH_PYTHON.
PYTHON = os.environ.get("BENCH_PYTHON") or str(template.ROOT / ".venv-bench" / "bin" / "python")
# Layers beyond the shared one are installed (by `make bench`) under .venv-bench/<their ContentUri> and
# put on the path only of the functions that carry them, as Lambda does.
LAYERS = Path(os.environ.get("BENCH_LAYERS") or template.ROOT / ".venv-bench")

# Lambda imports the handler module as a top-level module from the code directory, the layer on sys.path.
_PROBE = """
import sys, time, importlib.util
start = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules["app"] = module  # as Lambda's runtime imports it
spec.loader.exec_module(module)
imported = time.perf_counter()
if sys.argv[2] == "client":
    from boxoffice.store import dynamo
    dynamo.client()
print(imported - start, time.perf_counter() - start)
"""

_FLOOR = """import boto3

client = boto3.client("dynamodb")


def handler(event, context):
    return client.describe_limits()
"""

# The mandated stack with nothing of ours: Powertools' validating resolver, one pydantic model, boto3.
_FRAMEWORK = """import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from pydantic import BaseModel

client = boto3.client("dynamodb")
logger = Logger()
app = APIGatewayHttpResolver(enable_validation=True)


class Body(BaseModel):
    name: str


@app.post("/echo")
def echo(body: Body) -> Body:
    return body


def handler(event, context):
    return app.resolve(event, context)
"""


def _layer_paths(function: str) -> list[str]:
    """Where the function's own layers (beyond the shared one, already on the path) are installed."""
    layers = template.resources("AWS::Serverless::LayerVersion")
    refs = template.resources("AWS::Serverless::Function")[function]["Properties"].get("Layers", [])
    return [str(LAYERS / layers[ref["Ref"]]["Properties"]["ContentUri"]) for ref in refs if "Ref" in ref]


def _once(path: Path, mode: str, layers: list[str]) -> tuple[float, float]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(LAYER), *layers]),
        "AWS_DEFAULT_REGION": "us-east-1",
        "JWT_SECRET": "bench",
    }
    out = subprocess.run([PYTHON, "-c", _PROBE, str(path), mode], env=env, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"{path} failed to import:\n{out.stderr}")
    imported, total = (float(x) for x in out.stdout.split())
    return imported, total


def run() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        floor_file, framework_file = Path(tmp) / "floor.py", Path(tmp) / "framework.py"
        floor_file.write_text(_FLOOR)
        framework_file.write_text(_FRAMEWORK)
        targets: dict[str, tuple[Path, str, list[str]]] = {
            "floor: import boto3 + DynamoDB client": (floor_file, "none", []),
            "framework: floor + Powertools resolver + 1 model": (framework_file, "none", []),
        }
        for route in sorted(template.routes(), key=lambda r: r.code_dir.name):
            module = route.code_dir / f"{route.handler.rsplit('.', 1)[0].replace('.', '/')}.py"
            targets.setdefault(route.code_dir.name, (module, "client", _layer_paths(route.function)))
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in targets}
        # Round-robin, so that the machine's drift over the run falls on every target alike; the
        # first round warms the filesystem and bytecode caches and is dropped.
        for round_number in range(RUNS + 1):
            for name, (path, mode, layers) in targets.items():
                sample = _once(path, mode, layers)
                if round_number:
                    samples[name].append(sample)
    floor = median_ms([total for _, total in samples["floor: import boto3 + DynamoDB client"]])
    rows = []
    for name, measured in samples.items():
        imported = median_ms([i for i, _ in measured])
        total = median_ms([t for _, t in measured])
        client = f"{total - imported:.0f}" if targets[name][1] == "client" else ""
        rows.append([name, f"{imported:.0f}", client, f"{total:.0f}", f"{total / floor:.2f}"])
    version = subprocess.run([PYTHON, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    header = f"Cold init, median of {RUNS} fresh interpreters ({version}, layer requirements + boto3 only), ms"
    return header + "\n" + table(["function", "import", "+client", "init", "x floor"], rows)


if __name__ == "__main__":
    print(run())
