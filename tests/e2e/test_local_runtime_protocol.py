"""The local runtime answers every request, however malformed, as API Gateway would: never in HTML.

Raw sockets, since HTTP clients refuse to send most of these.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass

import pytest

from tests.support.live import LiveServer

PROBLEM_JSON = "application/problem+json"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def problem(self) -> dict[str, object]:
        assert self.headers.get("content-type") == PROBLEM_JSON, (self.status, self.headers, self.body[:200])
        parsed: dict[str, object] = json.loads(self.body)
        assert parsed["status"] == self.status
        return parsed


def exchange(live: LiveServer, raw: bytes) -> Answer:
    """Send `raw` and read one answer (the server closes, or says how long the body is)."""
    host, port = live.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(raw)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            assert chunk, f"closed without an answer: {data!r}"
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("iso-8859-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = sock.recv(65536)
            assert chunk, "closed mid-body"
            body += chunk
    assert status_line.startswith("HTTP/1."), status_line
    return Answer(int(status_line.split()[1]), headers, body[:length])


def request(method: str, path: str = "/events", *headers: str, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: localhost", "Connection: close", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("iso-8859-1") + body


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "FOO", "CONNECT", "get"])
def test_unknown_methods_reach_the_default_route(live: LiveServer, method: str) -> None:
    answer = exchange(live, request(method))
    assert answer.status == 404
    assert answer.problem()["code"] == "NOT_FOUND"


@pytest.mark.parametrize("target", ["*", "http://elsewhere.example/nowhere", "/%00", "/x#y"])
def test_odd_request_targets_meet_the_default_route(live: LiveServer, target: str) -> None:
    answer = exchange(live, request("GET", target))
    assert answer.status == 404
    assert answer.problem()["code"] == "NOT_FOUND"


MALFORMED: list[tuple[str, bytes, int]] = [
    ("a request line of one word", b"GARBAGE\r\n\r\n", 400),
    ("a request line of four words", b"GET /events HTTP/1.1 extra\r\n\r\n", 400),
    ("an HTTP/0.9 request", b"GET /events\r\n\r\n", 400),
    ("a version that is no version", b"GET /events HTTP/x.y\r\nConnection: close\r\n\r\n", 400),
    ("HTTP/2 spoken as text", b"GET /events HTTP/2.0\r\nConnection: close\r\n\r\n", 505),
    ("a request line over 64 KiB", request("GET", "/" + "a" * 70_000), 414),
    ("a header line over 64 KiB", request("GET", "/events", "X-Big: " + "b" * 70_000), 431),
    ("more than 100 headers", request("GET", "/events", *(f"X-H{i}: v" for i in range(150))), 431),
    ("a Content-Length that is no number", request("POST", "/auth/login", "Content-Length: abc"), 400),
    ("a negative Content-Length", request("POST", "/auth/login", "Content-Length: -5"), 400),
    ("two differing Content-Lengths", request("POST", "/auth/login", "Content-Length: 1", "Content-Length: 2"), 400),
    ("a chunked body", request("POST", "/auth/login", "Transfer-Encoding: chunked", body=b"2\r\n{}\r\n0\r\n\r\n"), 411),
    ("a body over API Gateway's 10 MB", request("POST", "/auth/login", "Content-Length: 10485761"), 413),
]


@pytest.mark.parametrize(
    ("raw", "status"), [(raw, status) for _, raw, status in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_malformed_requests_get_a_problem_never_html(live: LiveServer, raw: bytes, status: int) -> None:
    answer = exchange(live, raw)
    assert answer.status == status
    problem = answer.problem()
    assert b"<" not in answer.body
    assert problem["code"]


def test_the_server_still_answers_after_the_malformed_requests(live: LiveServer) -> None:
    for _, raw, _ in MALFORMED:
        exchange(live, raw)
    assert exchange(live, request("GET", "/events")).status == 200
