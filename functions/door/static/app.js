// The door app: log in, prepare today's event, scan. Codes are verified here before anything is sent;
// online the API decides (exactly once), offline the synced statuses do and the scan is queued.
import { verify } from "./codes.js";
import * as store from "./store.js";

const $ = (id) => document.getElementById(id);
// The token lives in this tab's sessionStorage: it survives a reload (offline too) but not the tab, is
// never shared with other tabs or sites, and is never in a URL or a cookie.
const SESSION = "boxoffice.door.session";
const KEYS_MAX_AGE_MS = 5 * 60 * 1000; // the JWKS's max-age: keys a rotation adds are known in time
const SYNC_EVERY_MS = 30 * 1000;
const RETRY_MS = 3 * 1000; // after a failed request: navigator.onLine says true on many a dead Wi-Fi
const HISTORY = 10;

let session = null; // {token, user, expiresAt}
let event = null; // {id, name, since, keys, keysAt, history, conflicts}
let tickets = new Map(); // normalised ticket number -> ticket as synced (or marked here)
let catchingUp = null;
let retry = null;
let reachable = true; // the last request got an answer
let camera = null;

class Offline extends Error {}
class SignedOut extends Error {}

const normal = (ticketNumber) => ticketNumber.toUpperCase().replace(/[^0-9A-Z]/g, "");
const number = (n) => n.toLocaleString("en");
const clockTime = (instant) =>
  new Date(instant).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false });

// --- the API ---------------------------------------------------------------------------------

async function api(method, path, body) {
  if (!navigator.onLine) throw new Offline();
  const headers = { accept: "application/json" };
  if (session) headers.authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { method, headers, body: body && JSON.stringify(body), cache: "no-store" });
  } catch {
    setReachable(false);
    throw new Offline();
  }
  setReachable(true);
  if (response.status >= 500) throw new Offline(); // not an answer about the ticket: judge locally
  if (response.status === 401 && session) throw new SignedOut();
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

// --- views -----------------------------------------------------------------------------------

function show(view) {
  for (const id of ["login-view", "events-view", "door-view"]) $(id).hidden = id !== view;
  $("logout").hidden = view === "login-view";
  $("notice").hidden = true;
}

function notice(text) {
  $("notice").textContent = text;
  $("notice").hidden = false;
}

function renderNetwork() {
  const online = navigator.onLine && reachable;
  $("network").textContent = online ? "Online" : "Offline";
  $("network").classList.toggle("offline", !online);
}

function setReachable(value) {
  reachable = value;
  renderNetwork();
}

function networkChanged() {
  reachable = navigator.onLine;
  renderNetwork();
  if (navigator.onLine && event && session) catchUp();
}

function renderCounts() {
  let inside = 0;
  let sold = 0;
  for (const ticket of tickets.values()) {
    if (ticket.status !== "CANCELLED") sold += 1;
    if (ticket.status === "CHECKED_IN") inside += 1;
  }
  $("checked-in").textContent = number(inside);
  $("sold").textContent = number(sold);
}

function renderLists() {
  $("history").replaceChildren(
    ...event.history.map((line) => {
      const item = document.createElement("li");
      item.textContent = `${clockTime(line.at)} ${line.title}: ${line.detail}`;
      item.className = line.kind;
      return item;
    }),
  );
  $("conflicts").replaceChildren(
    ...event.conflicts.map((text) => {
      const item = document.createElement("li");
      item.textContent = text;
      return item;
    }),
  );
  $("conflicts-box").hidden = event.conflicts.length === 0;
}

async function showDoor() {
  show("door-view");
  $("event-name").textContent = event.name;
  renderCounts();
  renderLists();
  const waiting = (await store.queued()).length;
  const synced = event.syncedAt ? `synced ${clockTime(event.syncedAt)}` : "not synced";
  $("sync-status").textContent = `${number(tickets.size)} tickets, ${synced}` + (waiting ? `, ${waiting} to send` : "");
}

// --- result screen, sound, vibration ---------------------------------------------------------

let audio = null;

function feedback(kind) {
  if (!navigator.userActivation?.hasBeenActive) return; // browsers refuse both before a first tap
  navigator.vibrate?.(kind === "ok" ? 120 : [250, 100, 250]);
  audio ??= new AudioContext();
  const tone = audio.createOscillator();
  const gain = audio.createGain();
  tone.frequency.value = kind === "ok" ? 880 : 220;
  gain.gain.value = 0.2;
  tone.connect(gain).connect(audio.destination);
  tone.start();
  tone.stop(audio.currentTime + (kind === "ok" ? 0.15 : 0.5));
}

