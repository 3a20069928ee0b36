// The Next.js app as its users meet it: `next start` (after `next build`) on 127.0.0.1 with a
// SQLite store and the in-process egress, driven over HTTP: the seed's walkthrough (start,
// status, overlay page, a webhook signed the way livekit-server-sdk signs, stop), every way
// of authenticating, and bad input answered with the library's codes and nothing written;
// and its overlay page, in headless Chromium, against the reference server's on the same store.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { EgressInfo, EgressStatus, WebhookEvent } from '@livekit/protocol'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { AccessToken } from 'livekit-server-sdk'
import pixelmatch from 'pixelmatch'
import { chromium } from 'playwright-core'
import { PNG } from 'pngjs'
import { afterAll, beforeAll, expect, test } from 'vitest'

const INTERNAL = 'next-internal-secret-0123456789abcdef'
const AGENT_KEY = 'ltcg_NextAgentKey0123456789abcdefgh'
const LIVEKIT_KEY = 'APInextTest'
const LIVEKIT_SECRET = 'next-livekit-secret-0123456789abcdef'
const STREAM_KEY = 'live_123456789_abcdefghijklmnop'
const ISSUER = 'https://auth.ltcg.test'
const AUDIENCE = 'ltcg-app'
const ENCRYPTION_KEY = '6457ed47ba47dc9dccb72b09f27843b717aed4fcb909b4a7472fff3c46733e23'
const OVERLAY_SECRET = 'next-overlay-secret-0123456789abcdef'

let app: ChildProcess
let base = ''
let jwks: Server
let dbPath = ''
let privateKey: CryptoKey
let output = ''

/** Ends `child` and what it started (`npx` runs Next in a process of its own): it was spawned
 *  `detached`, so it leads a process group. */
function stopGroup(child: ChildProcess) {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGTERM')
  } catch {
    // already gone
  }
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    })
  })

