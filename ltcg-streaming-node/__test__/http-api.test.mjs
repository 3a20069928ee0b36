// HttpApi: the library's HTTP API answered in process, as a Next.js route handler serves it.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { makeService, streaming, throwsWith } from './helpers.mjs'

const { HttpApi } = streaming
const INTERNAL = 'http-api-internal-key-0123456789'
const AGENT_KEY = 'ltcg_HttpApiAgentKey0123456789abcd'
const STREAM_KEY = 'live_123456789_abcdefghijklmnop'

function api() {
  const { service } = makeService()
  return new HttpApi(service, { internalKey: INTERNAL, agentKeys: [{ key: AGENT_KEY, agentId: 'agent_http' }] })
}

async function call(http, method, url, { key, body, headers = [] } = {}) {
  const all = [...headers]
  if (key) all.push(['authorization', `Bearer ${key}`])
  if (body !== undefined) all.push(['content-type', 'application/json'])
  const answer = await http.handle({
    method,
    url,
    headers: all,
    body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
  })
  const header = (name) => answer.headers.find(([k]) => k === name)?.[1]
  const text = answer.body ? answer.body.toString('utf8') : ''
  return { ...answer, header, text, json: header('content-type')?.includes('json') ? JSON.parse(text) : null }
}

test('an agent starts, reads and stops a stream through the in-process API', async () => {
  const http = api()
  const started = await call(http, 'POST', 'http://app.test/api/streaming/start', {
    key: AGENT_KEY,
    body: { platform: 'twitch', streamKey: STREAM_KEY },
  })
  assert.equal(started.status, 200, started.text)
  assert.equal(started.json.success, true)
  const id = started.json.sessionId
  const status = await call(http, 'GET', `/api/streaming/status?sessionId=${id}`, { key: AGENT_KEY })
  assert.equal(status.status, 200)
  assert.equal(status.json.entityId, 'agent_http')
  const stopped = await call(http, 'POST', '/api/streaming/stop', { key: AGENT_KEY, body: { sessionId: id } })
  assert.equal(stopped.json.success, true)
  assert.ok(!started.text.includes(STREAM_KEY) && !status.text.includes(STREAM_KEY))
})

test('refusals follow the error contract', async () => {
  const http = api()
  const none = await call(http, 'GET', '/api/streaming/status?sessionId=ses_x')
  assert.equal(none.status, 401)
  assert.equal(none.json.code, 'UNAUTHORIZED')
  const bad = await call(http, 'POST', '/api/streaming/start', { key: AGENT_KEY, body: { platform: 'myspace' } })
  assert.equal(bad.status, 400)
  assert.deepEqual([bad.json.code, bad.json.field], ['INVALID_INPUT', 'platform'])
  const missing = await call(http, 'GET', '/api/nothing-here', { key: INTERNAL })
  assert.equal(missing.status, 404)
  throwsWith(() => new HttpApi(makeService().service, {}), 'INVALID_INPUT')
  throwsWith(() => new HttpApi(makeService().service, { internalKey: INTERNAL, extra: 1 }), 'INVALID_INPUT')
})

test('the overlay page and its event stream come through, the stream chunk by chunk', async () => {
  const http = api()
  const started = await call(http, 'POST', '/api/streaming/start', {
    key: INTERNAL,
    body: { agentId: 'agent_page', platform: 'twitch', streamKey: STREAM_KEY, streamTitle: 'Page title' },
  })
  const overlay = new URL(started.json.overlayUrl)
  const page = await call(http, 'GET', `${overlay.pathname}${overlay.search}`)
  assert.equal(page.status, 200)
  assert.match(page.header('content-type'), /text\/html/)
  const events = await http.handle({ method: 'GET', url: `/stream/overlay/events${overlay.search}`, headers: [] })
  assert.equal(events.status, 200)
  assert.equal(events.body ?? null, null)
  let text = ''
  while (!text.includes('\n\n')) {
    const chunk = await events.stream.next()
    assert.notEqual(chunk, null, 'the stream goes on')
    text += chunk.toString('utf8')
  }
  assert.match(text, /^event: snapshot/m)
  const data = JSON.parse(text.split('\n').find((l) => l.startsWith('data:')).slice(5))
  assert.equal(data.sessionId, started.json.sessionId)
  assert.equal(data.streamTitle, 'Page title')
  const denied = await call(http, 'GET', `/stream/overlay/events?sessionId=${started.json.sessionId}&token=forged`)
  assert.equal(denied.status, 401)
})

