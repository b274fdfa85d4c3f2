"""Over HTTP against `python -m devserver`."""

from __future__ import annotations

from tests.support.live import LiveServer


def test_admin_can_log_in_and_read_their_profile(live: LiveServer) -> None:
    token = live.admin_token()
    response = live.request("GET", "/users/me", token=token)
    assert response.status_code == 200
    assert response.json()["role"] == "admin"
