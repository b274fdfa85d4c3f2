"""The ticket key ring's life: init, rotate, retire, show, publish (docs/DEPLOY.md, "Ticket code keys").

    PYTHONPATH=layers/shared .venv/bin/python -m scripts.ticket_keys rotate --keys "$KEYS" --public "$PUBLIC"

`--keys` is the private ring's secret (stack output TicketSigningKeysArn), `--public` the public key
set's (TicketPublicKeysArn). Every change writes the public keys first: a key is published before
anything signs with it, and `rotate` makes the new key sign only PUBLISH_LEAD_SECONDS later, when every
JWKS cache has it. `retire KID` removes a key once every event it signed tickets for is over; `show`
prints the kids (never a secret); `publish` writes the public keys again from the ring. `adopt --from
ARN` takes the public keys of a ring of the old form (the retired `TicketKeys` secret, kids
"<stage>-1"), so the codes it signed keep verifying at the door until those kids are retired.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from boxoffice import clock, ticket_codes
from scripts import ticket_ring

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient


def _write(client: SecretsManagerClient, keys: str, public: str, ring: str) -> None:
    document = ticket_ring.public_document(ring)  # refuses a ring it cannot publish, before any write
    client.put_secret_value(SecretId=public, SecretString=document)
    client.put_secret_value(SecretId=keys, SecretString=ring)


def _describe(ring: ticket_codes.Ring) -> str:
    others = [*sorted(set(ring.keys) - {ring.active, ring.next}), *(key["kid"] for key in ring.legacy)]
    upcoming = f"next {ring.next} (signs from {ring.next_from.isoformat()}) " if ring.next and ring.next_from else ""
    return f"active {ring.active} {upcoming}verifying {' '.join(others) or '-'}"


def run(
    client: SecretsManagerClient, action: str, keys: str, public: str, kid: str | None, old: str | None = None
) -> str:
    """Carries out `action`; returns what to print (kids and times only)."""
    current = client.get_secret_value(SecretId=keys)["SecretString"]
    now = clock.now()
    if action == "init":
        if current.strip() not in ("", "{}"):
            raise ValueError("the ring already has keys: rotate instead")
        changed = ticket_ring.new_ring()
    elif action == "rotate":
        changed = ticket_ring.rotate(current, now)
    elif action == "retire":
        if not kid:
            raise ValueError("retire needs the KID to remove")
        changed = ticket_ring.retire(current, kid, now)
    elif action == "adopt":
        if not old:
            raise ValueError("adopt needs --from, the old ring's secret")
        changed = ticket_ring.adopt(current, client.get_secret_value(SecretId=old)["SecretString"])
    elif action == "publish":
        changed = current
    else:
        return _describe(ticket_codes.parse_ring(current))
    _write(client, keys, public, changed)
    return _describe(ticket_codes.parse_ring(changed))


def _kid_as_value(argv: list[str]) -> list[str]:
    """A key id is a base64url thumbprint, so one in 32 begins with "-": argparse would read it as an option.
    The word after `retire` is the key id whatever it looks like."""
    for n, word in enumerate(argv[:-1]):
        if word == "retire" and argv[n + 1].startswith("-") and argv[n + 1] not in ("--keys", "--public", "--from"):
            return [*argv[: n + 1], f"--kid={argv[n + 1]}", *argv[n + 2 :]]
    return argv


def main(argv: list[str] | None = None, client: SecretsManagerClient | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.ticket_keys", description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["init", "rotate", "retire", "show", "publish", "adopt"])
    parser.add_argument("kid", nargs="?", help="the key id to remove (retire)")
    parser.add_argument("--keys", required=True, help="the private ring's secret (TicketSigningKeysArn)")
    parser.add_argument("--public", required=True, help="the public keys' secret (TicketPublicKeysArn)")
    parser.add_argument("--from", dest="old", help="adopt: the old-form ring's secret (the retained TicketKeys)")
    parser.add_argument("--kid", dest="kid_given", help=argparse.SUPPRESS)  # a key id as `--kid=<id>`
    args = parser.parse_args(_kid_as_value(list(sys.argv[1:] if argv is None else argv)))
    if client is None:
        import boto3

        client = boto3.client("secretsmanager")
    try:
        print(run(client, args.action, args.keys, args.public, args.kid or args.kid_given, args.old))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)  # never the ring itself
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
