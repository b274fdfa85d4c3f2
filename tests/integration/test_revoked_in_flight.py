"""A token revoked after a request has read the account, and before its write: the write's own token check
(a ConditionCheck on the account, or a condition on the same update) must refuse it, with 401 and nothing
changed. Each route below is one transaction that checks the caller's token; the revocation lands inside
its commit, just before the transaction is sent, so the handler's read saw the token as current."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest

from boxoffice.store import dynamo, users
from devserver.gateway import running_function
from tests.support.bookings import AT_THE_DOOR, Account, _scan, new_account, new_event
from tests.support.handlers import Api, Result
from tests.support.holds import confirm, place, release
from tests.support.waitlist import join, leave

Request = Callable[[], Result]


def revoke(account_id: str) -> None:
    """What a password change or a role change does to an account's older tokens: another request's
    write, so not one the running function's IAM policy is checked for."""
    from boxoffice.config import settings

    outside = running_function.set(None)
    try:
        dynamo.client().update_item(
            TableName=settings().users_table,
            Key=dynamo.dump(users.user_key(account_id)),
            UpdateExpression="SET token_version = token_version + :one",
            ExpressionAttributeValues=dynamo.values(one=1),
        )
    finally:
        running_function.reset(outside)


@contextmanager
def revoked_before_the_next_commit(monkeypatch: pytest.MonkeyPatch, account_id: str) -> Iterator[list[int]]:
    """Revoke the account's tokens inside the next Transaction.commit, after everything the request read;
    yields a list that counts the commits that ran."""
    original = dynamo.Transaction.commit
    commits: list[int] = []

    def revoke_then_commit(tx: dynamo.Transaction) -> None:
        if not commits:
            revoke(account_id)
        commits.append(len(tx))
        original(tx)

    monkeypatch.setattr(dynamo.Transaction, "commit", revoke_then_commit)
    yield commits
    monkeypatch.setattr(dynamo.Transaction, "commit", original)


def everything() -> dict[str, list[dict[str, Any]]]:
    """Every item of every table, to show that a refused request changed nothing."""
    from boxoffice.config import settings

    config = settings()
    tables = (config.users_table, config.events_table, config.bookings_table, config.tickets_table)
    return {t: sorted(_scan(t), key=lambda i: (str(i["pk"]), str(i.get("sk")))) for t in tables}


def unrevoked(state: dict[str, list[dict[str, Any]]], account_id: str) -> dict[str, list[dict[str, Any]]]:
    """`state` with the account's token version put back: the one change a revocation itself makes."""
    from boxoffice.config import settings

    users = [
        {**i, "token_version": i["token_version"] - 1} if i.get("id") == account_id and "token_version" in i else i
        for i in state[settings().users_table]
    ]
    return {**state, settings().users_table: users}


def ok(result: Result, status: int = 201) -> dict[str, Any]:
    assert result.status == status, result.body
    body: dict[str, Any] = result.body
    return body


def _book(api: Api, who: Account, event_id: str, quantity: int = 1) -> Result:
    return api.call("create_booking", token=who.token, path={"event_id": event_id}, body={"quantity": quantity})


# Each: (the account whose token is revoked, the request), after any set-up the request needs.


def create_booking(api: Api) -> tuple[Account, Request]:
    buyer, event_id = new_account(), new_event(total=10)
    return buyer, lambda: _book(api, buyer, event_id)


def cancel_booking(api: Api) -> tuple[Account, Request]:
    buyer = new_account()
    booking = ok(_book(api, buyer, new_event(total=10), 2))
    return buyer, lambda: api.call("cancel_booking", token=buyer.token, path={"booking_id": booking["id"]})


def create_hold(api: Api) -> tuple[Account, Request]:
    buyer, event_id = new_account(), new_event(total=10)
    return buyer, lambda: place(api, buyer, event_id, 2)


def confirm_hold(api: Api) -> tuple[Account, Request]:
    buyer = new_account()
    hold = ok(place(api, buyer, new_event(total=10), 2))
    return buyer, lambda: confirm(api, buyer, hold["id"])


