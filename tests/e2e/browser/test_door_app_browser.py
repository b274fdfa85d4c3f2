"""The door app (/door/) in a real headless Chromium against `make run`'s runtime: scans, offline, races, CSP, axe.

Codes reach the page's own decoder path: a QR PNG rendered here (segno) is given to the "Scan a photo"
input, which decodes it (BarcodeDetector where the browser has one, the vendored jsQR otherwise) and
verifies it exactly as a camera frame would be. One browser per worker; each test opens its contexts.

Without a Chromium these tests skip, saying so; with BOXOFFICE_REQUIRE_BROWSER=1 (CI) they fail instead.
DOOR_SCREENSHOTS=docs/door writes a screenshot of each result screen there (the README shows them).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import segno
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect, sync_playwright

from tests.support.live import LiveServer

CHROMIUM = os.environ.get("BOXOFFICE_CHROMIUM", "/usr/bin/chromium")
# Quiet, deterministic Chromium: no sandbox (containers), no GPU, no background traffic in the network log.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
# Chromium's fake camera plays this file (read when a capture starts, so a test writes it just before).
CAMERA_FILE = Path(tempfile.gettempdir()) / f"door-camera-{os.getpid()}.y4m"
SCREENSHOTS = os.environ.get("DOOR_SCREENSHOTS")


@pytest.fixture(scope="session")  # one browser per worker, however its tests are spread
def browser() -> Iterator[Browser]:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        reason = f"NO CHROMIUM at {CHROMIUM}: the door app's browser tests did not run (apt-get install chromium)"
        if os.environ.get("BOXOFFICE_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + "; BOXOFFICE_REQUIRE_BROWSER=1 requires them")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        camera = ["--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={CAMERA_FILE}"]
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + camera)
        yield launched
        launched.close()
    CAMERA_FILE.unlink(missing_ok=True)


def _refusal(text: str) -> bool:
    """Chromium's console line for a 409 (a ticket already in) or a request while offline: the app handles both."""
    return text.startswith("Failed to load resource: ") and text.endswith(("(Conflict)", "ERR_INTERNET_DISCONNECTED"))


class Door:
    """One scanner: a browser context (its own storage, as another phone) with the app open."""

    def __init__(self, browser: Browser, live: LiveServer, timezone: str) -> None:
        self.context: BrowserContext = browser.new_context(viewport=PHONE, timezone_id=timezone, locale="en-GB")
        self.live = live
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.on("request", lambda request: self.requests.append(f"{request.method} {request.url}"))
        self.page: Page = self.context.new_page()
        self.page_requests: list[str] = []  # the page's own, not its service worker's
        self.page.on("request", lambda request: self.page_requests.append(request.url))
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not _refusal(message.text):
            self.errors.append(message.text)

    def open(self, email: str, password: str, event_name: str) -> None:
        page = self.page
        page.goto(self.live.url + "/door/")
        page.fill("#email", email)
        page.fill("#password", password)
        page.click("#login-form button")
        page.fill("#q", event_name)
        page.click("#search-form button")
        page.get_by_role("button", name=event_name).click()
        expect(page.locator("#sync-status")).to_contain_text("synced")
        # The service worker has cached the app's files once it is ready.
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")

    def scan_photo(self, code: str, tmp_path: Path) -> None:
        image = tmp_path / f"{uuid.uuid4().hex}.png"
        segno.make(code, error="m", micro=False).save(image, scale=5, border=4)
        self.page.set_input_files("#photo", image)

    def type_in(self, text: str) -> None:
        self.page.fill("#manual", text)
        self.page.press("#manual", "Enter")

    def sees(self, kind: str, title: str, detail: str = "", screenshot: str | None = None, close: bool = True) -> None:
        result = self.page.locator("#result")
        expect(result).to_be_visible()
        expect(result).to_have_attribute("data-kind", kind)
        expect(self.page.locator("#result-title")).to_have_text(title)
        expect(self.page.locator("#result-detail")).to_contain_text(detail)
        if screenshot and SCREENSHOTS:
            Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(Path(SCREENSHOTS) / f"{screenshot}.png"))
        if close:
            self.page.click("#result-close")
        expect(result).to_be_hidden()

    def check_ins_sent(self) -> list[str]:
        return [r for r in self.requests if r.startswith("POST ") and "/check-ins" in r]

    def counter(self) -> tuple[int, int]:
        inside, sold = (self.page.inner_text(f"#{i}").replace(",", "") for i in ("checked-in", "sold"))
        return int(inside), int(sold)


