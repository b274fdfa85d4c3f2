"""Tickets at the door: the public keys that verify ticket codes."""

from __future__ import annotations

from typing import Literal

from boxoffice.models.common import ResponseModel


class JsonWebKey(ResponseModel):
    """An Ed25519 public key (RFC 8037): `x` is the raw key, base64url without padding."""

    kty: Literal["OKP"]
    crv: Literal["Ed25519"]
    x: str
    kid: str
    alg: Literal["EdDSA"]
    use: Literal["sig"]


class JsonWebKeySet(ResponseModel):
    keys: list[JsonWebKey]
