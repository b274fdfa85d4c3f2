"""DynamoDB calls per request for the account endpoints, auth included (target: login <= 2,
register 1, GET /users/me 1, PATCH /users/me <= 2)."""

from __future__ import annotations

from devserver.invoke import Api
from scripts.bench.common import count_calls, local_stack, table

TARGETS = {"register": "1", "login": "<= 2", "get_me": "1", "update_me (name)": "<= 2", "update_me (password)": "<= 2"}


def run() -> str:
    rows = []
    with local_stack():
        api = Api()
        body = {"name": "Bench", "email": "bench@example.com", "password": "bench-password"}
        measured: dict[str, tuple[int, str]] = {}

        def measure(label: str, name: str, expect: int, **kwargs: object) -> dict[str, object]:
            with count_calls() as calls:
                result = api.call(name, **kwargs)  # type: ignore[arg-type]
            assert result.status == expect, (label, result.status, result.body)
            measured[label] = (calls.total, calls.describe())
            return result.body if isinstance(result.body, dict) else {}

        measure("register", "register", 201, body=body)
        login = {"email": body["email"], "password": body["password"]}
        token = str(measure("login", "login", 200, body=login)["access_token"])
        measure("get_me", "get_me", 200, token=token)
        measure("update_me (name)", "update_me", 200, token=token, body={"name": "Bench Two"})
        measure(
            "update_me (password)",
            "update_me",
            200,
            token=token,
            body={"password": "another-password", "current_password": body["password"]},
        )
        for label, (total, detail) in measured.items():
            rows.append([label, str(total), TARGETS[label], detail])
    return "DynamoDB calls per request, accounts\n" + table(["endpoint", "calls", "target", "operations"], rows)


if __name__ == "__main__":
    print(run())
