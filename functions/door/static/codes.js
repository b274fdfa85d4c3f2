// Ticket codes: compact JWS (EdDSA) verified in the browser with the published keys, no network.
// A code is accepted only exactly as issued (strict base64url, no padding): the server does the same.

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const webCryptoKeys = new Map(); // kid -> CryptoKey, or null where WebCrypto has no Ed25519
let noble = null;

function bytes(text) {
  if (!BASE64URL.test(text) || text.length % 4 === 1) throw new Error("not base64url");
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "==".slice(0, (4 - (text.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function json(text) {
  return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes(text)));
}

/** The code's parts when it is shaped like a ticket code, else null. */
export function parse(code) {
  const parts = code.split(".");
  if (parts.length !== 3) return null;
  try {
    const header = json(parts[0]);
    const claims = json(parts[1]);
    const signature = bytes(parts[2]);
    if (header.alg !== "EdDSA" || typeof header.kid !== "string") return null;
    if (typeof claims.tn !== "string" || typeof claims.ev !== "string" || signature.length !== 64) return null;
    const signed = `${parts[0]}.${parts[1]}`;
    return { kid: header.kid, ticketNumber: claims.tn, eventId: claims.ev, signed, signature };
  } catch {
    return null;
  }
}

async function ed25519Verify(jwk, signature, message) {
  // WebCrypto where the browser has Ed25519 (Chromium, Firefox, Safari 17+); the vendored noble otherwise.
  if (!webCryptoKeys.has(jwk.kid)) {
    let key = null;
    try {
      key = await crypto.subtle.importKey("raw", bytes(jwk.x), { name: "Ed25519" }, false, ["verify"]);
    } catch {
      key = null;
    }
    webCryptoKeys.set(jwk.kid, key);
  }
  const key = webCryptoKeys.get(jwk.kid);
  if (key) return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  noble ??= await import("./ed25519-3.2.0.js");
  return noble.verifyAsync(signature, message, bytes(jwk.x));
}

/**
 * Judge a code against the key set and the event being scanned:
 * {verdict: "valid", ticketNumber} | {verdict: "forged"} | {verdict: "unknown-key"} | {verdict: "wrong-event"}.
 */
export async function verify(code, keys, eventId) {
  const parsed = parse(code);
  if (parsed === null) return { verdict: "forged" };
  const jwk = keys.find((k) => k.kid === parsed.kid && k.kty === "OKP" && k.crv === "Ed25519");
  if (!jwk) return { verdict: "unknown-key" };
  let genuine = false;
  try {
    genuine = await ed25519Verify(jwk, parsed.signature, new TextEncoder().encode(parsed.signed));
  } catch {
    genuine = false;
  }
  if (!genuine) return { verdict: "forged" };
  if (parsed.eventId !== eventId) return { verdict: "wrong-event", ticketNumber: parsed.ticketNumber };
  return { verdict: "valid", ticketNumber: parsed.ticketNumber };
}
