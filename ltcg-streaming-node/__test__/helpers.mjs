// Shared test helpers: the package (through its generated loader), the core's peer-library
// vectors, and a ready-made configuration. The conformance suite is imported by the tests that
// use it from the package's own subpath, `@ltcg/streaming/testing`, as a store's author does.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import * as streaming from '../index.js'

/** The package, exactly as an ES module app imports it (named exports of the CommonJS loader). */
export { streaming }

/** A vector file of the core (`ltcg-streaming-core/tests/fixtures/<name>.json`). */
export function fixture(name) {
  const path = fileURLToPath(new URL(`../../ltcg-streaming-core/tests/fixtures/${name}.json`, import.meta.url))
  return JSON.parse(readFileSync(path, 'utf8'))
}

export const ENCRYPTION_KEY = '6457ed47ba47dc9dccb72b09f27843b717aed4fcb909b4a7472fff3c46733e23'
export const JWT_SECRET = 'test-streaming-secret-0123456789'
export const LIVEKIT_API_KEY = 'APIa31c2d4cd083'
export const LIVEKIT_API_SECRET = '93RwJsZHbMVpGS52EIKeRuD3STWpeIwN'

/** The seed's environment for tests. */
export const ENV = {
  STREAM_KEY_ENCRYPTION_KEY: ENCRYPTION_KEY,
  STREAMING_JWT_SECRET: JWT_SECRET,
  NEXT_PUBLIC_APP_URL: 'https://lunchtable.test',
  LIVEKIT_URL: 'wss://ltcg.livekit.test',
  LIVEKIT_API_KEY,
  LIVEKIT_API_SECRET,
}

/** A service on a fresh in-memory store and egress (or the given parts), rate limits off. */
export function makeService(parts = {}) {
  const config = streaming.StreamingConfig.fromEnv(ENV)
  const egress = parts.egress ?? new streaming.MemoryEgress()
  const store = parts.store ?? new streaming.MemoryStore()
  const options = { rateLimits: false, ...parts.options }
  const service = new streaming.StreamingService(config, { store, egress, options })
  return { service, egress, store, config }
}

/** Awaits `promise`, expecting a rejection with `code`; returns the error. */
export async function rejectsWith(promise, code) {
  try {
    await promise
  } catch (error) {
    if (error?.code !== code) {
      throw new Error(`expected ${code}, got ${error?.code}: ${error?.message}`, { cause: error })
    }
    return error
  }
  throw new Error(`expected a rejection with ${code}, but it resolved`)
}

/** Calls `fn`, expecting a throw with `code`; returns the error. */
export function throwsWith(fn, code) {
  try {
    fn()
  } catch (error) {
    if (error?.code !== code) {
      throw new Error(`expected ${code}, got ${error?.code}: ${error?.message}`, { cause: error })
    }
    return error
  }
  throw new Error(`expected a throw with ${code}`)
}

/** The egress id a session got from its egress backend (random), read from a JS `store`. */
export async function egressOf(store, sessionId) {
  const session = await store.getSession(sessionId)
  assert.ok(session?.egressId, `session ${sessionId} has an egress`)
  return session.egressId
}

/** A LiveKit webhook for `egressId`, signed now as livekit-server-sdk's sender signs it. */
export async function egressWebhook(event, egressId, status, id = `EV_${event}_${egressId}_${status}`) {
  const { EgressInfo, EgressStatus, WebhookEvent } = await import('@livekit/protocol')
  const { AccessToken } = await import('livekit-server-sdk')
  const { createHash } = await import('node:crypto')
  const body = new WebhookEvent({
    event,
    id,
    createdAt: BigInt(Math.floor(Date.now() / 1000)),
    egressInfo: new EgressInfo({ egressId, status: EgressStatus[status] }),
  }).toJsonString()
  const token = new AccessToken(LIVEKIT_API_KEY, LIVEKIT_API_SECRET)
  token.sha256 = createHash('sha256').update(body).digest('base64')
  return { body, authorization: await token.toJwt() }
}
