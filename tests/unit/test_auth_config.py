"""bcrypt cost 12 is what gets deployed; tests lower it only through configuration."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from boxoffice import config
from devserver import template


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    config.settings.cache_clear()
    yield
    config.settings.cache_clear()


def test_the_deployed_default_cost_is_12(monkeypatch: pytest.MonkeyPatch, fresh_settings: None) -> None:
    monkeypatch.delenv("BCRYPT_ROUNDS")
    assert config.settings().bcrypt_rounds == 12


def test_an_empty_setting_means_the_default(monkeypatch: pytest.MonkeyPatch, fresh_settings: None) -> None:
    monkeypatch.setenv("BCRYPT_ROUNDS", "")
    assert config.settings().bcrypt_rounds == 12


def test_tests_lower_the_cost_through_the_environment(monkeypatch: pytest.MonkeyPatch, fresh_settings: None) -> None:
    monkeypatch.setenv("BCRYPT_ROUNDS", "5")
    assert config.settings().bcrypt_rounds == 5


def test_the_template_deploys_cost_12_to_every_function() -> None:
    parameter = template.load()["Parameters"]["BcryptRounds"]
    assert parameter["Default"] == 12
    assert parameter["MinValue"] >= 10  # a stack cannot be deployed with a test-strength cost
    variables = template.load()["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["BCRYPT_ROUNDS"] == {"Ref": "BcryptRounds"}
    for function in template.resources("AWS::Serverless::Function").values():
        overrides = function["Properties"].get("Environment", {}).get("Variables", {})
        assert "BCRYPT_ROUNDS" not in overrides


def test_the_login_window_defaults_to_5_failures_per_address_and_100_per_account_in_15_minutes(
    monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    for name in ("LOGIN_MAX_FAILURES", "LOGIN_MAX_ACCOUNT_FAILURES", "LOGIN_WINDOW_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    found = config.settings()
    assert (found.login_max_failures, found.login_max_account_failures, found.login_window_seconds) == (5, 100, 900)
