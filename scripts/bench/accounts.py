"""DynamoDB calls per request for the account endpoints, auth included (target: login <= 2,
register 1, GET /users/me 1, PATCH /users/me <= 2)."""

from __future__ import annotations

from devserver.invoke import Api
from scripts.bench.common import RoundTrips, local_stack

TARGETS = {"register": "1", "login": "<= 2", "get_me": "1", "update_me (name)": "<= 2", "update_me (password)": "<= 2"}


def run() -> str:
    with local_stack():
        trips = RoundTrips(Api(), TARGETS)
        body = {"name": "Bench", "email": "bench@example.com", "password": "bench-password"}
        trips.measure("register", "register", 201, body=body)
        login = {"email": body["email"], "password": body["password"]}
        token = str(trips.measure("login", "login", 200, body=login)["access_token"])
        trips.measure("get_me", "get_me", 200, token=token)
        trips.measure("update_me (name)", "update_me", 200, token=token, body={"name": "Bench Two"})
        trips.measure(
            "update_me (password)",
            "update_me",
            200,
            token=token,
            body={"password": "another-password", "current_password": body["password"]},
        )
    return trips.table("DynamoDB calls per request, accounts", first="endpoint")


if __name__ == "__main__":
    print(run())
