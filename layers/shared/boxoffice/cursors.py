"""Opaque pagination cursors: a JSON payload signed with the cursor key (boxoffice.keys).

A cursor that was altered, or that was issued for another query (another `scope`), is refused
with 422 INVALID_CURSOR: clients cannot forge a position or smuggle a different filter through it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from boxoffice.errors import InvalidCursor
from boxoffice.keys import cursor_key

MAX_CURSOR_CHARS = 2048


def _key() -> bytes:
    # Derived for this one use: a cursor can never pass for anything else sealed with the key.
    return hmac.new(cursor_key().encode(), b"boxoffice pagination cursor v1", hashlib.sha256).digest()


def _mac(scope: str, body: bytes) -> bytes:
    return hmac.new(_key(), scope.encode() + b"\x00" + body, hashlib.sha256).digest()[:16]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(payload: dict[str, Any], scope: str) -> str:
    """`scope` names the query the cursor belongs to (e.g. a fingerprint of its filters)."""
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return f"{_b64(body)}.{_b64(_mac(scope, body))}"


def unseal(cursor: str, scope: str) -> dict[str, Any]:
    encoded, _, mac = cursor.partition(".")
    try:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError("too long")
        body, signature = _unb64(encoded), _unb64(mac)
        # Only the one encoding we issue: base64 tolerates padding and stray bits we never send.
        if f"{_b64(body)}.{_b64(signature)}" != cursor:
            raise ValueError("not in canonical form")
        if not hmac.compare_digest(signature, _mac(scope, body)):
            raise ValueError("bad signature")
        payload = json.loads(body)
    except ValueError as exc:  # bad base64, UTF-8 or JSON included
        raise InvalidCursor("The cursor was altered or belongs to another query; start again without it.") from exc
    if not isinstance(payload, dict):
        raise InvalidCursor()
    return payload
