"""Serves the door app (functions/door/static) at /door/: static files under a strict CSP.

The files are shipped with the door function alone, so no other function carries them. Every answer
says `no-cache` with an ETag: a browser (and the app's service worker) asks again each time it is
online and gets a 304 while nothing changed, so a new deployment reaches every door at its next load;
offline, the service worker answers from its own copy.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from aws_lambda_powertools.event_handler import Response

from boxoffice import errors

INDEX = "index.html"
# Served by extension only: anything else in the folder (or outside it) is not a file of the app.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
}
# Only the app's own files, no inline script or style, no remote origin; the camera for scanning.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "media-src 'self'",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
}


@dataclass(frozen=True, slots=True)
class _File:
    text: str
    content_type: str
    etag: str


@cache
def _files(folder: Path) -> dict[str, _File]:
    """The app's files by name, read once per instance."""
    found = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix in CONTENT_TYPES:
            data = path.read_bytes()
            etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
            found[path.name] = _File(data.decode("utf-8"), CONTENT_TYPES[path.suffix], etag)
    return found


def redirect() -> Response[str]:
    """/door -> /door/: the app's relative URLs and its service worker's scope need the slash."""
    return Response(status_code=308, body="", headers={"Location": "/door/", "Cache-Control": "no-cache"})


def static_file(folder: Path, name: str | None, if_none_match: str | None = None) -> Response[str]:
    """The file `name` of the app (its page when None), or 304 when the caller's copy is current."""
    found = _files(folder).get(name or INDEX)
    if found is None:
        raise errors.RouteNotFound(f"The door app has no file {name!r}.")
    headers = {**HEADERS, "ETag": found.etag}
    if if_none_match is not None and found.etag in {tag.strip() for tag in if_none_match.split(",")}:
        return Response(status_code=304, body="", headers=headers)
    return Response(status_code=200, content_type=found.content_type, body=found.text, headers=headers)
