"""Rotating the ticket keys as deployed (two secrets in Secrets Manager, moto) with a clock the test moves:
the door never refuses a code signed with a key that was published, and unknown kids cost few reads."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from unittest import mock

import boto3
import pytest
from moto import mock_aws

from boxoffice import clock, keys, ticket_codes
from boxoffice.config import settings
from boxoffice.errors import InvalidTicketCode
from devserver.runtime import reset_caches
from scripts import ticket_keys, ticket_ring

EVENT, NUMBER = "6f1c2f0e-1d2b-4c3a-9e8f-7a6b5c4d3e2f", "7KQ4-M2ZX-AB12-CD34-EF56-GH78-JK90"


class Stack:
    """The stack's ticket key secrets, set up by `scripts.ticket_keys init`, and the reads made of them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.client = boto3.client("secretsmanager")
        self.keys = self.client.create_secret(Name="keys", SecretString="{}")["ARN"]
        self.public = self.client.create_secret(Name="public", SecretString='{"keys": []}')["ARN"]
        self.start = clock.now()
        self._monkeypatch = monkeypatch
        self.move(0)
        assert self.script("init") == 0
        self.reads: list[str] = []

    def script(self, *argv: str) -> int:
        return ticket_keys.main([*argv, "--keys", self.keys, "--public", self.public], client=self.client)

    def move(self, seconds: float) -> None:
        moment = self.start + timedelta(seconds=seconds)
        self._monkeypatch.setattr(clock, "now", lambda: moment)

    def count_reads(self) -> None:
        def counted(params: dict[str, Any], **_: Any) -> None:
            self.reads.append("public" if params["SecretId"] == self.public else "keys")

        keys._client().meta.events.register("provide-client-params.secrets-manager.GetSecretValue", counted)

    def ring(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.client.get_secret_value(SecretId=self.keys)["SecretString"])
        return found


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    with mock_aws(), mock.patch.dict(os.environ):
        made = Stack(monkeypatch)
        os.environ.update(
            TICKET_KEYS="", TICKET_KEYS_ARN=made.keys, TICKET_PUBLIC_KEYS="", TICKET_PUBLIC_KEYS_ARN=made.public
        )
        reset_caches()
        yield made
    reset_caches()


def door_accepts(code: str) -> bool:
    try:
        ticket_codes.verify(code)
    except InvalidTicketCode:
        return False
    return True


def signed_elsewhere(ring: str) -> str:
    """A code as another instance holding `ring` signs it now (this instance's caches stay as they are)."""
    with mock.patch.dict(os.environ, TICKET_KEYS=ring):
        settings.cache_clear()
        code = ticket_codes.sign(EVENT, NUMBER)
    settings.cache_clear()
    return code


def test_no_instance_signs_with_a_new_key_before_a_warm_door_and_cached_jwks_can_know_it(stack: Stack) -> None:
    old = ticket_codes.sign(EVENT, NUMBER)  # a warm signer ...
    assert door_accepts(old)  # ... and a warm door, each with its document cached
    stack.move(1)
    assert stack.script("rotate") == 0
    new_kid = stack.ring()["next"]

    for second in range(0, ticket_ring.PUBLISH_LEAD_SECONDS, 60):
        stack.move(1 + second)
        code = ticket_codes.sign(EVENT, NUMBER)  # this instance, re-reading the ring as its cache ages
        fresh = signed_elsewhere(json.dumps(stack.ring()))  # one that has just read it
        assert code == fresh == old, f"{second} s after the rotation, the new key signed"
        assert door_accepts(code)

    stack.move(1 + ticket_ring.PUBLISH_LEAD_SECONDS)
    fresh = signed_elsewhere(json.dumps(stack.ring()))
    assert ticket_codes.public_keys()[0]["kid"] == new_kid  # what the JWKS route serves
    assert fresh != old
    assert door_accepts(fresh)
    assert door_accepts(old)


def test_a_warm_door_reads_the_keys_again_on_an_unknown_kid_at_most_every_30_seconds(stack: Stack) -> None:
    assert door_accepts(ticket_codes.sign(EVENT, NUMBER))  # the door has read the public keys
    # Published out of band (an emergency rotation that signs at once): the door's copy is older.
    urgent = ticket_ring.rotate(json.dumps(stack.ring()), stack.start - timedelta(hours=1))
    stack.client.put_secret_value(SecretId=stack.public, SecretString=ticket_ring.public_document(urgent))
    code = signed_elsewhere(urgent)
    stack.count_reads()

    stack.move(ticket_codes.RECHECK_SECONDS - 1)
    assert not door_accepts(code)
    assert not door_accepts(code)
    assert stack.reads == []  # read at 0 s: not again within RECHECK_SECONDS, whatever codes arrive
    stack.move(ticket_codes.RECHECK_SECONDS)
    assert door_accepts(code)
    assert stack.reads == ["public"]


def test_forged_kids_cost_no_more_than_one_read_per_recheck_period(stack: Stack) -> None:
    assert door_accepts(ticket_codes.sign(EVENT, NUMBER))  # the door has read the public keys
    stack.count_reads()
    for second in range(2 * ticket_codes.RECHECK_SECONDS):
        stack.move(second)
        rogue = ticket_ring.new_ring()  # a key of nobody's, under a kid of its own
        assert not door_accepts(signed_elsewhere(rogue))
    assert stack.reads == ["public"]  # at 30 s; none at 0-29 s nor 31-59 s