test('a LiveKit webhook signed by livekit-server-sdk moves the session, by its raw body', async () => {
  const { MapStore } = await import('./map-store.mjs')
  const store = new MapStore()
  const { service } = makeService({ store })
  const http = new HttpApi(service, { internalKey: INTERNAL })
  const started = await call(http, 'POST', '/api/streaming/start', {
    key: INTERNAL,
    body: { agentId: 'agent_hook', platform: 'twitch', streamKey: STREAM_KEY },
  })
  const { egressOf, egressWebhook } = await import('./helpers.mjs')
  const egressId = await egressOf(store, started.json.sessionId)
  const { body, authorization } = await egressWebhook('egress_updated', egressId, 'EGRESS_ACTIVE')
  const hook = await http.handle({
    method: 'POST',
    url: '/api/webhooks/livekit',
    headers: [['content-type', 'application/webhook+json'], ['authorization', authorization]],
    body: Buffer.from(body),
  })
  assert.equal(hook.status, 200, hook.body?.toString())
  assert.equal(JSON.parse(hook.body.toString()).applied, true)
  const status = await call(http, 'GET', `/api/streaming/status?sessionId=${started.json.sessionId}`, { key: INTERNAL })
  assert.equal(status.json.status, 'live')
  const forged = await http.handle({
    method: 'POST',
    url: '/api/webhooks/livekit',
    headers: [['content-type', 'application/webhook+json'], ['authorization', authorization]],
    body: Buffer.from(body.replace('EGRESS_ACTIVE', 'EGRESS_FAILED')),
  })
  assert.equal(forged.status, 401)
})

test("the host's own agent keys: a lookup function, sync or async, that may refuse or fail", async () => {
  const { service } = makeService()
  const appKey = 'ltcg_KeyFromTheAppsOwnTable0123456789XYZ'
  const asked = []
  const lookup = async (key) => {
    asked.push(key)
    if (key === 'ltcg_LookupThatThrows000000000000000000') throw new Error('the table is down')
    return key === appKey ? 'agent_from_table' : null
  }
  // The lookup alone is a credential.
  const http = new HttpApi(service, {}, lookup)
  const started = await call(http, 'POST', '/api/streaming/start', {
    key: appKey,
    body: { platform: 'twitch', streamKey: STREAM_KEY },
  })
  assert.equal(started.status, 200, started.text)
  const status = await call(http, 'GET', `/api/streaming/status?sessionId=${started.json.sessionId}`, { key: appKey })
  assert.equal(status.json.entityId, 'agent_from_table')
  const refused = await call(http, 'GET', '/api/streaming/sessions', { key: 'ltcg_NotInTheTable000000000000000000000' })
  assert.deepEqual([refused.status, refused.json.code], [401, 'UNAUTHORIZED'])
  const failed = await call(http, 'GET', '/api/streaming/sessions', { key: 'ltcg_LookupThatThrows000000000000000000' })
  assert.equal(failed.json.code, 'EXTERNAL')
  assert.match(failed.json.error, /agent-key lookup failed/)
  assert.ok(!failed.text.includes('ltcg_LookupThatThrows'), failed.text)
  const other = await call(http, 'GET', '/api/streaming/sessions', { key: 'not-an-agent-key-at-all-000' })
  assert.equal(other.status, 401)
  assert.deepEqual(asked, [appKey, appKey, 'ltcg_NotInTheTable000000000000000000000', 'ltcg_LookupThatThrows000000000000000000'])

  // A plain function works as well; something not a function is refused.
  const sync = new HttpApi(makeService().service, {}, (key) => (key === appKey ? 'agent_sync' : undefined))
  const mine = await call(sync, 'GET', '/api/streaming/sessions', { key: appKey })
  assert.equal(mine.status, 200, mine.text)
  const notAFunction = throwsWith(() => new HttpApi(makeService().service, {}, 'not a function'), 'INVALID_INPUT')
  assert.equal(notAFunction.field, 'agentKeyLookup')
})
