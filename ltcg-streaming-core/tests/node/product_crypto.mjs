// The product's stream-key and overlay-token code paths, reproduced with node:crypto only
// (apps/web/src/lib/streaming/encryption.ts and the jose HS256 verification in
// middleware.ts). Reads a JSON job on stdin and prints the results as JSON.
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

function key(hex) {
  const k = Buffer.from(hex.trim(), "hex");
  if (k.length !== 32) throw new Error("STREAM_KEY_ENCRYPTION_KEY must be 64 hex characters (32 bytes)");
  return k;
}

// encryptStreamKey: 16-byte random IV, aes-256-gcm, iv:tag:ciphertext in lowercase hex.
function encryptStreamKey(plain, keyHex) {
  const iv = randomBytes(16);
  const cipher = createCipheriv("aes-256-gcm", key(keyHex), iv);
  const enc = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return `${iv.toString("hex")}:${cipher.getAuthTag().toString("hex")}:${enc.toString("hex")}`;
}

// decryptStreamKey: first three parts, none empty, setAuthTag without authTagLength.
function decryptStreamKey(value, keyHex) {
  const [ivHex, tagHex, encHex] = value.split(":");
  if (!ivHex || !tagHex || !encHex) throw new Error("Invalid encrypted key format");
  const decipher = createDecipheriv("aes-256-gcm", key(keyHex), Buffer.from(ivHex, "hex"));
  decipher.setAuthTag(Buffer.from(tagHex, "hex"));
  return Buffer.concat([decipher.update(Buffer.from(encHex, "hex")), decipher.final()]).toString("utf8");
}

// jwtVerify(token, TextEncoder().encode(secret)) for HS256, clock at `now`.
function verifyHs256(token, secret, now) {
  const [h, p, s] = token.split(".");
  const header = JSON.parse(Buffer.from(h, "base64url").toString("utf8"));
  if (header.alg !== "HS256") throw new Error("alg");
  const expected = createHmac("sha256", Buffer.from(secret, "utf8")).update(`${h}.${p}`).digest();
  const given = Buffer.from(s, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new Error("signature");
  const payload = JSON.parse(Buffer.from(p, "base64url").toString("utf8"));
  if (typeof payload.exp !== "number" || payload.exp <= now) throw new Error("exp");
  return { header: Buffer.from(h, "base64url").toString("utf8"), payload: Buffer.from(p, "base64url").toString("utf8") };
}

const job = JSON.parse(await new Promise((resolve) => {
  let data = "";
  process.stdin.on("data", (c) => (data += c));
  process.stdin.on("end", () => resolve(data));
}));
const result = {
  decrypted: job.ciphertexts.map((c) => {
    try { return decryptStreamKey(c, job.keyHex); } catch (e) { return { error: e.message }; }
  }),
  encrypted: job.plaintexts.map((p) => encryptStreamKey(p, job.keyHex)),
  tokens: job.tokens.map((t) => {
    try { return verifyHs256(t, job.jwtSecret, job.now); } catch (e) { return { error: e.message }; }
  }),
};
process.stdout.write(JSON.stringify(result));
