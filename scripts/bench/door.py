"""At the door: DynamoDB round trips per request, auth included (issue 11).

Targets: a check-in is 1 conditional write + at most 1 read (one BatchGetItem of the scanner's account
and the ticket, for its type; then one TransactWriteItems: the ticket's condition, a count shard moving
the event's and the type's counts, and the scanner's token check), and a ticket already in is refused
from that read, with no write; stats 1-2 reads (two BatchGetItems: the counters of the event and its
shards, then its types'); a page of tickets for a scanner one BatchGetItem and one Query on the index.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from devserver.invoke import Api
from scripts.bench.common import RoundTrips, local_stack, new_event

if TYPE_CHECKING:
    from boxoffice.vocabulary import Role

TARGETS = {
    "check in by code": "1 write + <= 1 read",
    "check in by number": "1 write + <= 1 read",
    "scan of a ticket already in (409)": "<= 1 read",
    "forged code (422)": "0",
    "undo a check-in": "1 write + <= 1 read",
    "tickets page (50)": "1 read + 1 query",
    "stats": "1-2 reads",
    "find a user by email": "<= 2",
    "change a role": "1 tx + 1 read",
    "JWKS": "0",
}


def _token(role: Role) -> tuple[str, str]:
    from boxoffice import auth
    from boxoffice.logic import accounts

    user = accounts.create_account(role.title(), f"bench-{role}@example.com", "bench-password", role=role)
    return user.id, auth.issue_token(user.id, role, 0)[0]


def run() -> str:
    from boxoffice.vocabulary import Role

    with local_stack():
        api = Api()
        trips = RoundTrips(api, TARGETS)
        (_, admin), (_, staff), (user_id, buyer) = _token(Role.ADMIN), _token(Role.STAFF), _token(Role.USER)
        event_id = new_event(1000, starts_in=timedelta(hours=1))  # doors open: 6 h before by default
        path = {"event_id": event_id}
        tickets = []
        for _ in range(25):
            made = api.call("create_booking", token=buyer, path=path, body={"quantity": 2})
            tickets += made.body["tickets"]

        trips.measure("check in by code", "check_in", 200, staff, path=path, body={"code": tickets[0]["code"]})
        by_number = {"ticket_number": tickets[1]["ticket_number"]}
        trips.measure("check in by number", "check_in", 200, staff, path=path, body=by_number)
        trips.measure("scan of a ticket already in (409)", "check_in", 409, staff, path=path, body=by_number)
        forged = tickets[2]["code"][:-4] + "AAAA"
        trips.measure("forged code (422)", "check_in", 422, staff, path=path, body={"code": forged})
        undo = {**path, "ticket_number": tickets[1]["ticket_number"]}
        trips.measure("undo a check-in", "undo_check_in", 200, admin, path=undo)
        trips.measure("tickets page (50)", "list_tickets", 200, staff, path=path, query={"limit": "50"})
        trips.measure("stats", "event_stats", 200, admin, path=path)
        trips.measure("find a user by email", "find_user", 200, admin, query={"email": "bench-user@example.com"})
        trips.measure("change a role", "set_role", 200, admin, path={"user_id": user_id}, body={"role": "staff"})
        trips.measure("JWKS", "jwks", 200, None)
    return trips.table("DynamoDB calls per request, at the door")


if __name__ == "__main__":
    print(run())