async function result(kind, title, detail) {
  const icons = { ok: "✓", warn: "!", bad: "✕" };
  $("result").dataset.kind = kind;
  $("result-icon").textContent = icons[kind];
  $("result-title").textContent = title;
  $("result-detail").textContent = detail;
  $("result").hidden = false;
  $("result-close").focus();
  feedback(kind);
  event.history = [{ at: new Date().toISOString(), kind, title, detail }, ...event.history].slice(0, HISTORY);
  await store.setMeta("event", event);
  await showDoor();
  if (camera) setTimeout(closeResult, 2500); // hands free while the camera scans
}

function closeResult() {
  $("result").hidden = true;
  $("manual").focus();
}

// --- tickets ---------------------------------------------------------------------------------

/** Take a ticket as the API gave it, unless what we hold is newer or not yet sent. */
function merge(ticket, { force = false } = {}) {
  const key = normal(ticket.ticket_number);
  const held = tickets.get(key);
  if (!force && held && (held.pending || held.updated_at > ticket.updated_at)) return null;
  const kept = { ...ticket, key, pending: false };
  tickets.set(key, kept);
  return kept;
}

async function refreshKeys() {
  const answer = await api("GET", "/.well-known/jwks.json");
  if (answer.status !== 200) throw new Error("The ticket keys could not be read.");
  event.keys = answer.body.keys;
  event.keysAt = Date.now();
  await store.setMeta("event", event);
}

async function syncTickets() {
  const since = event.since;
  let cursor = null;
  let newest = since;
  do {
    const query = new URLSearchParams({ limit: "100" });
    if (since) query.set("updated_since", since);
    if (cursor) query.set("cursor", cursor);
    const answer = await api("GET", `/events/${encodeURIComponent(event.id)}/tickets?${query}`);
    if (answer.status !== 200) throw new Error(answer.body.detail || "The tickets could not be synced.");
    const changed = answer.body.items.map((ticket) => merge(ticket)).filter(Boolean);
    await store.putTickets(changed);
    for (const ticket of answer.body.items) if (!newest || ticket.updated_at > newest) newest = ticket.updated_at;
    cursor = answer.body.next_cursor;
  } while (cursor);
  event.since = newest;
  event.syncedAt = new Date().toISOString();
  await store.setMeta("event", event);
}

/** Send what was scanned offline; a refusal now is a conflict (someone else let that ticket in first). */
async function sendQueue() {
  for (const scan of await store.queued()) {
    const answer = await api("POST", `/events/${encodeURIComponent(scan.eventId)}/check-ins`, scan.body);
    const held = tickets.get(scan.key) ?? { key: scan.key, ticket_number: scan.ticketNumber };
    if (answer.status === 200) {
      merge(answer.body, { force: true });
    } else if (answer.body.code === "ALREADY_CHECKED_IN") {
      const at = answer.body.checked_in_at;
      const first = `already let in at ${clockTime(at)}, before this door's scan got through`;
      event.conflicts.push(`${held.ticket_number}: ${first}`);
      tickets.set(scan.key, { ...held, status: "CHECKED_IN", checked_in_at: at, pending: false });
    } else {
      event.conflicts.push(`${held.ticket_number}: ${answer.body.title || "refused"}`);
      const status = answer.body.code === "TICKET_CANCELLED" ? "CANCELLED" : held.status;
      tickets.set(scan.key, { ...held, status, pending: false });
    }
    await store.putTickets([tickets.get(scan.key)]);
    await store.unqueue(scan.id);
  }
  await store.setMeta("event", event);
}

function retryLater() {
  retry ??= setTimeout(() => {
    retry = null;
    if (session && event) catchUp();
  }, RETRY_MS);
}

/** Back online (or every half minute): the queue first, so synced statuses never undo our own scans. */
function catchUp() {
  catchingUp ??= (async () => {
    try {
      await sendQueue();
      if (Date.now() - event.keysAt > KEYS_MAX_AGE_MS) await refreshKeys();
      await syncTickets();
    } catch (error) {
      if (error instanceof SignedOut) signedOut();
      else if (error instanceof Offline) retryLater();
      else notice(error.message);
    } finally {
      catchingUp = null;
      if (event && session) await showDoor();
    }
  })();
  return catchingUp;
}

// --- scanning --------------------------------------------------------------------------------

async function scan(text) {
  const scanned = text.trim();
  if (!scanned || !event) return;
  if (scanned.split(".").length === 3) {
    let verdict = await verify(scanned, event.keys, event.id);
    if (verdict.verdict === "unknown-key" && navigator.onLine) {
      await refreshKeys().catch(() => {}); // a key published since the last sync
      verdict = await verify(scanned, event.keys, event.id);
    }
    if (verdict.verdict === "forged" || verdict.verdict === "unknown-key") {
      return result("bad", "Forged code", "Not signed by the box office: do not let in.");
    }
    if (verdict.verdict === "wrong-event") {
      return result("bad", "Wrong event", `Ticket ${verdict.ticketNumber} is for another event.`);
    }
    return checkIn({ code: scanned }, verdict.ticketNumber, true);
  }
  return checkIn({ ticket_number: scanned }, scanned, false);
}