beforeAll(async () => {
  if (!existsSync(new URL('../.next/BUILD_ID', import.meta.url))) throw new Error('run `next build` first')
  const pair = await generateKeyPair('RS256')
  privateKey = pair.privateKey
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }
  jwks = createServer((_, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })))
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r))
  const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  dbPath = join(mkdtempSync(join(tmpdir(), 'ltcg-next-')), 'streams.db')
  app = spawn('npx', ['next', 'start', '-H', '127.0.0.1', '-p', String(port)], {
    cwd: new URL('..', import.meta.url),
    env: {
      ...process.env,
      STREAM_KEY_ENCRYPTION_KEY: ENCRYPTION_KEY,
      STREAMING_JWT_SECRET: OVERLAY_SECRET,
      NEXT_PUBLIC_APP_URL: base,
      LIVEKIT_URL: 'wss://livekit.ltcg.test',
      LIVEKIT_API_KEY: LIVEKIT_KEY,
      LIVEKIT_API_SECRET: LIVEKIT_SECRET,
      LTCG_EGRESS: 'memory',
      LTCG_SQLITE_PATH: dbPath,
      INTERNAL_API_SECRET: INTERNAL,
      LTCG_AGENT_KEYS: `${AGENT_KEY}=agent_next`,
      AUTH_JWKS_URL: jwksUrl,
      AUTH_JWT_ISSUER: ISSUER,
      AUTH_JWT_AUDIENCE: AUDIENCE,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  app.stdout?.on('data', (d) => (output += d))
  app.stderr?.on('data', (d) => (output += d))
  const deadline = Date.now() + 60_000
  for (;;) {
    try {
      if ((await fetch(`${base}/api/streaming/sessions`)).status === 401) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`next start did not answer:\n${output}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}, 90_000)

afterAll(async () => {
  if (app) stopGroup(app)
  jwks?.close()
  for (const secret of [INTERNAL, AGENT_KEY, LIVEKIT_SECRET, STREAM_KEY]) expect(output).not.toContain(secret)
})

async function call(method: string, path: string, key?: string, body?: unknown) {
  const headers: Record<string, string> = {}
  if (key) headers.authorization = `Bearer ${key}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.text()
  return { status: res.status, text, json: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : null }
}

/** The egress id the app's store gave a session, read from its SQLite file (the public views
 *  do not show it; LiveKit would send it in its webhooks). */
function egressOf(sessionId: string): string {
  const read = 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select egress_id from streaming_sessions where id=?", (sys.argv[2],)).fetchone()[0])'
  return execFileSync('python3', ['-c', read, dbPath, sessionId], { encoding: 'utf8' }).trim()
}

function signed(event: string, egressId: string, status: keyof typeof EgressStatus, id: string) {
  const body = new WebhookEvent({
    event,
    id,
    createdAt: BigInt(Math.floor(Date.now() / 1000)),
    egressInfo: new EgressInfo({ egressId, status: EgressStatus[status] as EgressStatus }),
  }).toJsonString()
  const token = new AccessToken(LIVEKIT_KEY, LIVEKIT_SECRET)
  token.sha256 = createHash('sha256').update(body).digest('base64')
  return { body, token }
}

test('the walkthrough: start, status, overlay page, webhook, stop', async () => {
  const started = await call('POST', '/api/streaming/start', INTERNAL, {
    agentId: 'agent_walk', platform: 'twitch', streamKey: STREAM_KEY, streamTitle: 'Next walkthrough',
  })
  expect(started.status, started.text).toBe(200)
  expect(started.json).toMatchObject({ success: true, status: 'pending', reused: false })
  const id = started.json.sessionId as string
  expect(started.text).not.toContain(STREAM_KEY)

  const status = await call('GET', `/api/streaming/status?sessionId=${id}`, INTERNAL)
  expect(status.json).toMatchObject({ sessionId: id, status: 'pending', streamTitle: 'Next walkthrough' })

  const overlay = new URL(started.json.overlayUrl)
  expect(overlay.origin).toBe(base)
  const page = await fetch(overlay)
  expect(page.status).toBe(200)
  expect(page.headers.get('content-type')).toMatch(/text\/html/)
  const withoutToken = await fetch(`${base}/stream/overlay/events?sessionId=${id}`)
  expect(withoutToken.status).toBe(401)

  const egressId = egressOf(id)
  const { body, token } = signed('egress_updated', egressId, 'EGRESS_ACTIVE', `EV_live_${id}`)
  const hook = await fetch(`${base}/api/webhooks/livekit`, {
    method: 'POST',
    headers: { authorization: await token.toJwt(), 'content-type': 'application/webhook+json' },
    body,
  })
  expect(hook.status).toBe(200)
  expect(await hook.json()).toMatchObject({ applied: true, sessionId: id })
  expect((await call('GET', `/api/streaming/status?sessionId=${id}`, INTERNAL)).json.status).toBe('live')

  const stopped = await call('POST', '/api/streaming/stop', INTERNAL, { sessionId: id })
  expect(stopped.json.success).toBe(true)
  expect((await call('GET', `/api/streaming/status?sessionId=${id}`, INTERNAL)).json.status).toBe('ended')
})

test('every way in: internal secret, agent key, user JWT from the JWKS; anything else is 401', async () => {
  const mine = await call('POST', '/api/streaming/start', AGENT_KEY, { platform: 'twitch', streamKey: STREAM_KEY })
  expect(mine.status, mine.text).toBe(200)
  expect((await call('GET', `/api/streaming/status?sessionId=${mine.json.sessionId}`, AGENT_KEY)).json.entityId).toBe('agent_next')
  const other = await call('POST', '/api/streaming/start', AGENT_KEY, { agentId: 'agent_other', platform: 'twitch', streamKey: STREAM_KEY })
  expect(other.status).toBe(403)

  const jwt = (claims: Record<string, unknown>) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuedAt().setExpirationTime('5m').sign(privateKey)
  const user = await jwt({ sub: 'user_1', iss: ISSUER, aud: AUDIENCE })
  const listed = await call('GET', '/api/streaming/sessions', user)
  expect(listed.status, listed.text).toBe(200)
  expect(listed.json.sessions).toEqual([])
  const wrongAudience = await jwt({ sub: 'user_1', iss: ISSUER, aud: 'someone-else' })
  for (const key of [undefined, wrongAudience, 'ltcg_NotAKeyAnyoneHas000000000000', 'not-the-internal-secret-000000000']) {
    const refused = await call('GET', '/api/streaming/sessions', key)
    expect(refused.status).toBe(401)
    expect(refused.json.code).toBe('UNAUTHORIZED')
  }
})

/** Runs the library's operator CLI (`ltcg-streaming`, built beside the reference server) on
 *  the app's SQLite file; its standard output. */
function cli(...args: string[]): string {
  const server = process.env.LTCG_SERVER_BIN ?? new URL('../../../target/debug/ltcg-streaming-server', import.meta.url).pathname
  const binary = process.env.LTCG_CLI_BIN ?? join(server, '..', 'ltcg-streaming')
  if (!existsSync(binary)) throw new Error(`the operator CLI is not built (${binary})`)
  const env: NodeJS.ProcessEnv = { ...process.env, LTCG_DATABASE: dbPath }
  return execFileSync(binary, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
}

test('agent keys kept in the store: made by the CLI, accepted at once, refused once revoked', async () => {
  const key = cli('agent-keys', 'create', 'agent_stored', '--label', 'next test')
  expect(key).toMatch(/^ltcg_[0-9a-z]{32}$/)
  const started = await call('POST', '/api/streaming/start', key, { platform: 'twitch', streamKey: STREAM_KEY })
  expect(started.status, started.text).toBe(200)
  const status = await call('GET', `/api/streaming/status?sessionId=${started.json.sessionId}`, key)
  expect(status.json.entityId).toBe('agent_stored')
  cli('agent-keys', 'revoke', key.slice(0, 12))
  const refused = await call('GET', '/api/streaming/sessions', key)
  expect([refused.status, refused.json.code]).toEqual([401, 'UNAUTHORIZED'])
  // The product's own headers carry keys too.
  const viaHeader = await fetch(`${base}/api/streaming/sessions`, { headers: { 'x-internal-auth': INTERNAL } })
  expect(viaHeader.status).toBe(200)
  const viaApiKey = await fetch(`${base}/api/streaming/sessions`, { headers: { 'x-api-key': AGENT_KEY } })
  expect(viaApiKey.status).toBe(200)
})

test('bad input gets the library codes and writes nothing', async () => {
  const before = (await call('GET', '/api/streaming/sessions?limit=100', INTERNAL)).json.sessions.length
  const cases: [unknown, string][] = [
    [{ agentId: 'agent_bad', platform: 'myspace', streamKey: STREAM_KEY }, 'platform'],
    [{ agentId: 'agent_bad', platform: 'twitch' }, 'streamKey'],
    [{ agentId: 'agent_bad', platform: 'twitch', streamKey: STREAM_KEY, surprise: 1 }, 'surprise'],
  ]
  for (const [body, field] of cases) {
    const refused = await call('POST', '/api/streaming/start', INTERNAL, body)
    expect(refused.status, refused.text).toBe(400)
    expect(refused.json).toMatchObject({ code: 'INVALID_INPUT', field })
    expect(refused.text).not.toContain(STREAM_KEY)
  }
  const notJson = await fetch(`${base}/api/streaming/start`, {
    method: 'POST',
    headers: { authorization: `Bearer ${INTERNAL}`, 'content-type': 'application/json' },
    body: '{"agentId":',
  })
  expect(notJson.status).toBe(400)
  expect((await call('GET', '/api/streaming/sessions?limit=100', INTERNAL)).json.sessions.length).toBe(before)
})

test('a configuration error is logged once at startup, and callers get CONFIG', async () => {
  const port = await freePort()
  let log = ''
  // Nothing of the library's configuration but the app URL and a key.
  const env: NodeJS.ProcessEnv = { ...process.env, NEXT_PUBLIC_APP_URL: `http://127.0.0.1:${port}`, INTERNAL_API_SECRET: INTERNAL }
  for (const name of Object.keys(env)) if (/^(STREAM|LIVEKIT|LTCG|AUTH)_/.test(name)) delete env[name]
  const broken = spawn('npx', ['next', 'start', '-H', '127.0.0.1', '-p', String(port)], {
    cwd: new URL('..', import.meta.url),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  broken.stdout?.on('data', (d) => (log += d))
  broken.stderr?.on('data', (d) => (log += d))
  try {
    const deadline = Date.now() + 60_000
    while (!log.includes('ltcg-streaming is not configured')) {
      if (Date.now() > deadline) throw new Error(`no startup error logged:\n${log}`)
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(log).toContain('STREAM_KEY_ENCRYPTION_KEY')
    for (let i = 0; i < 2; i++) {
      const answer = await fetch(`http://127.0.0.1:${port}/api/streaming/sessions`)
      expect(answer.status).toBe(500)
      expect((await answer.json()).code).toBe('CONFIG')
    }
    expect(log.split('ltcg-streaming is not configured').length - 1).toBe(1)
  } finally {
    stopGroup(broken)
  }
}, 90_000)

/** The reference server (`ltcg-streaming-server`: $LTCG_SERVER_BIN, else the workspace's debug
 *  build) on the app's SQLite file with the app's secrets, until `stop()`. */
async function referenceServer() {
  const binary = process.env.LTCG_SERVER_BIN ?? new URL('../../../target/debug/ltcg-streaming-server', import.meta.url).pathname
  if (!existsSync(binary)) throw new Error(`the reference server is not built (${binary})`)
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  let log = ''
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const name of Object.keys(env)) if (/^(LTCG|LIVEKIT)_/.test(name)) delete env[name]
  const server = spawn(binary, [], {
    env: {
      ...env,
      LTCG_BIND: `127.0.0.1:${port}`,
      LTCG_DATABASE: dbPath,
      LTCG_INTERNAL_KEY: INTERNAL,
      LTCG_EGRESS: 'memory',
      LTCG_RECONCILE_SECS: '3600',
      STREAM_KEY_ENCRYPTION_KEY: ENCRYPTION_KEY,
      STREAMING_JWT_SECRET: OVERLAY_SECRET,
      NEXT_PUBLIC_APP_URL: base,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  server.stdout?.on('data', (d) => (log += d))
  server.stderr?.on('data', (d) => (log += d))
  const deadline = Date.now() + 30_000
  for (;;) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break
    } catch {
      // not listening yet
    }
    if (server.exitCode !== null || Date.now() > deadline) throw new Error(`the reference server did not start:\n${log}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return { url, stop: () => server.kill('SIGTERM'), log: () => log }
}

test("the overlay page Next serves matches the reference server's, pixel for pixel within 0.5%", async () => {
  const started = await call('POST', '/api/streaming/start', INTERNAL, {
    agentId: 'agent_pixels', platform: 'twitch', streamKey: STREAM_KEY, streamTitle: 'Pixel parity',
  })
  expect(started.status, started.text).toBe(200)
  const id = started.json.sessionId as string
  const { body, token } = signed('egress_updated', egressOf(id), 'EGRESS_ACTIVE', `EV_pixels_${id}`)
  const hook = await fetch(`${base}/api/webhooks/livekit`, {
    method: 'POST', headers: { authorization: await token.toJwt(), 'content-type': 'application/webhook+json' }, body,
  })
  expect(hook.status).toBe(200)
  expect((await call('POST', '/api/streaming/link-game', INTERNAL, { sessionId: id, lobbyId: 'lobby_px' })).status).toBe(200)
  const player = (name: string, lifePoints: number) => ({ name, lifePoints, handCount: 4, deckCount: 30, graveyardCount: 1, field: [] })
  const board = await call('POST', '/api/streaming/game-state', INTERNAL, {
    lobbyId: 'lobby_px', gameId: 'g_px', turnNumber: 3, phase: 'battle', activePlayer: 'host',
    host: { playerId: 'agent_pixels', ...player('EmberMind', 6400) }, opponent: player('TidalQueen', 3100),
  })
  expect(board.status, board.text).toBe(200)
  const decision = await call('POST', '/api/agents/decisions', INTERNAL, {
    agentId: 'agent_pixels', sessionId: id, gameId: 'g_px', turnNumber: 3, phase: 'battle',
    action: 'attack', reasoning: 'Ember Drake outmatches the face-down card',
  })
  expect(decision.status, decision.text).toBe(200)
  const event = await call('POST', '/api/agents/events', INTERNAL, {
    sessionId: id, gameId: 'g_px', turnNumber: 3, eventType: 'attack', description: 'Ember Drake attacks for 1800',
  })
  expect(event.status, event.text).toBe(200)

  const overlay = new URL(started.json.overlayUrl)
  const reference = await referenceServer()
  const artifacts = new URL('../../../test-artifacts/nextjs/', import.meta.url).pathname
  mkdirSync(artifacts, { recursive: true })
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--font-render-hinting=none'],
  })
  try {
    const shot = async (origin: string, name: string) => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 720 } })
      const answer = await page.goto(`${origin}${overlay.pathname}${overlay.search}`)
      expect(answer?.status(), name).toBe(200)
      await page.waitForFunction(() => document.body?.dataset.ready === 'true', undefined, { timeout: 20_000 })
      await page.evaluate(() => document.fonts.ready)
      const seen = await page.evaluate(() => ({ scene: document.body.dataset.scene, text: document.body.innerText }))
      const png = await page.screenshot({ animations: 'disabled' })
      writeFileSync(`${artifacts}overlay-${name}-1280x720.png`, png)
      await page.close()
      return { png: PNG.sync.read(png), ...seen }
    }
    const next = await shot(base, 'next')
    const ref = await shot(reference.url, 'reference')
    // The same scene and content, read from the page.
    expect(next.scene).toBe(ref.scene)
    for (const text of ['EmberMind', 'TidalQueen', 'Ember Drake attacks for 1800']) {
      expect(next.text, text).toContain(text)
      expect(ref.text, text).toContain(text)
    }
    expect([next.png.width, next.png.height]).toEqual([1280, 720])
    // Not a blank picture: many distinct colours.
    const colours = new Set<number>()
    for (let i = 0; i < next.png.data.length; i += 4 * 97) colours.add(next.png.data.readUInt32BE(i))
    expect(colours.size).toBeGreaterThan(20)
    const diff = new PNG({ width: 1280, height: 720 })
    const differing = pixelmatch(next.png.data, ref.png.data, diff.data, 1280, 720, { threshold: 0.1 })
    writeFileSync(`${artifacts}overlay-diff-1280x720.png`, PNG.sync.write(diff))
    expect(differing / (1280 * 720)).toBeLessThan(0.005)
  } finally {
    await browser.close()
    reference.stop()
  }
  for (const secret of [INTERNAL, STREAM_KEY, OVERLAY_SECRET, ENCRYPTION_KEY]) expect(reference.log()).not.toContain(secret)
}, 90_000)
