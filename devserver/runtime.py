"""Starts the whole local stack: DynamoDB (embedded moto, or any endpoint), tables, env, and the gateway."""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from pathlib import Path

from devserver import streams, template
from devserver.cors import Cors
from devserver.dynamodb import EmbeddedDynamoDB, create_tables, table_names
from devserver.gateway import Gateway, Server, serve
from devserver.isolation import isolate_concurrent_requests
from devserver.local_keys import LocalKeys, local_keys
from devserver.persistence import Snapshots
from devserver.scheduler import Scheduler
from devserver.streams import DomainEvents

LAYER = template.ROOT / "layers" / "shared"
# The embedded DynamoDB serialises every call, so one may wait behind others far longer than
# DynamoDB ever takes: a short read timeout would retry (and so repeat) writes that are only queued.
SERIALISED_READ_TIMEOUT = "10"
SNAPSHOT = "dynamodb.jsonl"


def function_environment(endpoint: str, table_prefix: str, keys: LocalKeys) -> dict[str, str]:
    """The template's Globals resolved for a local DynamoDB, with local signing keys in place of
    Secrets Manager (which neither this runtime nor a sam local container can reach)."""
    refs = {
        **template.parameters({"Stage": "local", "DynamoEndpoint": endpoint}),
        **table_names(table_prefix),
        **dict.fromkeys(("JwtSecret", "TicketSigningKeys", "TicketPublicKeys", "CursorKey"), ""),
    }
    env = template.environment(refs)
    env.update(JWT_SECRET=keys.jwt_secret, JWT_SECRET_ARN="", POWERTOOLS_METRICS_NAMESPACE="boxoffice-local")
    env.update(AWS_READ_TIMEOUT_SECONDS=SERIALISED_READ_TIMEOUT)
    env.update(TICKET_KEYS=keys.ticket_keys, TICKET_KEYS_ARN="")
    env.update(TICKET_PUBLIC_KEYS=keys.ticket_public_keys, TICKET_PUBLIC_KEYS_ARN="")
    env.update(CURSOR_KEY=keys.cursor_key, CURSOR_KEY_ARN="")
    return env


def mail_environment(data_dir: Path | None) -> dict[str, str]:
    """Whether the mailer mails (MAIL_ENABLED, on unless set to false: the tests turn it off where they do
    not look at mail, as rendering a PDF per booking costs CPU) and where its messages go: MAIL_SMTP_URL's
    server when it is set (a local Mailpit, say), else one .eml file each in <data dir>/mail/ (a temporary
    folder without one)."""
    enabled = {"MAIL_ENABLED": os.environ.get("MAIL_ENABLED") or "true"}
    smtp = os.environ.get("MAIL_SMTP_URL", "")
    if smtp:
        return {**enabled, "MAIL_SMTP_URL": smtp, "MAIL_OUTBOX_DIR": ""}
    base = data_dir if data_dir is not None else Path(tempfile.gettempdir()) / f"boxoffice-{os.getpid()}"
    return {**enabled, "MAIL_OUTBOX_DIR": str(base / "mail"), "MAIL_SMTP_URL": ""}


class LocalRuntime:
    """The API on 127.0.0.1:<port> with its own DynamoDB; a context manager that stops what it started.

    With `data_dir`, the embedded DynamoDB's tables are kept in a snapshot there (devserver.persistence):
    loaded at start unless `fresh`, saved a few seconds after changes and at stop. With `keys_dir`
    (the same folder, for `make run`), so are the signing keys (devserver.local_keys).
    """

    def __init__(
        self,
        port: int = 8000,
        *,
        dynamodb_endpoint: str | None = None,
        dynamodb_port: int = 0,
        data_dir: Path | None = None,
        fresh: bool = False,
        table_prefix: str = "local",
        keys_dir: Path | None = None,
        extra_env: dict[str, str] | None = None,
        cors_origins: str = "",
        quiet: bool = False,
    ) -> None:
        self.port = port
        self.table_prefix = table_prefix
        self.quiet = quiet
        self._external_endpoint = dynamodb_endpoint
        self._dynamodb_port = dynamodb_port
        self._data_dir = data_dir
        self._fresh = fresh
        use_layer()
        self.keys = local_keys(keys_dir, fresh=fresh)
        self._extra_env = extra_env or {}
        self._cors = Cors.from_template(cors_origins)
        self.dynamodb: EmbeddedDynamoDB | None = None
        self.snapshots: Snapshots | None = None
        self.loaded_items = 0
        self.server: Server | None = None
        self.domain_events: DomainEvents | None = None  # with the embedded moto only: it is the local EventBridge
        self.scheduler: Scheduler | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}"

    @property
    def endpoint(self) -> str:
        if self._external_endpoint:
            return self._external_endpoint
        assert self.dynamodb is not None
        return self.dynamodb.endpoint

    def environment(self) -> dict[str, str]:
        """What the handlers see: template Globals resolved for this machine, plus local credentials."""
        env = function_environment(self.endpoint, self.table_prefix, self.keys)
        # moto and DynamoDB Local accept any credentials; never reach for real ones.
        env.update(AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local", AWS_SESSION_TOKEN="local")
        env.setdefault("AWS_DEFAULT_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
        if not self._external_endpoint:
            env.update(streams.environment(self.table_prefix, self.endpoint))
            env.update(mail_environment(self._data_dir))
        env.update(self._extra_env)
        return env

    def start(self) -> LocalRuntime:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        isolate_concurrent_requests()  # before anything logs: the sample data is made outside any function
        if not self._external_endpoint:
            self.dynamodb = EmbeddedDynamoDB(self._dynamodb_port).start().direct()
        os.environ.update(self.environment())
        reset_caches()
        create_tables(self.endpoint, self.table_prefix)
        if self.dynamodb is not None and self._data_dir is not None:
            tables = table_names(self.table_prefix).values()
            snapshots = Snapshots(self._data_dir / SNAPSHOT, tables, self.dynamodb.lock)
            self.loaded_items = 0 if self._fresh else snapshots.load()
            snapshots.start()
            self.snapshots = snapshots
        if self.dynamodb is not None:
            self.domain_events = DomainEvents(self.dynamodb, self.table_prefix, quiet=self.quiet).start()
        self.server = serve(Gateway(template.routes(), self._cors), self.port, quiet=self.quiet)
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.1,), name="gateway", daemon=True)
        self._thread.start()
        self.scheduler = Scheduler(quiet=self.quiet).start()

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        if self.snapshots is not None:
            self.snapshots.stop()
            self.snapshots = None
        if self.domain_events is not None:
            self.domain_events.stop()
        if self.dynamodb is not None:
            self.dynamodb.stop()

    def __enter__(self) -> LocalRuntime:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def use_layer() -> None:
    """The shared package importable, as the functions' layer makes it."""
    if str(LAYER) not in sys.path:
        sys.path.insert(0, str(LAYER))


def reset_caches() -> None:
    """Settings and clients are cached per cold start; a runtime started in-process is a new one."""
    from boxoffice import auth, bus, config, keys, mailer, ticket_codes
    from boxoffice.store import dynamo, event_items

    event_items.forget()
    config.settings.cache_clear()
    dynamo.client.cache_clear()
    keys.clear()
    bus.client.cache_clear()
    mailer.client.cache_clear()
    auth.dummy_hash.cache_clear()
    ticket_codes.clear_cache()