def release_hold(api: Api) -> tuple[Account, Request]:
    buyer = new_account()
    hold = ok(place(api, buyer, new_event(total=10), 2))
    return buyer, lambda: release(api, buyer, hold["id"])


def _sold_out(api: Api) -> str:
    event_id = new_event(total=1)
    ok(_book(api, new_account(), event_id))
    return event_id


def join_waiting_list(api: Api) -> tuple[Account, Request]:
    waiter, event_id = new_account(), _sold_out(api)
    return waiter, lambda: join(api, waiter, event_id)


def leave_waiting_list(api: Api) -> tuple[Account, Request]:
    waiter = new_account()
    entry = ok(join(api, waiter, _sold_out(api)))
    return waiter, lambda: leave(api, waiter, entry["id"])


def create_event(api: Api) -> tuple[Account, Request]:
    from boxoffice import clock

    admin = new_account("admin")
    starts_at = (clock.now() + timedelta(days=30)).replace(microsecond=0).isoformat()
    body = {"name": "Quartet", "venue": "Hall", "starts_at": starts_at, "total_tickets": 10, "ticket_price": "5.00"}
    return admin, lambda: api.call("create_event", token=admin.token, body=body)


def _set_role(api: Api, by: Account, user_id: str, role: str) -> Result:
    return api.call("set_role", token=by.token, path={"user_id": user_id}, body={"role": role})


def set_anothers_role(api: Api) -> tuple[Account, Request]:
    admin, ada = new_account("admin"), new_account()
    return admin, lambda: _set_role(api, admin, ada.id, "staff")


def set_own_role(api: Api) -> tuple[Account, Request]:
    new_account("admin")  # another admin: the last one may not step down at all
    admin = new_account("admin")
    return admin, lambda: _set_role(api, admin, admin.id, "staff")


def _door_ticket(api: Api) -> tuple[str, dict[str, Any]]:
    event_id = new_event(starts_in=AT_THE_DOOR)
    booking = ok(_book(api, new_account(), event_id))
    return event_id, booking["tickets"][0]


def check_in(api: Api) -> tuple[Account, Request]:
    staff = new_account("staff")
    event_id, ticket = _door_ticket(api)
    return staff, lambda: api.call(
        "check_in", token=staff.token, path={"event_id": event_id}, body={"code": ticket["code"]}
    )


def undo_check_in(api: Api) -> tuple[Account, Request]:
    admin = new_account("admin")
    event_id, ticket = _door_ticket(api)
    ok(api.call("check_in", token=admin.token, path={"event_id": event_id}, body={"code": ticket["code"]}), 200)
    path = {"event_id": event_id, "ticket_number": ticket["ticket_number"]}
    return admin, lambda: api.call("undo_check_in", token=admin.token, path=path)


ROUTES = [
    create_booking,
    cancel_booking,
    create_hold,
    confirm_hold,
    release_hold,
    join_waiting_list,
    leave_waiting_list,
    create_event,
    set_anothers_role,
    set_own_role,
    check_in,
    undo_check_in,
]


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.__name__)
def test_a_token_revoked_between_the_read_and_the_write_is_refused_and_changes_nothing(
    api: Api, monkeypatch: pytest.MonkeyPatch, route: Callable[[Api], tuple[Account, Request]]
) -> None:
    caller, request = route(api)
    before = everything()
    with revoked_before_the_next_commit(monkeypatch, caller.id) as commits:
        result = request()
    assert commits, "the request never reached its transaction"
    assert result.status == 401, result.body
    assert result.body["code"] == "UNAUTHENTICATED"
    assert unrevoked(everything(), caller.id) == before


def test_a_profile_change_with_a_token_revoked_after_its_read_is_refused_and_changes_nothing(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PATCH /users/me is one conditional UpdateItem, not a transaction: its `token_version = :ver` is the check."""
    from boxoffice.logic import accounts
    from tests.support.races import between_read_and_write

    user = new_account()
    before = everything()
    between_read_and_write(monkeypatch, accounts, "current_user", lambda: revoke(user.id))
    result = api.call("update_me", token=user.token, body={"name": "Mallory"})
    assert (result.status, result.body["code"]) == (401, "UNAUTHENTICATED"), result.body
    assert unrevoked(everything(), user.id) == before
