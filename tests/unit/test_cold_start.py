"""What a cold start does: each function imports only what its route needs, no token or password library
at init, and SnapStart's after-restore hook."""

from __future__ import annotations

import importlib
import json
import random
import subprocess
import sys
import types
from collections.abc import Callable

import pytest

from boxoffice import snapstart
from devserver import template

_IMPORT_EVERY_FUNCTION = """
import importlib.util, json, sys
for index, path in enumerate(sys.argv[1:]):
    spec = importlib.util.spec_from_file_location(f"app{index}", path)
    sys.modules[spec.name] = module = importlib.util.module_from_spec(spec)  # as Lambda imports it
    spec.loader.exec_module(module)
print(json.dumps(sorted(m for m in ("jwt", "bcrypt") if m in sys.modules)))
"""


def test_no_function_imports_pyjwt_or_bcrypt_at_init() -> None:
    modules = sorted({str(route.code_dir / "app.py") for route in template.routes()})
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_EVERY_FUNCTION, *modules],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": f"{template.ROOT / 'layers' / 'shared'}", "AWS_DEFAULT_REGION": "us-east-1"},
    )
    assert json.loads(out.stdout.splitlines()[-1]) == []


# Third-party libraries are loaded once, then each function is imported in a fork of that process:
# only our own modules are compared, and 34 cold interpreters would take far longer than 34 forks.
_IMPORT_EACH_FUNCTION = """
import importlib.util, json, os, sys
import aws_lambda_powertools.event_handler, boto3, pydantic
for name, path in zip(sys.argv[1::2], sys.argv[2::2]):
    child = os.fork()
    if child == 0:
        spec = importlib.util.spec_from_file_location("app", path)
        sys.modules["app"] = module = importlib.util.module_from_spec(spec)  # as Lambda imports it
        spec.loader.exec_module(module)
        ours = sorted(m.removeprefix("boxoffice.") for m in sys.modules if m.startswith("boxoffice."))
        print(json.dumps([name, ours]), flush=True)
        os._exit(0)
    os.waitpid(child, 0)
"""

