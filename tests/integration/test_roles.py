"""Roles through the real handlers over moto: finding an account, changing its role, the last admin."""

from __future__ import annotations

from typing import Any

import pytest

from boxoffice.config import settings
from boxoffice.store import dynamo
from tests.integration.test_accounts_logs import Logs
from tests.integration.test_accounts_logs import logs as logs
from tests.integration.test_bookings_api import problem
from tests.support.bookings import Account, new_account
from tests.support.handlers import Api, Result

MISSING_USER = "00000000-0000-4000-8000-000000000000"


def set_role(api: Api, who: Account, user_id: str, role: Any) -> Result:
    return api.call("set_role", token=who.token, path={"user_id": user_id}, body={"role": role})


def admins_counted() -> int:
    item = dynamo.get(settings().users_table, {"pk": "ADMINS"})
    return int(item["admins"]) if item else 0


@pytest.fixture
def admin(api: Api) -> Account:
    return new_account("admin")


# --- GET /users?email= ---


def test_an_admin_finds_an_account_by_its_email_in_any_case_and_spacing(api: Api, admin: Account) -> None:
    ada = new_account()
    result = api.call("find_user", token=admin.token, query={"email": f"  {ada.email.upper()} "})
    assert result.status == 200, result.body
    assert result.body["id"] == ada.id
    assert result.body["email"] == ada.email
    assert result.body["role"] == "user"
    assert "password_hash" not in result.body


def test_finding_an_unknown_email_is_404(api: Api, admin: Account) -> None:
    result = api.call("find_user", token=admin.token, query={"email": "nobody@example.com"})
    problem(result, 404, "USER_NOT_FOUND")


def test_finding_needs_a_valid_email(api: Api, admin: Account) -> None:
    body = problem(api.call("find_user", token=admin.token, query={"email": "not-an-email"}), 422, "VALIDATION_FAILED")
    assert body["errors"][0]["field"] == "email"
    problem(api.call("find_user", token=admin.token, query={}), 422, "VALIDATION_FAILED")


@pytest.mark.parametrize("role", ["user", "staff"])
def test_only_admins_find_accounts(api: Api, role: str) -> None:
    caller = new_account(role)
    problem(api.call("find_user", token=caller.token, query={"email": caller.email}), 403, "FORBIDDEN")
    problem(api.call("find_user", query={"email": caller.email}), 401, "UNAUTHENTICATED")


# --- PUT /users/{user_id}/role ---


def test_an_admin_makes_a_user_staff_and_the_users_older_tokens_stop_working(api: Api, admin: Account) -> None:
    ada = new_account()
    result = set_role(api, admin, ada.id, "staff")
    assert result.status == 200, result.body
    assert result.body["role"] == "staff"
    problem(api.call("get_me", token=ada.token), 401, "UNAUTHENTICATED")
    login = api.call("login", body={"email": ada.email, "password": ada.password})
    assert login.body["user"]["role"] == "staff"
    assert api.call("get_me", token=login.body["access_token"]).body["role"] == "staff"


def test_a_role_change_leaves_an_audit_line_naming_both_roles_and_who_changed_it(
    api: Api, admin: Account, logs: Logs
) -> None:
    ada = new_account()
    assert set_role(api, admin, ada.id, "staff").status == 200
    lines = logs.lines("Role changed")
    assert [(x["user_id"], x["from_role"], x["to_role"], x["by"]) for x in lines] == [
        (ada.id, "user", "staff", admin.id)
    ]


def test_setting_the_role_an_account_already_has_changes_nothing(api: Api, admin: Account) -> None:
    ada = new_account()
    assert set_role(api, admin, ada.id, "user").body["role"] == "user"
    assert api.call("get_me", token=ada.token).status == 200


def test_promoting_and_demoting_admins_keeps_the_admin_count(api: Api, admin: Account) -> None:
    ada = new_account()
    assert admins_counted() == 1
    assert set_role(api, admin, ada.id, "admin").status == 200
    assert admins_counted() == 2
    assert set_role(api, admin, ada.id, "staff").status == 200
    assert admins_counted() == 1


def test_the_last_admin_cannot_demote_themselves(api: Api, admin: Account) -> None:
    body = problem(set_role(api, admin, admin.id, "user"), 409, "LAST_ADMIN")
    assert body["status"] == 409
    assert api.call("get_me", token=admin.token).body["role"] == "admin"


def test_an_admin_may_step_down_while_another_remains(api: Api, admin: Account) -> None:
    other = new_account("admin")
    assert set_role(api, admin, admin.id, "staff").body["role"] == "staff"
    problem(api.call("get_me", token=admin.token), 401, "UNAUTHENTICATED")
    problem(set_role(api, other, other.id, "user"), 409, "LAST_ADMIN")


def test_changing_an_unknown_or_malformed_account_is_404(api: Api, admin: Account) -> None:
    problem(set_role(api, admin, MISSING_USER, "staff"), 404, "USER_NOT_FOUND")
    problem(set_role(api, admin, "not-a-user-id", "staff"), 404, "USER_NOT_FOUND")


@pytest.mark.parametrize("role", ["root", "Admin", "", None, 1])
def test_only_the_three_roles_can_be_given(api: Api, admin: Account, role: Any) -> None:
    ada = new_account()
    problem(set_role(api, admin, ada.id, role), 422, "VALIDATION_FAILED")


def test_a_revoked_admin_token_cannot_change_roles(api: Api, admin: Account) -> None:
    other = new_account("admin")
    ada = new_account()
    assert set_role(api, other, admin.id, "staff").status == 200
    problem(set_role(api, admin, ada.id, "admin"), 401, "UNAUTHENTICATED")


@pytest.mark.parametrize("role", ["user", "staff"])
def test_only_admins_change_roles(api: Api, role: str) -> None:
    caller, ada = new_account(role), new_account()
    problem(set_role(api, caller, ada.id, "admin"), 403, "FORBIDDEN")
    problem(set_role(api, caller, caller.id, "admin"), 403, "FORBIDDEN")
    problem(api.call("set_role", path={"user_id": ada.id}, body={"role": "admin"}), 401, "UNAUTHENTICATED")


def test_an_operators_promotion_counts_the_admin_too(api: Api, admin: Account) -> None:
    from boxoffice.logic import accounts

    ada = new_account()
    assert accounts.change_role(ada.email, "admin")  # make create-admin ... PROMOTE=1
    assert admins_counted() == 2
    problem(api.call("get_me", token=ada.token), 401, "UNAUTHENTICATED")
    assert set_role(api, admin, admin.id, "user").status == 200  # ada remains
    assert admins_counted() == 1
