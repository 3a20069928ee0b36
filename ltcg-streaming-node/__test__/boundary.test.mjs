// The core's one boundary, seen from JavaScript: the shared table of bad inputs, and plain
// arguments of the wrong kind, which reject with the library's error (never a synchronous napi
// throw), and results that are public views only.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { fixture, makeService, rejectsWith, streaming } from './helpers.mjs'

const { Actor } = streaming
const camel = (snake) => snake.replace(/_([a-z])/g, (_, c) => c.toUpperCase())

test('every bad input of the shared table is refused with the same code and field, quoting nothing', async () => {
  const { service } = makeService()
  const { cases } = fixture('bad_inputs')
  assert.ok(cases.length >= 15)
  for (const c of cases) {
    const error = await rejectsWith(service[camel(c.method)](Actor.internal(), c.input), 'INVALID_INPUT')
    assert.equal(error.field, c.field === '<whole>' ? 'request' : c.field, c.name)
    if (c.secret) assert.ok(!error.message.includes(c.secret), `${c.name}: ${error.message}`)
  }
})

test('plain arguments of the wrong kind reject with INVALID_INPUT instead of throwing', async () => {
  const { service } = makeService()
  const agent = Actor.agent('agent_b')
  const { sessionId } = await service.startStream(agent, { platform: 'twitch', streamKey: 'live_ok_key' })
  const cases = [
    [() => service.updateViewerCount(agent, sessionId, '5'), 'viewers'],
    [() => service.updateViewerCount(agent, sessionId, -1), 'viewers'],
    [() => service.updateViewerCount(agent, sessionId, 1.5), 'viewers'],
    [() => service.getStatus({}, sessionId), 'actor'],
    [() => service.getStatus(agent, 42), 'sessionId'],
    [() => service.getStatus(agent), 'sessionId'],
    [() => service.startStream(agent, undefined), 'platform'],
    [() => service.startStream(agent, () => 1), 'request'],
    [() => service.startStream(agent, 'twitch'), 'request'],
    [() => service.recentActivity(agent, sessionId, 'gossip'), 'kind'],
    [() => service.recentActivity(agent, sessionId, 'event', 101), 'limit'],
    [() => service.linkLobby(agent, sessionId, 7n), 'lobbyId'],
    [() => service.onGameStarted(agent, null, 'lobby_1'), 'agentId'],
    [() => service.overlaySnapshot(sessionId, Symbol('t')), 'token'],
  ]
  for (const [call, field] of cases) {
    let promise
    assert.doesNotThrow(() => {
      promise = call()
    }, `${call}`)
    assert.ok(promise instanceof Promise, `${call}`)
    const error = await rejectsWith(promise, 'INVALID_INPUT')
    assert.equal(error.field, field, `${call}: ${error.message}`)
  }
  // Rejections can be caught with .catch(), as a route handler does.
  const code = await service.updateViewerCount(agent, sessionId, '5').catch((e) => e.code)
  assert.equal(code, 'INVALID_INPUT')
})

test('results are public views: no ciphertext, no stream key, no record version', async () => {
  const { service } = makeService()
  const agent = Actor.agent('agent_v')
  const started = await service.startStream(agent, {
    platform: 'twitch',
    streamKey: 'live_primary_secret_key',
    destinations: [{ platform: 'kick', streamKey: 'sk_kick_secret_1' }],
  })
  const { sessionId } = started
  const outputs = [
    started,
    await service.getStatus(agent, sessionId),
    await service.linkLobby(agent, sessionId, 'lobby_1'),
    await service.updateViewerCount(agent, sessionId, 3),
    await service.listSessions(agent),
    await service.stopStream(agent, { sessionId }),
  ]
  const walk = (value) => {
    if (Array.isArray(value)) return value.forEach(walk)
    if (value && typeof value === 'object') {
      for (const key of ['encryptedUrl', 'encryptedKey', 'version']) assert.ok(!(key in value), JSON.stringify(value))
      return Object.values(value).forEach(walk)
    }
    if (typeof value === 'string') assert.doesNotMatch(value, /^[0-9a-f]{8,}:[0-9a-f]{8,}:[0-9a-f]{8,}$/)
  }
  for (const output of outputs) {
    walk(output)
    const text = JSON.stringify(output)
    assert.ok(!text.includes('live_primary_secret_key') && !text.includes('sk_kick_secret_1'), text)
  }
  assert.equal(outputs[3].viewerCount, 3)
})
