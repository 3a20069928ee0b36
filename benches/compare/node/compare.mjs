// Side-by-side comparison, in ONE Node process: @ltcg/streaming (the release build of
// ltcg-streaming-node) against the peer stack doing the same work the product's TypeScript
// does: node:crypto AES-256-GCM with a 16-byte IV, jose HS256 SignJWT / jwtVerify and
// livekit-server-sdk WebhookReceiver.receive.
//
//   node compare.mjs                       # from benches/compare/node, after `npm ci`
//   COMPARE_ROUND_MS=500 COMPARE_ROUNDS=9 node compare.mjs
//
// Every operation is warmed up, then timed in COMPARE_ROUNDS rounds of about COMPARE_ROUND_MS
// each, alternating ours and peer; the table shows the median round in µs/op. Promise-returning
// APIs are awaited once per op (theirs: SignJWT.sign, jwtVerify, receive; all of ours here are
// synchronous).
// Inputs are identical on both sides and are cross-checked before anything is timed.
import assert from 'node:assert/strict'
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

import { SignJWT, decodeJwt, jwtVerify } from 'jose'
import { AccessToken, WebhookReceiver } from 'livekit-server-sdk'

const here = dirname(fileURLToPath(import.meta.url))
const bindingDir = resolve(process.env.LTCG_STREAMING_NODE ?? resolve(here, '../../../ltcg-streaming-node'))
const require = createRequire(import.meta.url)
const { OverlayTokens, StreamKeyVault, WebhookVerifier } = require(resolve(bindingDir, 'index.js'))

const ROUND_MS = Number(process.env.COMPARE_ROUND_MS ?? 300)
const ROUNDS = Number(process.env.COMPARE_ROUNDS ?? 7)
const WARMUP_MS = Number(process.env.COMPARE_WARMUP_MS ?? 300)

// --- Inputs (the same for both sides) ---------------------------------------------------------
const ENCRYPTION_KEY = '0123456789abcdef'.repeat(4) // STREAM_KEY_ENCRYPTION_KEY, 64 hex chars
const JWT_SECRET = 'overlay-secret-for-the-comparison-0123456789' // STREAMING_JWT_SECRET
const JWT_SECRET_BYTES = new TextEncoder().encode(JWT_SECRET)
const LIVEKIT_API_KEY = 'APIcompare'
const LIVEKIT_API_SECRET = 'livekit-secret-for-the-comparison-0123456789'
const STREAM_KEY = 'live_123456789_abcdefghijklmnopqrstuvwxyz'
const NOW = 1_900_000_000 // fixed clock (Unix seconds) wherever an API takes one
const TTL = 86_400
const CLAIMS = { sessionId: 'ses_compare_1', streamType: 'agent', entityId: 'agent_7', type: 'overlay_access' }

/** The product's encryptStreamKey (node:crypto, 16-byte IV, `<iv>:<tag>:<ciphertext>` hex). */
function nodeEncrypt(plaintext, keyHex) {
  const iv = randomBytes(16)
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(keyHex, 'hex'), iv)
  const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return `${iv.toString('hex')}:${cipher.getAuthTag().toString('hex')}:${sealed.toString('hex')}`
}

/** The product's decryptStreamKey (node:crypto). */
function nodeDecrypt(value, keyHex) {
  const [iv, tag, sealed] = value.split(':')
  const decipher = createDecipheriv('aes-256-gcm', Buffer.from(keyHex, 'hex'), Buffer.from(iv, 'hex'))
  decipher.setAuthTag(Buffer.from(tag, 'hex'))
  return Buffer.concat([decipher.update(Buffer.from(sealed, 'hex')), decipher.final()]).toString('utf8')
}

/** The product's overlay token issue with jose (claims, then exp, then iat; HS256). */
function joseIssue(sessionId, streamType, entityId) {
  return new SignJWT({ sessionId, streamType, entityId, type: 'overlay_access' })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime(NOW + TTL)
    .setIssuedAt(NOW)
    .sign(JWT_SECRET_BYTES)
}

/** The product's overlay token verify with jose (signature, exp, type and session checks). */
async function joseVerify(token, sessionId) {
  const { payload } = await jwtVerify(token, JWT_SECRET_BYTES, {
    algorithms: ['HS256'],
    currentDate: new Date(NOW * 1000),
  })
  if (payload.type !== 'overlay_access' || payload.sessionId !== sessionId) throw new Error('invalid overlay token')
  return payload
}

/** A webhook as the LiveKit server signs it: an AccessToken carrying the body's sha256. */
async function signWebhook(body) {
  const token = new AccessToken(LIVEKIT_API_KEY, LIVEKIT_API_SECRET, { ttl: '6h' })
  token.sha256 = createHash('sha256').update(body).digest('base64')
  return token.toJwt()
}

// A LiveKit egress_updated webhook as the server sends it (protobuf JSON).
const now = Math.floor(Date.now() / 1000)
const WEBHOOK_BODY = JSON.stringify({
  event: 'egress_updated',
  egressInfo: {
    egressId: 'EG_compare1',
    roomId: 'RM_compare1',
    roomName: 'ltcg-ses_compare_1',
    status: 'EGRESS_ACTIVE',
    startedAt: String(BigInt(now - 30) * 1_000_000_000n),
    updatedAt: String(BigInt(now) * 1_000_000_000n),
    web: { url: 'https://app.example.com/stream-overlay?sessionId=ses_compare_1', audioOnly: false },
    stream: { urls: ['rtmp://live.twitch.tv/app/{stream_key}'] },
    streamResults: [{ url: 'rtmp://live.twitch.tv/app/{stream_key}', status: 'ACTIVE', startedAt: String(BigInt(now - 25) * 1_000_000_000n) }],
  },
  id: 'EV_compare1',
  createdAt: String(now),
})

