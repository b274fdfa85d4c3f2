"""template.yaml as the one source of routes, handlers, environment and table definitions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


# libyaml's parser (in PyYAML's wheels) reads the 170 KB template ten times faster than the pure-Python one:
# every start of the local runtime, and every test worker, reads it once.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _CfnLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """Reads CloudFormation short-form tags (!Ref, !Sub, !GetAtt ...) into their long forms."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _tag)


@cache
def load() -> dict[str, Any]:
    document: dict[str, Any] = yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    return document


@dataclass(frozen=True)
class Route:
    method: str  # "GET", ... or "ANY"
    path: str  # "/events/{event_id}" or "$default"
    function: str  # logical id
    code_dir: Path
    handler: str  # "app.handler"

    @property
    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        return re.compile(f"^{regex}$")

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in load()["Resources"].items() if res["Type"] == kind}


def _default_handler() -> str:
    return str(load().get("Globals", {}).get("Function", {}).get("Handler", "app.handler"))


def functions() -> dict[str, Route]:
    """Every function by logical id, as something the gateway's loader can import (scheduled and stream
    functions have no HTTP route: only their function, code_dir and handler matter)."""
    return {
        name: Route(
            "", "", name, ROOT / res["Properties"]["CodeUri"], res["Properties"].get("Handler", _default_handler())
        )
        for name, res in resources("AWS::Serverless::Function").items()
    }


def routes() -> list[Route]:
    handler_default = _default_handler()
    found = []
    for name, res in resources("AWS::Serverless::Function").items():
        props = res["Properties"]
        for event in props.get("Events", {}).values():
            if event["Type"] != "HttpApi":
                continue
            p = event["Properties"]
            found.append(
                Route(
                    method=p.get("Method", "ANY").upper(),
                    path=p.get("Path", "$default"),
                    function=name,
                    code_dir=ROOT / props["CodeUri"],
                    handler=props.get("Handler", handler_default),
                )
            )
    return found


def tables() -> dict[str, dict[str, Any]]:
    """Logical id -> Properties of each DynamoDB table."""
    return {name: res["Properties"] for name, res in resources("AWS::DynamoDB::Table").items()}


def parameters(overrides: dict[str, str] | None = None) -> dict[str, str]:
    values = {name: str(p.get("Default", "")) for name, p in load().get("Parameters", {}).items()}
    return {**values, **(overrides or {})}


def resolve(value: Any, refs: dict[str, str]) -> str:
    """Resolve the intrinsics the environment uses: Ref and Sub, against `refs`."""
    if isinstance(value, dict) and "Ref" in value:
        return refs[value["Ref"]]
    if isinstance(value, dict) and "Fn::Sub" in value:
        return re.sub(r"\$\{([\w:]+)\}", lambda m: refs[m.group(1)], value["Fn::Sub"])
    return str(value)


def environment(refs: dict[str, str]) -> dict[str, str]:
    variables = load().get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    return {name: resolve(value, refs) for name, value in variables.items()}
