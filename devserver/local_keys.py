"""The local runtime's signing keys, kept with its data so that a restart voids no ticket or token.

Deployed, the keys live in Secrets Manager; locally they are one JSON file, `keys.json` in the data
folder (.local-data/), written once with owner-only permissions and read at every start. FRESH=1
makes new ones, as it starts with empty tables. JWT_SECRET and TICKET_KEYS in the environment, if set,
are used instead (a persistent external DynamoDB shared by several checkouts).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

FILE = "keys.json"


@dataclass(frozen=True)
class LocalKeys:
    jwt_secret: str
    ticket_keys: str  # the private ring; its public keys are derived from it
    cursor_key: str

    @property
    def ticket_public_keys(self) -> str:
        from scripts import ticket_ring  # it imports the layer, on sys.path once a runtime exists

        return ticket_ring.public_document(self.ticket_keys)

    @classmethod
    def new(cls) -> LocalKeys:
        from scripts import ticket_ring

        return cls(secrets.token_urlsafe(48), ticket_ring.new_ring(), secrets.token_urlsafe(48))


def local_keys(folder: Path | None, *, fresh: bool = False) -> LocalKeys:
    """The keys kept in `folder` (made and saved there the first time, or when `fresh`); without a
    folder, new ones for this run. The environment's JWT_SECRET and TICKET_KEYS take precedence."""
    path = folder / FILE if folder is not None else None
    if path is not None and path.exists() and not fresh:
        keys = LocalKeys(**json.loads(path.read_text()))
    else:
        keys = LocalKeys.new()
        if path is not None:
            _save(path, keys)
    overrides = {"jwt_secret": os.environ.get("JWT_SECRET"), "ticket_keys": os.environ.get("TICKET_KEYS")}
    return LocalKeys(**{**asdict(keys), **{name: value for name, value in overrides.items() if value}})


def _save(path: Path, keys: LocalKeys) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    # Owner-only from the first byte: these keys sign every local ticket and login.
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(asdict(keys), file)
    partial.replace(path)