@pytest.fixture
def doors(browser: Browser, live: LiveServer) -> Iterator[Callable[[str], Door]]:
    opened: list[Door] = []

    def door(timezone: str) -> Door:
        opened.append(Door(browser, live, timezone))
        return opened[-1]

    yield door
    for each in opened:
        each.context.close()
    assert [error for each in opened for error in each.errors] == []  # the CSP let everything run


def staff(live: LiveServer) -> tuple[str, str]:
    line = next(line for line in live.output if line.startswith("Staff login"))
    email, _, password = line.removeprefix("Staff login").strip().partition(" / ")
    return email, password


def same_day_zone() -> tuple[str, datetime]:
    """A time zone where an event ten minutes from now starts today (the app lists today's events), and that start."""
    starts = (datetime.now(UTC) + timedelta(minutes=10)).replace(microsecond=0)
    for zone in ("UTC", "Etc/GMT+12", "Etc/GMT-12"):
        if starts.astimezone(ZoneInfo(zone)).date() == datetime.now(ZoneInfo(zone)).date():
            return zone, starts
    raise AssertionError("unreachable: one of three zones 12 hours apart keeps ten minutes within one day")


@dataclass
class DoorEvent:
    id: str
    name: str
    codes: list[str]  # of live tickets
    cancelled: list[str]  # codes of tickets whose booking was cancelled


def event_with_tickets(live: LiveServer, zone: str, starts: datetime, quantity: int, cancelled: int = 0) -> DoorEvent:
    """A new VIP event starting today in `zone`, `quantity` tickets of it booked, `cancelled` more booked and
    cancelled."""
    name = f"Door app {uuid.uuid4().hex[:8]}"
    body = {
        "name": name,
        "venue": "Hall",
        "starts_at": starts.isoformat(),
        "timezone": zone,
        "total_tickets": 40,
        "ticket_types": [{"name": "VIP", "price": "50.00", "max_tickets_per_booking": 10}],
    }
    created = live.request("POST", "/events", token=live.admin_token(), json=body)
    assert created.status_code == 201, created.text
    event_id = created.json()["id"]
    email = f"guest-{uuid.uuid4().hex[:10]}@example.com"
    live.request("POST", "/auth/register", json={"name": "Guest", "email": email, "password": "guest pw 1"})
    guest = live.login(email, "guest pw 1")

    def book(count: int) -> dict[str, Any]:
        booked = live.request("POST", f"/events/{event_id}/bookings", token=guest, json={"quantity": count})
        assert booked.status_code == 201, booked.text
        booking: dict[str, Any] = booked.json()
        return booking

    codes = [ticket["code"] for ticket in book(quantity)["tickets"]]
    gone = []
    if cancelled:
        booking = book(cancelled)
        assert live.request("DELETE", f"/bookings/{booking['id']}", token=guest).status_code == 200
        gone = [ticket["code"] for ticket in booking["tickets"]]
    return DoorEvent(event_id, name, codes, gone)


