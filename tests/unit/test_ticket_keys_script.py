"""scripts.ticket_keys: the key procedures of docs/DEPLOY.md, against the stack's two secrets (moto)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from boxoffice import clock
from scripts import ticket_keys, ticket_ring


class Secrets:
    """The private ring's and the public keys' secrets as the template creates them, and the writes made."""

    def __init__(self) -> None:
        self.client = boto3.client("secretsmanager")
        self.keys = self.client.create_secret(Name="keys", SecretString="{}")["ARN"]
        self.public = self.client.create_secret(Name="public", SecretString='{"keys": []}')["ARN"]
        self.writes: list[str] = []
        self.client.meta.events.register("provide-client-params.secrets-manager.PutSecretValue", self._count)

    def _count(self, params: dict[str, Any], **_: Any) -> None:
        self.writes.append("public" if params["SecretId"] == self.public else "keys")

    def run(self, *argv: str) -> int:
        return ticket_keys.main([*argv, "--keys", self.keys, "--public", self.public], client=self.client)

    def ring(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.client.get_secret_value(SecretId=self.keys)["SecretString"])
        return found

    def published(self) -> list[str]:
        document = json.loads(self.client.get_secret_value(SecretId=self.public)["SecretString"])
        return [key["kid"] for key in document["keys"]]


@pytest.fixture
def stack() -> Iterator[Secrets]:
    with mock_aws():
        yield Secrets()


def test_init_then_rotate_publishes_each_key_before_the_ring_can_sign_with_it(
    stack: Secrets, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    start = clock.now()
    monkeypatch.setattr(clock, "now", lambda: start)
    assert stack.run("init") == 0
    first = stack.ring()["active"]
    assert stack.published() == [first]

    assert stack.run("rotate") == 0

    ring = stack.ring()
    assert (ring["active"], len(ring["keys"])) == (first, 2)
    assert stack.published() == [ring["next"], first]
    assert ring["next_from"] == (start + timedelta(seconds=ticket_ring.PUBLISH_LEAD_SECONDS)).isoformat()
    assert stack.writes == ["public", "keys", "public", "keys"]  # never a ring ahead of its public keys
    out = capsys.readouterr().out
    assert all(secret not in out for secret in ring["keys"].values())


def test_retire_removes_a_key_once_it_no_longer_signs(stack: Secrets, monkeypatch: pytest.MonkeyPatch) -> None:
    start = clock.now()
    monkeypatch.setattr(clock, "now", lambda: start)
    stack.run("init")
    first = stack.ring()["active"]
    stack.run("rotate")
    assert stack.run("retire", first) == 1  # it still signs until the new key's time has come

    monkeypatch.setattr(clock, "now", lambda: start + timedelta(seconds=ticket_ring.PUBLISH_LEAD_SECONDS))
    stack.run("rotate")
    assert stack.run("retire", first) == 0
    assert first not in stack.ring()["keys"]
    assert first not in stack.published()


def test_init_refuses_a_ring_that_has_keys_and_prints_the_reason_never_the_ring(
    stack: Secrets, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.run("init")
    capsys.readouterr()
    assert stack.run("init") == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "rotate instead" in err
    assert all(secret not in err for secret in stack.ring()["keys"].values())


def test_adopt_publishes_the_old_rings_public_keys_under_their_old_kids(
    stack: Secrets, capsys: pytest.CaptureFixture[str]
) -> None:
    old_secret = "p" * 64
    old = stack.client.create_secret(Name="old", SecretString=json.dumps({"active": "prod-1", "prod-1": old_secret}))
    stack.run("init")

    assert stack.run("adopt", "--from", old["ARN"]) == 0

    assert stack.published() == [stack.ring()["active"], "prod-1"]
    assert old_secret not in json.dumps(stack.ring())
    assert "prod-1" in capsys.readouterr().out


@pytest.mark.parametrize("kid", ["-FOSlYfQekWmO8lx", "--FOSlYfQekWmO8l", "-hOSlYfQekWmO8lx", "FOSlYfQekWmO8lx-"])
def test_a_key_id_beginning_with_a_dash_is_the_key_to_retire_not_an_option(
    kid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[str, str | None]] = []
    monkeypatch.setattr(ticket_keys, "run", lambda _c, action, _k, _p, given, _o: asked.append((action, given)) or "")
    assert ticket_keys.main(["retire", kid, "--keys", "k", "--public", "p"], client=object()) == 0  # type: ignore[arg-type]
    assert asked == [("retire", kid)]