async function checkIn(body, ticketNumber, signed) {
  let answer;
  try {
    answer = await api("POST", `/events/${encodeURIComponent(event.id)}/check-ins`, body);
  } catch (error) {
    if (error instanceof Offline) return checkInOffline(body, ticketNumber, signed);
    if (error instanceof SignedOut) return signedOut();
    throw error;
  }
  const problem = answer.body;
  const key = normal(ticketNumber);
  if (answer.status === 200) {
    await store.putTickets([merge(problem, { force: true })]);
    return result("ok", problem.ticket_type.name, `Let in: ticket ${problem.ticket_number}`);
  }
  const held = tickets.get(key);
  if (problem.code === "ALREADY_CHECKED_IN") {
    const inside = { ...held, status: "CHECKED_IN", checked_in_at: problem.checked_in_at };
    if (held) await store.putTickets([merge(inside, { force: true })]);
    return result("warn", "Already in", `Came in at ${clockTime(problem.checked_in_at)}: ticket ${ticketNumber}`);
  }
  if (problem.code === "TICKET_CANCELLED") {
    if (held) await store.putTickets([merge({ ...held, status: "CANCELLED" }, { force: true })]);
    return result("bad", "Cancelled", `Ticket ${ticketNumber} was cancelled.`);
  }
  if (problem.code === "CHECK_IN_CLOSED") {
    const [opens, closes] = [clockTime(problem.doors_open_at), clockTime(problem.doors_close_at)];
    return result("bad", "Doors closed", `Open ${opens} to ${closes}.`);
  }
  const titles = { WRONG_EVENT: "Wrong event", TICKET_NOT_FOUND: "Unknown ticket", EVENT_NOT_FOUND: "Event deleted" };
  return result("bad", titles[problem.code] ?? problem.title ?? "Refused", problem.detail ?? "");
}

async function checkInOffline(body, ticketNumber, signed) {
  const key = normal(ticketNumber);
  const held = tickets.get(key);
  if (held?.status === "CHECKED_IN") {
    return result("warn", "Already in", `Came in at ${clockTime(held.checked_in_at)}: ticket ${held.ticket_number}`);
  }
  if (held?.status === "CANCELLED") return result("bad", "Cancelled", `Ticket ${held.ticket_number} was cancelled.`);
  if (!held && !signed) return result("bad", "Unknown ticket", "Not in the synced tickets: check it when online.");
  // A genuine code missing from the sync was sold after it: let in, the queue confirms it.
  const now = new Date().toISOString();
  const marked = {
    ticket_type: { name: "Ticket" },
    ...held,
    key,
    ticket_number: held?.ticket_number ?? ticketNumber,
    status: "CHECKED_IN",
    checked_in_at: now,
    updated_at: now,
    pending: true,
  };
  tickets.set(key, marked);
  await store.markOffline(marked, { eventId: event.id, key, ticketNumber: marked.ticket_number, body, at: now });
  return result("ok", marked.ticket_type.name, `Let in offline: ticket ${marked.ticket_number} (queued)`);
}

let detector;
const canvas = document.createElement("canvas");

/** The text of the QR code in an image or video frame, or null: BarcodeDetector where present, jsQR otherwise. */
async function decode(source, width, height) {
  if (detector === undefined) {
    const formats = "BarcodeDetector" in window ? await window.BarcodeDetector.getSupportedFormats() : [];
    detector = formats.includes("qr_code") ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
  }
  if (detector) return (await detector.detect(source))[0]?.rawValue ?? null;
  const scale = Math.min(1, 1000 / Math.max(width, height));
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(source, 0, 0, canvas.width, canvas.height);
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
  return window.jsQR(pixels.data, pixels.width, pixels.height)?.data ?? null;
}

async function scanPhoto(file) {
  const bitmap = await createImageBitmap(file);
  const text = await decode(bitmap, bitmap.width, bitmap.height);
  bitmap.close();
  if (text === null) return result("bad", "No code found", "Hold the code flat and try again.");
  return scan(text);
}

async function toggleCamera() {
  if (camera) {
    camera.stream.getTracks().forEach((track) => track.stop());
    clearInterval(camera.timer);
    camera = null;
    $("video").hidden = true;
    $("camera").textContent = "Start camera";
    return;
  }
  const video = $("video");
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  video.srcObject = stream;
  video.hidden = false;
  await video.play();
  $("camera").textContent = "Stop camera";
  let last = { text: "", at: 0 };
  let busy = false;
  camera = {
    stream,
    timer: setInterval(async () => {
      if (busy || !$("result").hidden || !video.videoWidth) return;
      busy = true;
      try {
        const text = await decode(video, video.videoWidth, video.videoHeight);
        if (text && !(text === last.text && Date.now() - last.at < 5000)) {
          last = { text, at: Date.now() };
          await scan(text);
        }
      } finally {
        busy = false;
      }
    }, 250),
  };
}