def film(code: str, size: int = 480) -> None:
    """CAMERA_FILE as a still video (YUV4MPEG2, 4:2:0, grey) of the code's QR, as a phone would see it."""
    rows = list(segno.make(code, error="m", micro=False).matrix_iter(scale=4, border=4))
    offset = (size - len(rows)) // 2
    luma = bytearray(b"\xff" * size * size)
    for y, row in enumerate(rows):
        start = (offset + y) * size + offset
        luma[start : start + len(row)] = bytes(0 if dark else 255 for dark in row)
    frame = b"FRAME\n" + bytes(luma) + b"\x80" * (size * size // 2)
    CAMERA_FILE.write_bytes(f"YUV4MPEG2 W{size} H{size} F10:1 Ip A1:1 C420jpeg\n".encode() + frame * 2)


def number_of(code: str) -> str:
    """The ticket number a code names."""
    number: str = json.loads(base64.urlsafe_b64decode(code.split(".")[1] + "=="))["tn"]
    return number


def forged(code: str, ticket_number: str) -> str:
    """The code with another ticket number in its claims and the original signature."""
    header, claims, signature = code.split(".")
    changed = json.loads(base64.urlsafe_b64decode(claims + "=="))
    changed["tn"] = ticket_number
    raw = base64.urlsafe_b64encode(json.dumps(changed, separators=(",", ":")).encode()).rstrip(b"=").decode()
    return f"{header}.{raw}.{signature}"


def recount(live: LiveServer, event_id: str) -> tuple[int, int]:
    """(checked in, checked in per the admin's stats), from every ticket page and the event's counters."""
    token, tickets, cursor = live.admin_token(), [], None
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = live.request("GET", f"/events/{event_id}/tickets", token=token, params=params).json()
        tickets += page["items"]
        if not (cursor := page["next_cursor"]):
            break
    stats = live.request("GET", f"/events/{event_id}/stats", token=token).json()
    return sum(t["status"] == "CHECKED_IN" for t in tickets), stats["checked_in"]


# How many tickets the app keeps in IndexedDB (opening the database as the app does).
STORED_TICKETS = """new Promise(resolve => { const open = indexedDB.open('boxoffice-door', 1);
    open.onsuccess = () => { const count = open.result.transaction('tickets').objectStore('tickets').count();
    count.onsuccess = () => { open.result.close(); resolve(count.result); }; }; })"""


def test_a_scan_lets_in_once_and_forged_or_foreign_codes_are_refused_without_a_request(
    doors: Callable[[str], Door], live: LiveServer, tmp_path: Path
) -> None:
    zone, starts = same_day_zone()
    event = event_with_tickets(live, zone, starts, 2, cancelled=1)
    foreign = event_with_tickets(live, zone, starts, 1).codes[0]
    door = doors(zone)
    door.open(*staff(live), event.name)
    assert door.counter() == (0, 2)

    door.scan_photo(event.codes[0], tmp_path)
    door.sees("ok", "VIP", "Let in: ticket", screenshot="result-let-in")
    assert door.counter() == (1, 2)
    door.scan_photo(event.codes[0], tmp_path)
    door.sees("warn", "Already in", "Came in at", screenshot="result-already-in")
    door.type_in(number_of(event.codes[1]).lower().replace("-", " "))  # typed by hand, as it comes
    door.sees("ok", "VIP", number_of(event.codes[1]))
    door.scan_photo(event.cancelled[0], tmp_path)
    door.sees("bad", "Cancelled", screenshot="result-cancelled")
    assert door.counter() == (2, 2)

    sent = len(door.check_ins_sent())
    door.scan_photo(forged(event.codes[0], number_of(event.cancelled[0])), tmp_path)
    door.sees("bad", "Forged code", screenshot="result-forged")
    door.scan_photo(foreign, tmp_path)
    door.sees("bad", "Wrong event", screenshot="result-wrong-event")
    assert len(door.check_ins_sent()) == sent  # judged in the browser: nothing was sent
    assert door.page.locator("#history li").count() == 6
    token = door.page.evaluate("JSON.parse(sessionStorage.getItem('boxoffice.door.session')).token")
    assert not [url for url in door.requests if token in url]  # the token travels in a header only

    assert door.page.evaluate(STORED_TICKETS) == 3  # the two live tickets and the cancelled one
    door.page.click("#change-event")  # nothing queued: the event's tickets leave the device
    expect(door.page.locator("#events-view")).to_be_visible()
    assert door.page.evaluate(STORED_TICKETS) == 0
    door.page.click("#logout")
    expect(door.page.locator("#login-view")).to_be_visible()
    assert door.page.evaluate("indexedDB.databases().then(found => found.map(db => db.name))") == []
    assert door.page.evaluate("sessionStorage.length") == 0


def test_the_camera_scans_a_code_it_sees(doors: Callable[[str], Door], live: LiveServer) -> None:
    zone, starts = same_day_zone()
    event = event_with_tickets(live, zone, starts, 1)
    film(event.codes[0])
    door = doors(zone)
    door.context.grant_permissions(["camera"])
    door.open(*staff(live), event.name)
    door.page.click("#camera")
    door.sees("ok", "VIP", number_of(event.codes[0]), close=False)  # hands free: it clears itself
    door.page.click("#camera")  # stop: the tracks end
    expect(door.page.locator("#video")).to_be_hidden()


def test_without_webcrypto_ed25519_the_vendored_library_verifies(
    doors: Callable[[str], Door], live: LiveServer
) -> None:
    zone, starts = same_day_zone()
    event = event_with_tickets(live, zone, starts, 1)
    door = doors(zone)
    # A browser whose WebCrypto lacks Ed25519 (as older Safari): importKey refuses it.
    door.context.add_init_script(
        "const original = crypto.subtle.importKey.bind(crypto.subtle);"
        "crypto.subtle.importKey = (format, key, algorithm, ...rest) => algorithm.name === 'Ed25519'"
        "  ? Promise.reject(new DOMException('no Ed25519', 'NotSupportedError'))"
        "  : original(format, key, algorithm, ...rest);"
    )
    door.open(*staff(live), event.name)
    door.type_in(forged(event.codes[0], "AAAA-BBBB"))
    door.sees("bad", "Forged code")
    door.type_in(event.codes[0])
    door.sees("ok", "VIP")
    assert any(url.endswith("/door/ed25519-3.2.0.js") for url in door.page_requests)


def test_offline_scans_queue_and_report_the_ticket_another_door_let_in_first(
    doors: Callable[[str], Door], live: LiveServer, tmp_path: Path
) -> None:
    zone, starts = same_day_zone()
    event = event_with_tickets(live, zone, starts, 4)
    event_id, codes = event.id, event.codes
    offline, online = doors(zone), doors(zone)
    offline.open(*staff(live), event.name)
    online.open(*staff(live), event.name)

    offline.context.set_offline(True)
    expect(offline.page.locator("#network")).to_have_text("Offline")
    offline.scan_photo(codes[0], tmp_path)
    offline.sees("ok", "VIP", "(queued)", screenshot="result-offline")
    online.scan_photo(codes[1], tmp_path)  # meanwhile, at another door
    online.sees("ok", "VIP")
    offline.scan_photo(codes[1], tmp_path)  # this door has not heard: its sync says valid
    offline.sees("ok", "VIP")
    offline.scan_photo(codes[2], tmp_path)
    offline.sees("ok", "VIP")
    offline.page.reload()  # still offline: the service worker serves the app, IndexedDB the queue
    expect(offline.page.locator("#sync-status")).to_contain_text("3 to send")
    assert offline.counter() == (3, 4)
    assert recount(live, event_id) == (1, 1)  # nothing of this door's reached the API yet

    offline.context.set_offline(False)
    conflicts = offline.page.locator("#conflicts li")
    expect(conflicts).to_have_count(1, timeout=10_000)  # at the next retry (3 s): onLine may lie after a reload
    expect(conflicts).to_contain_text(f"{number_of(codes[1])}: already let in")
    expect(offline.page.locator("#sync-status")).not_to_contain_text("to send")
    if SCREENSHOTS:
        offline.page.screenshot(path=str(Path(SCREENSHOTS) / "door-conflict.png"))
    checked_in, stats = recount(live, event_id)
    assert checked_in == stats == 3
    assert offline.counter() == (3, 4)


def test_two_doors_scanning_one_ticket_at_once_let_it_in_exactly_once(
    doors: Callable[[str], Door], live: LiveServer
) -> None:
    zone, starts = same_day_zone()
    event = event_with_tickets(live, zone, starts, 1)
    both = [doors(zone), doors(zone)]
    held: list[Any] = []
    for door in both:
        door.open(*staff(live), event.name)
        door.page.route("**/check-ins", lambda route: held.append(route))  # hold each scan until both are sent
    for door in both:
        door.type_in(event.codes[0])
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while len(held) < 2 and datetime.now(UTC) < deadline:
        both[0].page.wait_for_timeout(20)  # the routes' callbacks run while Playwright waits
    assert len(held) == 2
    for route in held:  # both reach the API together
        route.continue_()
    kinds = []
    for door in both:
        expect(door.page.locator("#result")).to_be_visible()
        kinds.append(door.page.get_attribute("#result", "data-kind"))
    assert sorted(kinds) == ["ok", "warn"]


def test_the_app_has_no_serious_accessibility_issue(doors: Callable[[str], Door], live: LiveServer) -> None:
    from axe_playwright_python.sync_playwright import Axe

    zone, starts = same_day_zone()
    event = event_with_tickets(live, zone, starts, 1)
    door = doors(zone)
    door.page.goto(live.url + "/door/")
    screens = {"login": Axe().run(door.page)}
    door.open(*staff(live), event.name)
    screens["door"] = Axe().run(door.page)
    door.type_in(event.codes[0])
    expect(door.page.locator("#result")).to_be_visible()
    screens["result"] = Axe().run(door.page)
    serious = {
        screen: [(v["id"], v["impact"]) for v in found.response["violations"] if v["impact"] in ("serious", "critical")]
        for screen, found in screens.items()
    }
    assert serious == {"login": [], "door": [], "result": []}


def test_the_browser_enforces_the_csp_on_the_app(browser: Browser, live: LiveServer) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(live.url + "/door/")
        refused = page.evaluate(
            """() => new Promise(resolve => {
                document.addEventListener('securitypolicyviolation', e => resolve(e.violatedDirective));
                const script = document.createElement('script');
                script.textContent = 'window.injected = true';
                document.body.append(script);
            })"""
        )
        assert refused == "script-src-elem"
        assert page.evaluate("window.injected") is None
    finally:
        context.close()