// --- Harness ---------------------------------------------------------------------------------
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** A timed loop of `n` calls of `op` (awaited per call when `isAsync`), in µs. */
async function runFor([op, isAsync], n) {
  const t0 = process.hrtime.bigint()
  if (isAsync) for (let i = 0; i < n; i++) await op()
  else for (let i = 0; i < n; i++) op()
  return Number(process.hrtime.bigint() - t0) / 1000
}

/** Warm-up, doubling the batch until WARMUP_MS is spent; returns the round size. */
async function warmUp(side) {
  let n = 64
  let spent = 0
  let perOp = 0
  while (spent < WARMUP_MS * 1000) {
    const us = await runFor(side, n)
    spent += us
    perOp = us / n
    n *= 2
  }
  return Math.max(1000, Math.round((ROUND_MS * 1000) / perOp))
}

/**
 * µs/op of both sides: warm-up, then ROUNDS rounds alternating ours and peer (so both see the
 * same background load), median round of each.
 */
async function measurePair(ours, peer) {
  const [nOurs, nPeer] = [await warmUp(ours), await warmUp(peer)]
  const [o, p] = [[], []]
  for (let r = 0; r < ROUNDS; r++) {
    o.push((await runFor(ours, nOurs)) / nOurs)
    p.push((await runFor(peer, nPeer)) / nPeer)
  }
  return [median(o), median(p)]
}

// --- The four operations, cross-checked first ------------------------------------------------
const vault = new StreamKeyVault(ENCRYPTION_KEY)
const ciphertext = nodeEncrypt(STREAM_KEY, ENCRYPTION_KEY)
assert.equal(vault.decrypt(ciphertext), STREAM_KEY)
assert.equal(nodeDecrypt(ciphertext, ENCRYPTION_KEY), STREAM_KEY)

const tokens = new OverlayTokens(JWT_SECRET, TTL)
const ourToken = tokens.issue(CLAIMS.sessionId, CLAIMS.streamType, CLAIMS.entityId, NOW)
const joseToken = await joseIssue(CLAIMS.sessionId, CLAIMS.streamType, CLAIMS.entityId)
assert.deepEqual(decodeJwt(ourToken), decodeJwt(joseToken))
assert.equal(ourToken, joseToken, 'same claims at the same clock: the tokens are byte-identical')
assert.equal(tokens.verify(joseToken, CLAIMS.sessionId, NOW).sessionId, CLAIMS.sessionId)
assert.equal((await joseVerify(ourToken, CLAIMS.sessionId)).sessionId, CLAIMS.sessionId)

const webhookAuth = await signWebhook(WEBHOOK_BODY)
const verifier = new WebhookVerifier(LIVEKIT_API_KEY, LIVEKIT_API_SECRET)
const receiver = new WebhookReceiver(LIVEKIT_API_KEY, LIVEKIT_API_SECRET)
const ourEvent = verifier.verify(WEBHOOK_BODY, webhookAuth)
const theirEvent = await receiver.receive(WEBHOOK_BODY, webhookAuth)
assert.equal(ourEvent.egressId, 'EG_compare1')
assert.equal(theirEvent.egressInfo?.egressId, 'EG_compare1')

const operations = [
  {
    name: 'stream-key decrypt',
    ours: [() => vault.decrypt(ciphertext), false],
    peer: [() => nodeDecrypt(ciphertext, ENCRYPTION_KEY), false],
    peerName: 'node:crypto aes-256-gcm',
  },
  {
    name: 'overlay token issue',
    ours: [() => tokens.issue(CLAIMS.sessionId, CLAIMS.streamType, CLAIMS.entityId, NOW), false],
    peer: [() => joseIssue(CLAIMS.sessionId, CLAIMS.streamType, CLAIMS.entityId), true],
    peerName: 'jose SignJWT HS256',
  },
  {
    name: 'overlay token verify',
    ours: [() => tokens.verify(joseToken, CLAIMS.sessionId, NOW), false],
    peer: [() => joseVerify(joseToken, CLAIMS.sessionId), true],
    peerName: 'jose jwtVerify',
  },
  {
    name: 'webhook verify',
    ours: [() => verifier.verify(WEBHOOK_BODY, webhookAuth), false],
    peer: [() => receiver.receive(WEBHOOK_BODY, webhookAuth), true],
    peerName: 'livekit-server-sdk WebhookReceiver.receive',
  },
]

console.log(`Node ${process.version} · @ltcg/streaming from ${bindingDir}`)
console.log(`warm-up ${WARMUP_MS} ms, ${ROUNDS} rounds of ~${ROUND_MS} ms per side (alternating), median round\n`)
const rows = []
for (const { name, ours, peer, peerName } of operations) {
  const [o, p] = await measurePair(ours, peer)
  rows.push({ name, peerName, ours: o, peer: p, ratio: p / o })
}

const header = ['operation', 'ours µs/op', 'peer µs/op', 'ratio (peer/ours)', 'peer']
const cells = rows.map((r) => [r.name, r.ours.toFixed(2), r.peer.toFixed(2), `${r.ratio.toFixed(1)}×`, r.peerName])
const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)))
const line = (c) => `| ${c.map((x, i) => (i === 0 || i === 4 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join(' | ')} |`
console.log(line(header))
console.log(`|${widths.map((w, i) => (i === 0 || i === 4 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`)
for (const c of cells) console.log(line(c))