// --- session and event -----------------------------------------------------------------------

function signedOut() {
  sessionStorage.removeItem(SESSION);
  session = null;
  show("login-view");
  notice("Your session ended: log in again. Scans not sent yet are kept.");
}

async function login(email, password) {
  session = null;
  const answer = await api("POST", "/auth/login", { email, password });
  if (answer.status !== 200) return notice(answer.body.detail || "Logging in failed.");
  if (!["staff", "admin"].includes(answer.body.user.role)) {
    return notice("This account may not scan tickets: an admin gives it the staff role.");
  }
  session = {
    token: answer.body.access_token,
    user: answer.body.user,
    expiresAt: Date.now() + answer.body.expires_in * 1000,
  };
  sessionStorage.setItem(SESSION, JSON.stringify(session));
  $("password").value = "";
  return event ? showDoor().then(catchUp) : showEvents();
}

function today() {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

async function showEvents(q = "") {
  show("events-view");
  const query = new URLSearchParams({ date_from: today(), date_to: today(), limit: "50" });
  if (q) query.set("q", q);
  const answer = await api("GET", `/events?${query}`);
  if (answer.status !== 200) return notice(answer.body.detail || "The events could not be listed.");
  $("event-list").replaceChildren(
    ...answer.body.items.map((found) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = `${found.time} ${found.name}, ${found.venue}: prepare`;
      button.addEventListener("click", () => prepare(found).catch(failed));
      item.append(button);
      return item;
    }),
  );
  if (answer.body.items.length === 0) notice("No event starts today" + (q ? ` matching “${q}”.` : "."));
}

/** Download the keys and every ticket of the event, so that the door works without a network. */
async function prepare(found) {
  if ((await store.queued()).length) return notice("Scans of the last event are not sent yet: go online first.");
  event = {
    id: found.id,
    name: found.name,
    since: null, // the largest updated_at synced
    keys: [],
    keysAt: 0,
    syncedAt: null,
    history: [],
    conflicts: [],
  };
  tickets = new Map();
  await store.startEvent(event);
  $("sync-status").textContent = "Preparing…";
  await refreshKeys();
  await syncTickets();
  await showDoor();
}

async function leaveEvent() {
  const waiting = (await store.queued()).length;
  if (waiting) return notice(`${waiting} scans are not sent yet: go online so they reach the box office first.`);
  event = null;
  tickets = new Map();
  await store.forgetEvent();
  return showEvents();
}

async function logout() {
  const waiting = (await store.queued()).length;
  if (waiting) return notice(`${waiting} scans are not sent yet: go online so they reach the box office first.`);
  if (camera) await toggleCamera();
  sessionStorage.removeItem(SESSION);
  session = null;
  event = null;
  tickets = new Map();
  await store.erase(); // the synced tickets leave the device with the person
  show("login-view");
}

function failed(error) {
  if (error instanceof SignedOut) return signedOut();
  notice(error instanceof Offline ? "No network: this needs the box office." : error.message);
}

async function start() {
  navigator.serviceWorker?.register("sw.js").catch(() => {}); // the page then loads offline too
  addEventListener("online", networkChanged);
  addEventListener("offline", networkChanged);
  $("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    login($("email").value, $("password").value).catch(failed);
  });
  $("search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    showEvents($("q").value.trim()).catch(failed);
  });
  $("manual-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("manual").value;
    $("manual").value = "";
    scan(text).catch(failed);
  });
  $("photo").addEventListener("change", () => {
    const file = $("photo").files[0];
    $("photo").value = "";
    if (file) scanPhoto(file).catch(failed);
  });
  $("camera").addEventListener("click", () => toggleCamera().catch(failed));
  $("result-close").addEventListener("click", closeResult);
  $("change-event").addEventListener("click", () => leaveEvent().catch(failed));
  $("logout").addEventListener("click", () => logout().catch(failed));
  setInterval(() => navigator.onLine && event && session && catchUp(), SYNC_EVERY_MS);
  networkChanged();

  const saved = JSON.parse(sessionStorage.getItem(SESSION) || "null");
  event = (await store.getMeta("event")) ?? null;
  if (event) tickets = new Map((await store.allTickets()).map((ticket) => [ticket.key, ticket]));
  if (!saved || saved.expiresAt < Date.now()) return show("login-view");
  session = saved;
  if (!event) return showEvents();
  await showDoor();
  catchUp();
}

start().catch(failed);
