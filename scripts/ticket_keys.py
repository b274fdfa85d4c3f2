"""The next ticket key ring, from the current one: read on stdin, written to stdout, never to disk or argv.

    aws secretsmanager get-secret-value --secret-id "$KEYS" --query SecretString --output text \
      | PYTHONPATH=layers/shared .venv/bin/python -m scripts.ticket_keys rotate prod-2 \
      | aws secretsmanager put-secret-value --secret-id "$KEYS" --secret-string file:///dev/stdin

`rotate KID` adds a new key that signs from now on (the old ones still verify); `retire KID` removes a
key once every event it signed tickets for is over; `show` prints the kids, the active one first.
docs/DEPLOY.md ("Ticket code keys") walks through it.
"""

from __future__ import annotations

import argparse
import sys

from boxoffice import ticket_codes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.ticket_keys", description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["rotate", "retire", "show"])
    parser.add_argument("kid", nargs="?", help="the key id to add (rotate) or remove (retire)")
    args = parser.parse_args(argv)
    current = sys.stdin.read().strip()
    try:
        if args.action == "show":
            active, keys = ticket_codes.parse_ring(current)
            print(" ".join([active, *sorted(k for k in keys if k != active)]))
            return 0
        if not args.kid:
            parser.error(f"{args.action} needs a KID")
        change = ticket_codes.rotate if args.action == "rotate" else ticket_codes.retire
        sys.stdout.write(change(current, args.kid))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)  # never the ring itself
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
