// `Client`: the same calls embedded and over HTTP against the reference server.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import { makeService, rejectsWith, streaming, throwsWith } from './helpers.mjs'
import { AGENT_ID, AGENT_KEY, INTERNAL_KEY, freePort, serverBinary, startServer } from './reference-server.mjs'

const { Actor, Client, StreamingService } = streaming
const STREAM_KEY = 'live_123456789_abcdefghijklmnop'
const DECISION = { gameId: 'g1', turnNumber: 1, phase: 'main', action: 'attack', reasoning: 'open board' }

const binary = serverBinary()
let server
before(async () => {
  if (binary) server = await startServer(binary)
})
after(async () => {
  await server?.stop()
})

test('the client has every method of the service but the webhook and overlay ones', () => {
  const serviceMethods = Object.getOwnPropertyNames(StreamingService.prototype).filter(
    (name) => name !== 'constructor' && !/webhook|overlay(Snapshot|Token)|verify/i.test(name),
  )
  const missing = serviceMethods.filter((name) => typeof Client.prototype[name] !== 'function')
  assert.deepEqual(missing, [])
})

test('an embedded client acts as its actor', async () => {
  const { service } = makeService()
  const client = Client.embedded(service, Actor.agent('agent_1'))
  assert.equal(client.isRemote, false)
  const started = await client.startStream({ platform: 'twitch', streamKey: STREAM_KEY })
  assert.equal(started.reused, false)
  await client.recordDecision({ ...DECISION, sessionId: started.sessionId })
  const status = await client.getStatus(started.sessionId)
  assert.deepEqual(status, await service.getStatus(Actor.internal(), started.sessionId))
  assert.equal(status.entityId, 'agent_1')
  assert.equal(status.decisionsLogged, 1)
  client.close()
  await rejectsWith(client.getStatus(started.sessionId), 'CONFLICT')
})

test('a remote agent runs a stream on the reference server', { skip: !binary && 'server not built' }, async () => {
  const client = Client.connect(server.url, AGENT_KEY)
  assert.equal(client.isRemote, true)
  const started = await client.startStream({ platform: 'twitch', streamKey: STREAM_KEY })
  const id = started.sessionId
  assert.equal(started.reused, false)
  assert.equal((await client.startStream({ platform: 'twitch', streamKey: STREAM_KEY })).reused, true)
  assert.equal((await client.linkLobby(id, 'lobby_1')).currentLobbyId, 'lobby_1')
  await client.recordDecision({ ...DECISION, sessionId: id })
  await client.recordEvent({ sessionId: id, gameId: 'g1', turnNumber: 1, eventType: 'attack', description: 'Ember Drake attacks' })
  const player = (name, lifePoints) => ({ name, lifePoints, handCount: 4, deckCount: 30, graveyardCount: 0, field: [] })
  await client.updateGameState({
    lobbyId: 'lobby_1', gameId: 'g1', turnNumber: 1, phase: 'battle', activePlayer: 'host',
    host: { playerId: AGENT_ID, ...player(AGENT_ID, 8000) }, opponent: player('TidalQueen', 3100),
  })
  await client.recordMatchResult({ sessionId: id, lastMatchResult: 'win' })
  const status = await client.getStatus(id)
  assert.deepEqual([status.decisionsLogged, status.eventsRecorded], [1, 1])
  assert.equal((await client.sessionTimeline(id))[0].kind, 'created')
  assert.deepEqual((await client.listSessions({ limit: 5 })).sessions.map((s) => s.sessionId), [id])
  assert.equal((await client.stopStream({ sessionId: id })).success, true)
  assert.equal((await client.getStatus(id)).status, 'ended')
})

test('remote refusals carry the codes and details of embedded ones', { skip: !binary && 'server not built' }, async () => {
  const client = Client.connect(server.url, AGENT_KEY)
  const bad = await rejectsWith(client.startStream({ platform: 'myspace', streamKey: STREAM_KEY }), 'INVALID_INPUT')
  assert.equal(bad.field, 'platform')
  assert.ok(!bad.message.includes(STREAM_KEY))
  await rejectsWith(client.stopStream({ agentId: 'someone_else' }), 'FORBIDDEN')
  const notServed = await rejectsWith(client.overlayUrl('ses_x'), 'INVALID_INPUT')
  assert.equal(notServed.field, 'method')
  await rejectsWith(Client.connect(server.url, 'ltcg_NotAKeyAnyoneHas0000000000000').getStatus('ses_x'), 'UNAUTHORIZED')
  const summary = await Client.connect(server.url, INTERNAL_KEY).cleanup()
  assert.equal(typeof summary, 'object')
})

test('a server that is not there rejects with EXTERNAL and no key', async () => {
  const port = await freePort()
  const client = Client.connect(`http://127.0.0.1:${port}`, AGENT_KEY)
  const err = await rejectsWith(client.getStatus('ses_x'), 'EXTERNAL')
  assert.match(err.message, /could not be reached/)
  assert.ok(!err.message.includes(AGENT_KEY))
})

test('keys are not sent in clear text over a network', () => {
  const err = throwsWith(() => Client.connect('http://stream.example.com', AGENT_KEY), 'INVALID_INPUT')
  assert.equal(err.field, 'baseUrl')
  assert.equal(Client.connect('http://stream.example.com', AGENT_KEY, { allowPlainHttp: true }).isRemote, true)
})

test('a status watch follows a session to its end, woken by the service', async () => {
  const { service } = makeService()
  const client = Client.embedded(service, Actor.agent('agent_1'))
  const started = await client.startStream({ platform: 'twitch', streamKey: STREAM_KEY })
  // An hour between re-reads: each view comes because the service's write woke the watch.
  const watch = client.watchStatus(started.sessionId, 3_600_000)
  const seen = [await watch.next()]
  await client.recordDecision({ ...DECISION, sessionId: started.sessionId })
  seen.push(await watch.next())
  await client.stopStream({ sessionId: started.sessionId })
  for (let status; (status = await watch.next()) !== null; ) seen.push(status)
  assert.deepEqual(seen.map((s) => s.status), ['pending', 'pending', 'ended'])
  assert.equal(seen[1].decisionsLogged, 1)
  const direct = service.watchStatus(Actor.internal(), started.sessionId)
  assert.equal((await direct.next()).status, 'ended')
  assert.equal(await direct.next(), null)
  for (const period of [0, 0.5, -1, Number.NaN]) {
    assert.equal(throwsWith(() => client.watchStatus(started.sessionId, period), 'INVALID_INPUT').field, 'refreshMs')
  }
  const err = throwsWith(() => client.watchStatus('not a session id'), 'INVALID_INPUT')
  assert.equal(err.field, 'sessionId')
})

test('a remote status watch re-reads until the session ends', { skip: !binary && 'server not built' }, async () => {
  const client = Client.connect(server.url, AGENT_KEY)
  const started = await client.startStream({ platform: 'twitch', streamKey: STREAM_KEY })
  const watch = client.watchStatus(started.sessionId, 50)
  assert.equal((await watch.next()).status, 'pending')
  await client.stopStream({ sessionId: started.sessionId })
  assert.equal((await watch.next()).status, 'ended')
  assert.equal(await watch.next(), null)
})
