"""`make sam-local`: the built functions in Docker (`sam local start-api`) over a local DynamoDB.

It starts the embedded DynamoDB (moto, every call serialised) on 127.0.0.1:<dynamodb-port>, or
uses DYNAMODB_ENDPOINT_URL (DynamoDB Local, say), creates the tables of template.yaml, creates the
admin through the domain code, writes env.json (table names, a local JWT secret) and runs

    sam local start-api --env-vars env.json --parameter-overrides DynamoEndpoint=<endpoint> ...

until Ctrl-C. The containers must reach the endpoint too: CONTAINER_HOST names this machine as they
see it (host.docker.internal with Docker Desktop, the docker0 gateway on Linux for a DynamoDB
published on all interfaces); left empty, they use the same address, which works when sam runs
them in the host's network (a wrapper given as SAM=...).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

from devserver import template
from devserver.dynamodb import EmbeddedDynamoDB, create_tables
from devserver.local_keys import local_keys
from devserver.runtime import function_environment
from devserver.seed import ensure_admin
from scripts.create_admin import environment

ENV_FILE = template.ROOT / "env.json"
PREFIX = "sam"
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
REGION = os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"  # any region: nothing leaves this machine


def as_seen_from(endpoint: str, host: str | None) -> str:
    """The endpoint with its host replaced by the one containers use to reach this machine."""
    if not host:
        return endpoint
    parts = urlsplit(endpoint)
    return urlunsplit(parts._replace(netloc=f"{host}:{parts.port}" if parts.port else host))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sam", default=".venv-sam/bin/sam", help="the sam command (e.g. a wrapper)")
    parser.add_argument("--port", type=int, default=3000, help="API port (default 3000)")
    parser.add_argument("--dynamodb-port", type=int, default=8001, help="embedded DynamoDB port (default 8001)")
    parser.add_argument(
        "--endpoint",
        default=os.environ.get("DYNAMODB_ENDPOINT_URL") or None,
        help="an existing DynamoDB (default: $DYNAMODB_ENDPOINT_URL, else the embedded one)",
    )
    parser.add_argument(
        "--container-host",
        default=os.environ.get("CONTAINER_HOST") or None,
        help="the name or address containers reach this machine by (default: $CONTAINER_HOST, else 127.0.0.1)",
    )
    # Anything else goes to `sam local start-api` as is (--skip-pull-image, --warm-containers EAGER ...).
    args, sam_args = parser.parse_known_args(argv)

    dynamodb = None if args.endpoint else EmbeddedDynamoDB(args.dynamodb_port).start()
    endpoint = args.endpoint or (dynamodb.endpoint if dynamodb else "")
    rounds = os.environ.get("BCRYPT_ROUNDS") or str(template.parameters()["BcryptRounds"])
    local = {**function_environment(endpoint, PREFIX, local_keys(None)), "BCRYPT_ROUNDS": rounds}
    with environment({**local, **LOCAL_CREDENTIALS, "AWS_DEFAULT_REGION": REGION}):
        create_tables(endpoint, PREFIX)
        admin = ensure_admin(
            os.environ.get("ADMIN_EMAIL") or None, os.environ.get("ADMIN_PASSWORD") or None, reset=True
        )

    in_containers = as_seen_from(endpoint, args.container_host)
    functions = {**local, "DYNAMODB_ENDPOINT_URL": in_containers}
    ENV_FILE.write_text(json.dumps({"Parameters": functions}, indent=2) + "\n")
    ENV_FILE.chmod(0o600)  # it holds the local signing secret

    command = [
        *shlex.split(args.sam),
        *("local", "start-api", "--port", str(args.port), "--env-vars", str(ENV_FILE)),
        *("--parameter-overrides", f"DynamoEndpoint={in_containers}"),
        *sam_args,
    ]
    print(f"DynamoDB         {endpoint} (containers use {in_containers})")
    print(f"Admin login      {admin.email} / {admin.password if admin.generated else '(from ADMIN_PASSWORD)'}")
    print(f"Starting         {shlex.join(command)}", flush=True)
    # SAM hands these credentials to the containers (moto and DynamoDB Local accept any); a wrapper
    # such as sam-hostnet finds `sam` on PATH.
    path = os.pathsep.join([str(template.ROOT / ".venv-sam" / "bin"), os.environ.get("PATH", "")])
    env = {**os.environ, **LOCAL_CREDENTIALS, "AWS_DEFAULT_REGION": REGION, "AWS_MAX_ATTEMPTS": "1", "PATH": path}
    env.pop("PYTHONPATH", None)  # ours (for this script) is not sam's, nor the functions'
    # sam removes its containers on Ctrl-C (SIGINT) but may leave warm ones behind on SIGTERM. Handling
    # SIGINT here also hands sam the default disposition when this runs as a background job (which ignores it).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    process = subprocess.Popen(command, cwd=template.ROOT, env=env)
    signal.signal(signal.SIGTERM, lambda *_: process.send_signal(signal.SIGINT))
    try:
        return process.wait()
    except KeyboardInterrupt:  # the terminal sent SIGINT to sam as well
        return process.wait()
    finally:
        if dynamodb is not None:
            dynamodb.stop()


if __name__ == "__main__":
    sys.exit(main())
