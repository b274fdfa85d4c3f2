"""The embedded tables kept across restarts of `make run`.

One file holds a snapshot of the template's tables (by default .local-data/dynamodb.jsonl): a header
line, then for each table a line with its name and item count followed by one line per item
(DynamoDB JSON), then a line with the total. It is loaded at start, and written a few seconds after
the first unsaved change and at shutdown, always to a temporary file that is flushed to disk and
then renamed over the old one: a crash, even kill -9 in the middle of a write, leaves the previous
snapshot whole and loses at most the last few seconds of changes.

A save must not stall requests in proportion to all the data (they wait on the same lock), so moto's
writes are recorded by key as they happen, and a save re-serialises only the items written since the
last one into an in-memory copy of the file's lines; the file itself is written outside the lock.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

from devserver.flatmoto import item_at, key_of

FORMAT = "boxoffice-local-dynamodb"
VERSION = 1
SAVE_DELAY = 2.0  # seconds from the first unsaved change to the save that carries it
Key = tuple[DynamoType, DynamoType | None]


class CorruptSnapshot(Exception):
    """The snapshot file is not one this runtime wrote in full."""


class Snapshots:
    """Keeps `tables` of the embedded moto in `path`; `lock` is the lock every moto request holds."""

    def __init__(self, path: Path, tables: Iterable[str], lock: threading.Lock, *, delay: float = SAVE_DELAY) -> None:
        self.path = path
        self.tables = frozenset(tables)
        self.delay = delay
        self._lock = lock
        self._dirty: set[tuple[str, Key]] = set()  # written since the last save; read under `lock`
        self._lines: dict[str, dict[Key, str]] = {}  # each table's items as saved, by key
        self._seen: dict[str, Table | None] = {}  # the table object the lines are of
        self._pending = threading.Event()  # a change is waiting to be saved
        self._stopping = threading.Event()
        self._save_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="snapshots", daemon=True)

    def load(self) -> int:
        """Put the snapshot's items into the (empty) tables; returns how many. No file: nothing."""
        if not self.path.exists():
            return 0
        saved = read(self.path)
        loaded = 0
        with self._lock:
            backend = self._backend()
            for name, lines in saved.items():
                table = backend.tables.get(name)
                if table is None or name not in self.tables:
                    continue  # a table the template no longer has
                by_key = self._lines.setdefault(name, {})
                for line in lines:
                    try:
                        item = table.put_item(json.loads(line))
                    except Exception as exc:
                        raise CorruptSnapshot(f"{self.path}: an item of {name} cannot be loaded ({exc})") from exc
                    by_key[(item.hash_key, item.range_key)] = line
                self._seen[name] = table
                loaded += len(lines)
            self._dirty.clear()
        return loaded

    def start(self) -> None:
        """Record moto's writes from now on and save them in the background."""
        global _recording
        _install_hooks()
        _recording = self
        self._thread.start()

    def stop(self) -> None:
        """Stop recording and save what is left."""
        global _recording
        self._stopping.set()
        self._pending.set()
        self._thread.join()
        self.save()
        _recording = None

    def changed(self, table: str, key: Key) -> None:
        """Called by the hooks on moto, inside its request (under `lock`)."""
        self._dirty.add((table, key))
        self._pending.set()

    def save(self) -> None:
        """Write the tables as they are now."""
        with self._save_lock:
            write_atomically(self.path, self._collect())

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._pending.wait()
            # Changes of the next few seconds ride along with the first one.
            if self._stopping.wait(self.delay):
                return  # stop() saves
            self._pending.clear()
            try:
                self.save()
            except OSError as exc:  # a full disk must not stop the API; the next change tries again
                print(f"Could not save {self.path}: {exc}", file=sys.stderr)

    def _collect(self) -> list[str]:
        """The file's lines, brought up to date with the writes since the last save."""
        with self._lock:
            backend = self._backend()
            for name in self.tables:
                table = backend.tables.get(name)
                if name not in self._seen or table is not self._seen[name]:  # new, or replaced whole by moto
                    self._seen[name] = table
                    items = table.all_items() if table is not None else []
                    self._lines[name] = {(item.hash_key, item.range_key): _line(item) for item in items}
            dirty, self._dirty = self._dirty, set()
            for name, key in dirty:
                table, lines = self._seen[name], self._lines[name]
                item = item_at(table, *key) if table is not None else None
                if item is None:
                    lines.pop(key, None)
                else:
                    lines[key] = _line(item)
            header = {"format": FORMAT, "version": VERSION, "saved_at": datetime.now(UTC).isoformat()}
            document = [json.dumps(header)]
            for name in sorted(self.tables):
                document.append(json.dumps({"table": name, "items": len(self._lines[name])}))
                document.extend(self._lines[name].values())
        document.append(json.dumps({"end": len(document) - 1 - len(self.tables)}))
        return document

    def _backend(self) -> DynamoDBBackend:
        for account in dynamodb_backends.values():
            for backend in account.values():
                if self.tables <= backend.tables.keys():
                    return backend
        raise RuntimeError(f"the embedded DynamoDB has no tables {sorted(self.tables)}")


