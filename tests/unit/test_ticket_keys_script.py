"""scripts.ticket_keys: the rotation procedure of docs/DEPLOY.md, stdin to stdout."""

from __future__ import annotations

import io
import json

import pytest

from boxoffice import ticket_codes
from scripts import ticket_keys

RING = json.dumps({"active": "prod-1", "prod-1": "a" * 64})


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], stdin: str, *argv: str) -> str:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    assert ticket_keys.main(list(argv)) == 0
    return capsys.readouterr().out


def test_rotate_then_retire_moves_signing_to_the_new_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rotated = run(monkeypatch, capsys, RING, "rotate", "prod-2")
    active, keys = ticket_codes.parse_ring(rotated)
    assert (active, sorted(keys)) == ("prod-2", ["prod-1", "prod-2"])
    assert keys["prod-1"] == "a" * 64
    assert len(keys["prod-2"]) >= 32
    assert run(monkeypatch, capsys, rotated, "show") == "prod-2 prod-1\n"
    retired = run(monkeypatch, capsys, rotated, "retire", "prod-1")
    assert ticket_codes.parse_ring(retired) == ("prod-2", {"prod-2": keys["prod-2"]})


def test_a_refused_change_prints_the_reason_and_never_the_ring(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(RING))
    assert ticket_keys.main(["retire", "prod-1"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "rotate first" in err
    assert "a" * 64 not in err