# What every function loads: config, logging, the deadline; and every HTTP one the resolver and caller
# checks (the edge, with the vocabulary its Principal is part of). No model, no store, no record.
BASE = {"clock", "config", "deadline", "errors", "logic", "observability"}
EDGE = BASE | {"auth", "http", "keys", "logic.permissions", "retry", "snapstart", "vocabulary"}
# What the logic a route calls brings in (its store modules and models), by the logic module.
STORE = {"aws", "retry", "store", "store.dynamo", "store.users", "vocabulary"}
ACCOUNTS = STORE | {"ids", "logic.accounts", "models", "models.common", "models.users", "store.throttle"}
WIRE = {"models", "models.common", "models.events", "money", "shards"}
EVENT_MODELS = WIRE | {"records", "text"}
# The event store: CRUD over its item mapping, the word index and the v1 upgrade it may run.
EVENT_STORE = {"store.events", "store.event_items", "store.legacy", "store.search", "shards"}
TICKET_TYPES = STORE | EVENT_MODELS | {"ids", "logic.access", "logic.tickettypes"}
TICKET_TYPES |= EVENT_STORE | {"store.inventory", "store.line", "store.tickets", "store.tickettypes"}
# Promo codes: the event read as ticket types read it, and the codes' own items; no sale rule, no pricing.
PROMO_CODES = TICKET_TYPES - {"logic.tickettypes", "store.tickettypes"}
PROMO_CODES |= {"cursors", "logic.promocodes", "models.promocodes", "store.promocodes"}
OFFERS = STORE | EVENT_MODELS | EVENT_STORE | {"ids", "logic.offers", "logic.sales", "store.bookings"}
OFFERS |= {"store.holds", "store.inventory", "store.line", "store.offers", "store.tickets", "store.waitlist"}
OFFERS |= {"store.marks"}  # (store.waitlist's: a join marks the line, a return unmarks it)
EVENTS = TICKET_TYPES | OFFERS | {"cursors", "logic.events"}
SALES = OFFERS | {"cursors", "logic.access", "logic.bookings", "logic.expiry", "models.bookings", "ticket_codes"}
# A sale may carry a promo code: its price rules, its items and the account's wrong-code count.
SALES |= {"logic.pricing", "store.code_guesses", "store.promocodes"}
HOLDS = SALES | {"logic.holds", "models.holds"}
WAITING = HOLDS | {"logic.waitlist", "models.waitlist"}
# The door reads tickets and their bookings; it sells nothing, so no sale rule, hold or waiting list.
DOOR = TICKET_TYPES - {"logic.tickettypes", "store.tickettypes"} | {"cursors", "logic.checkin", "ticket_codes"}
DOOR |= {"models.bookings", "models.tickets", "store.bookings"}
# Beyond the edge, by function code directory. The catalogue of OpenAPI samples is nobody's: only
# scripts/openapi.py builds the document. A new import here costs every cold start of the function.
ROUTED: dict[str, set[str]] = {
    "not_found": set(),
    "docs": {"docs"},
    "door": {"door"},
    "jwks": EVENT_MODELS | {"models.bookings", "models.tickets", "ticket_codes"},
    **dict.fromkeys(["login", "register", "get_me", "update_me"], ACCOUNTS),
    **dict.fromkeys(["find_user", "set_role"], ACCOUNTS | {"logic.roles"}),
    **dict.fromkeys(["create_ticket_type", "update_ticket_type", "delete_ticket_type"], TICKET_TYPES),
    **dict.fromkeys(["create_promo_code", "update_promo_code", "delete_promo_code"], PROMO_CODES),
    "list_promo_codes": PROMO_CODES | {"models.bookings", "params"},
    **dict.fromkeys(["create_event", "get_event", "update_event", "delete_event"], EVENTS),
    "list_events": EVENTS | {"models.bookings", "params"},
    **dict.fromkeys(["cancel_booking", "cancel_ticket", "get_booking"], SALES),
    **dict.fromkeys(["create_booking", "list_bookings"], SALES | {"params"}),
    **dict.fromkeys(["get_hold", "release_hold"], HOLDS),
    **dict.fromkeys(["create_hold", "confirm_hold"], HOLDS | {"params"}),
    **dict.fromkeys(["join_waiting_list", "leave_waiting_list"], WAITING),
    "list_waiting_list": WAITING | {"params"},
    **dict.fromkeys(["check_in", "undo_check_in"], DOOR),
    "list_tickets": DOOR | {"params"},
    # The stats shape needs neither the event's, the booking's nor the ticket's models.
    "event_stats": STORE
    | {"ids", "logic.access", "logic.stats", "models", "models.common", "models.stats", "records", "text"}
    | EVENT_STORE
    | {"store.inventory", "store.line", "store.stats", "store.tickets"}
    | {"money", "store.promocodes"},  # its codes' counters, their discount in the currency's places
}
# What tickets, QR codes and calendar entries read (the renderers themselves load when they render).
DOCUMENTS = STORE | EVENT_STORE | {"ids", "logic.access", "logic.documents", "records", "render", "text"}
DOCUMENTS |= {
    "store.bookings",
    "store.documents",
    "store.holds",
    "store.inventory",
    "store.line",
    "store.marks",
    "store.tickets",
    "store.waitlist",
}
ROUTED |= dict.fromkeys(["get_tickets_pdf", "get_ticket_qr", "get_event_calendar"], DOCUMENTS)
NEEDS = {
    **{name: EDGE | needs for name, needs in ROUTED.items()},
    # The scheduled and stream functions answer no model: they load the store's records, not the wire's.
    "sweep_holds": BASE | OFFERS - WIRE | {"logic.expiry", "shards"},
    "publish_domain_events": BASE
    | STORE
    | {"records", "text", "bus", "logic.domain_events", "store.bookings", "store.event_items", "store.legacy"}
    | {"shards"}
    | {"store.changes", "store.inventory", "store.line", "store.tickets"},
    # The mailer renders with the e-mail templates loaded (a domain event at a time, off the request path).
    "send_mail": BASE - {"logic"}
    | DOCUMENTS
    | {"logic", "logic.mail", "logic.permissions", "mailer", "money", "render.mail", "store.mail"},
}


def test_each_function_imports_only_what_its_route_needs() -> None:
    handlers = {
        route.code_dir.name: route.code_dir / f"{route.handler.split('.')[0]}.py"
        for route in template.functions().values()
    }
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_EACH_FUNCTION, *(str(x) for item in sorted(handlers.items()) for x in item)],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": f"{template.ROOT / 'layers' / 'shared'}", "AWS_DEFAULT_REGION": "us-east-1"},
    )
    imported = {name: set(modules) for name, modules in map(json.loads, out.stdout.splitlines())}
    assert set(imported) == set(handlers) == set(NEEDS)
    # Fewer is welcome too: then tighten NEEDS, so that the list stays what each function loads.
    unexpected = {name: sorted(modules ^ NEEDS[name]) for name, modules in imported.items()}
    assert {name: modules for name, modules in unexpected.items() if modules} == {}


def test_a_restored_environment_reseeds_the_retry_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    registered: list[Callable[..., object]] = []
    runtime = types.ModuleType("snapshot_restore_py")
    runtime.register_after_restore = registered.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime)

    importlib.reload(snapstart)

    assert registered == [random.seed]
