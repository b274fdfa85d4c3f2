// What the door keeps on the device (IndexedDB): the prepared event, its tickets and the scans not sent yet.
// One event at a time; logging out deletes the whole database.

const NAME = "boxoffice-door";
let opened = null;

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function database() {
  opened ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(NAME, 1);
    req.onupgradeneeded = () => {
      const db = req.result;
      db.createObjectStore("meta");
      db.createObjectStore("tickets", { keyPath: "key" });
      db.createObjectStore("queue", { keyPath: "id", autoIncrement: true });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  return opened;
}

async function run(stores, mode, work) {
  const db = await database();
  const tx = db.transaction(stores, mode);
  const result = work(tx);
  await new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
  return result instanceof IDBRequest ? result.result : result;
}

export const getMeta = (key) => run(["meta"], "readonly", (tx) => tx.objectStore("meta").get(key));
export const setMeta = (key, value) => run(["meta"], "readwrite", (tx) => tx.objectStore("meta").put(value, key));
export const allTickets = () => run(["tickets"], "readonly", (tx) => tx.objectStore("tickets").getAll());
export const queued = () => run(["queue"], "readonly", (tx) => tx.objectStore("queue").getAll());
export const unqueue = (id) => run(["queue"], "readwrite", (tx) => tx.objectStore("queue").delete(id));

export function putTickets(tickets) {
  return run(["tickets"], "readwrite", (tx) => {
    const store = tx.objectStore("tickets");
    for (const ticket of tickets) store.put(ticket);
  });
}

/** A check-in made offline: the ticket marked in and the scan queued, together. */
export function markOffline(ticket, scan) {
  return run(["tickets", "queue"], "readwrite", (tx) => {
    tx.objectStore("tickets").put(ticket);
    tx.objectStore("queue").add(scan);
  });
}

/** A new event to prepare: forget the last one's tickets (its queue must be empty). */
export function startEvent(meta) {
  return run(["meta", "tickets"], "readwrite", (tx) => {
    tx.objectStore("tickets").clear();
    tx.objectStore("meta").put(meta, "event");
  });
}

/** Leave the event: its tickets and state go (its queue must be empty). */
export function forgetEvent() {
  return run(["meta", "tickets"], "readwrite", (tx) => {
    tx.objectStore("tickets").clear();
    tx.objectStore("meta").delete("event");
  });
}

export async function erase() {
  if (opened) (await opened).close();
  opened = null;
  await request(indexedDB.deleteDatabase(NAME));
}