def _line(item: Item) -> str:
    return json.dumps(item.to_json()["Attributes"], separators=(",", ":"))


def read(path: Path) -> dict[str, list[str]]:
    """Each table's item lines from a snapshot file; CorruptSnapshot unless the file is complete."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        header = json.loads(lines[0]) if lines else {}
        if header.get("format") != FORMAT or header.get("version") != VERSION:
            raise CorruptSnapshot(f"{path} is not a version {VERSION} snapshot")
        tables: dict[str, list[str]] = {}
        at = 1
        while at < len(lines):
            entry = json.loads(lines[at])
            if "end" in entry:
                if at != len(lines) - 1 or entry["end"] != sum(map(len, tables.values())):
                    raise CorruptSnapshot(f"{path} does not end where its last line says")
                return tables
            count = int(entry["items"])
            tables[str(entry["table"])] = lines[at + 1 : at + 1 + count]
            at += 1 + count
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CorruptSnapshot(f"{path} cannot be read: {exc}") from exc
    raise CorruptSnapshot(f"{path} stops before its end line")


def write_atomically(path: Path, lines: list[str]) -> None:
    """Replace `path` with `lines` all at once: write a temporary file, flush it to disk, rename it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8") as file:
        file.writelines(f"{line}\n" for line in lines)  # line by line: no second copy of the whole file in memory
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


# --- recording moto's writes -------------------------------------------------------------------
# Every change to a table's items goes through Table.put_item (puts, batch writes, transactions,
# upserts), Table.delete_item, or DynamoDBBackend.update_item (which changes an item in place).
# A rollback (devserver.flatmoto) puts back only items its own actions wrote, so they are recorded.

_recording: Snapshots | None = None
_moto_put_item = Table.__dict__["put_item"]
_moto_delete_item = Table.__dict__["delete_item"]
_moto_update_item = DynamoDBBackend.__dict__["update_item"]


def _install_hooks() -> None:
    Table.put_item = _put_item  # type: ignore[method-assign]
    Table.delete_item = _delete_item  # type: ignore[method-assign]
    DynamoDBBackend.update_item = _update_item  # type: ignore[method-assign]


def _put_item(self: Table, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Item:
    try:
        item: Item = _moto_put_item(self, item_attrs, *args, **kwargs)
        return item
    finally:
        _written(self, item_attrs)


def _delete_item(self: Table, hash_key: DynamoType, range_key: DynamoType | None) -> Item | None:
    try:
        item: Item | None = _moto_delete_item(self, hash_key, range_key)
        return item
    finally:
        if _recording is not None and self.name in _recording.tables:
            _recording.changed(self.name, (hash_key, range_key))


def _update_item(self: DynamoDBBackend, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Item:
    try:
        item: Item = _moto_update_item(self, table_name, key, *args, **kwargs)
        return item
    finally:
        table = self.tables.get(table_name)
        if table is not None:
            _written(table, key)


def _written(table: Table, attrs: dict[str, Any]) -> None:
    if _recording is None or table.name not in _recording.tables:
        return
    try:
        key = key_of(table, attrs)
    except Exception:  # noqa: BLE001 - moto refuses such a key, so nothing was written under it
        return
    _recording.changed(table.name, key)
