"""template.yaml as CloudFormation will see it: transformed by the SAM translator that `sam deploy` runs.

`sam package` uploads each CodeUri/ContentUri folder as a zip named by its content's hash and puts that
S3 address in the template before the transform; `packaged` does the same with a stand-in hash per
folder, so a test can say "this folder's content changed" and see what the transform makes of it.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from devserver import template

# The region only fills ${AWS::Region} in what SAM generates; nothing here is region-specific.
REGION = "eu-west-1"


def packaged(contents: dict[str, str] | None = None) -> dict[str, Any]:
    """The template with S3 artifacts: folder -> a content hash (`contents` overrides a folder's hash)."""
    document = copy.deepcopy(template.load())
    for name, resource in document["Resources"].items():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                folder = props[key].rstrip("/")
                digest = (contents or {}).get(folder, f"hash-of-{folder}")
                props[key] = f"s3://artifacts/{name}/{digest}.zip"
    return document


def transform(document: dict[str, Any]) -> dict[str, Any]:
    """What the AWS::Serverless transform turns `document` into (managed policies: none are used)."""
    session = boto3.session.Session(region_name=REGION)
    translator = Translator(None, Parser(), boto_session=session)
    result: dict[str, Any] = translator.translate(document, {}, get_managed_policy_map=dict)
    return result


@cache
def _deployed() -> dict[str, Any]:
    return transform(packaged())


def deployed() -> dict[str, Any]:
    """The transformed template as it is (a copy: tests may not change the cached one)."""
    return copy.deepcopy(_deployed())


def of_type(document: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in document["Resources"].items() if res["Type"] == kind}
