"""The door app's files over HTTP, as `make run` serves them: types, a strict CSP, revalidation, nothing else."""

from __future__ import annotations

import re

import requests

from boxoffice import door
from tests.support.live import LiveServer


def get(live: LiveServer, path: str, **headers: str) -> requests.Response:
    return requests.get(live.url + path, headers=headers, timeout=30, allow_redirects=False)


def test_the_app_and_its_files_come_with_their_types_and_a_strict_csp(live: LiveServer) -> None:
    page = get(live, "/door/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'self';" in csp
    assert "style-src 'self';" in csp
    assert "unsafe-inline" not in csp
    assert "http" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    # Every file the page and its service worker name is served, with its own type.
    worker = get(live, "/door/sw.js").text
    named = set(re.findall(r'"([\w.-]+\.(?:js|css|svg|webmanifest))"', worker)) | {"sw.js"}
    assert {"app.js", "codes.js", "store.js", "app.css", "jsqr-1.4.0.js", "ed25519-3.2.0.js"} <= named
    for name in named:
        answer = get(live, f"/door/{name}")
        assert answer.status_code == 200, name
        assert answer.headers["content-type"] == door.CONTENT_TYPES["." + name.rsplit(".", 1)[1]], name
        assert answer.headers["content-security-policy"] == csp


def test_a_copy_is_revalidated_so_a_new_deployment_reaches_the_next_load(live: LiveServer) -> None:
    first = get(live, "/door/app.js")
    assert first.headers["cache-control"] == "no-cache"
    again = get(live, "/door/app.js", **{"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert get(live, "/door/app.js", **{"If-None-Match": '"stale"'}).status_code == 200


def test_only_the_apps_own_files_are_served(live: LiveServer) -> None:
    for path in ("/door/app.py", "/door/VENDORED.md", "/door/..%2Fapp.py", "/door/nothing.js"):
        answer = get(live, path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"] == "application/problem+json"
    moved = get(live, "/door")
    assert moved.status_code == 308
    assert moved.headers["location"] == "/door/"
