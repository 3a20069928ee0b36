// The whole lifecycle through the binding, on the in-memory store and egress.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { egressOf, egressWebhook, makeService, rejectsWith, streaming } from './helpers.mjs'
import { MapStore, asyncStore } from './map-store.mjs'

const { Actor } = streaming
const internal = Actor.internal()

test('a stream from start to stop: webhooks, activity, viewers, lobby, destinations, stats', async () => {
  // A JS store, so the test can read the (random) egress id the session got.
  const store = new MapStore()
  const { service, egress } = makeService({ store })
  const agent = Actor.agent('agent_1')
  const started = await service.startStream(agent, {
    platform: 'twitch',
    streamKey: 'live_123456789_abcdefghijklmnop',
    destinations: [{ platform: 'youtube', streamKey: 'yt-key-0001' }],
    streamTitle: 'Ranked climb',
    overlayConfig: { theme: 'light' },
  })
  assert.equal(started.success, true)
  assert.equal(started.status, 'pending')
  assert.equal(started.reused, false)
  const overlay = new URL(started.overlayUrl)
  assert.equal(overlay.origin + overlay.pathname, 'https://lunchtable.test/stream/overlay')
  assert.equal(overlay.searchParams.get('sessionId'), started.sessionId)
  const claims = service.verifyOverlayToken(overlay.searchParams.get('token'), started.sessionId)
  assert.deepEqual([claims.streamType, claims.entityId, claims.type], ['agent', 'agent_1', 'overlay_access'])

  const egressId = await egressOf(store, started.sessionId)
  assert.deepEqual(egress.outputs(egressId), ['rtmps://live.twitch.tv/app/{liv...nop}', 'rtmps://a.rtmps.youtube.com:443/live2/{yt-...001}'])
  const again = await service.startStream(agent, { platform: 'twitch', streamKey: 'live_123456789_abcdefghijklmnop' })
  assert.deepEqual([again.sessionId, again.reused], [started.sessionId, true])
  await rejectsWith(service.startStream(agent, { platform: 'kick', streamKey: 'k' }), 'CONFLICT')

  egress.setStatus(egressId, 'EGRESS_ACTIVE')
  const active = await egressWebhook('egress_updated', egressId, 'EGRESS_ACTIVE')
  const outcome = await service.handleWebhook(active.body, active.authorization)
  assert.deepEqual(
    { applied: outcome.applied, duplicate: outcome.duplicate, sessionId: outcome.sessionId },
    { applied: true, duplicate: false, sessionId: started.sessionId },
  )
  assert.equal((await service.handleWebhook(Buffer.from(active.body), active.authorization)).duplicate, true)
  await rejectsWith(service.handleWebhook(active.body.replace('EGRESS', 'EGRESS '), active.authorization), 'UNAUTHORIZED')
  const unknown = await egressWebhook('egress_updated', 'EG_unknown', 'EGRESS_ACTIVE')
  assert.equal((await service.handleWebhook(unknown.body, unknown.authorization)).applied, false)

  let status = await service.getStatus(agent, started.sessionId)
  assert.equal(status.status, 'live')
  assert.equal(status.streamTitle, 'Ranked climb')
  assert.equal(status.overlayConfig.theme, 'light')
  assert.ok(status.startedAt > 0)
  assert.ok(!JSON.stringify(status).includes('abcdefghijklmnop'))

  const decision = { gameId: 'g1', turnNumber: 3, phase: 'main', action: 'attack', reasoning: 'lethal', parameters: { target: 'face' } }
  assert.equal((await service.recordDecision(agent, decision)).decisionsLogged, 1)
  const event = { gameId: 'g1', turnNumber: 3, eventType: 'card_played', description: 'Dragon summoned', lobbyId: 'lobby_1' }
  assert.equal((await service.recordEvent(agent, event)).eventsRecorded, 1)
  const [recent] = await service.recentActivity(agent, started.sessionId, 'decision')
  assert.equal(recent.kind, 'decision')
  assert.deepEqual(recent.data, { ...decision })
  assert.equal((await service.recentActivity(agent, started.sessionId, 'event', 5))[0].data.eventType, 'card_played')

  for (const viewers of [5, 9, 3]) await service.updateViewerCount(agent, started.sessionId, viewers)
  status = await service.linkLobby(agent, started.sessionId, 'lobby_42')
  assert.deepEqual([status.viewerCount, status.peakViewerCount, status.currentLobbyId], [3, 9, 'lobby_42'])
  assert.equal((await service.linkLobby(agent, started.sessionId, null)).currentLobbyId, null)

  const youtube = status.destinations.find((d) => d.platform === 'youtube')
  const updated = await service.updateDestinations(agent, {
    sessionId: started.sessionId,
    add: [{ platform: 'kick', streamKey: 'kick-key-1' }],
    remove: [youtube.id],
  })
  assert.deepEqual(updated.removed, [youtube.id])
  assert.equal(updated.added[0].platform, 'kick')
  assert.equal(egress.outputs(egressId).length, 2)

  const url = new URL(await service.overlayUrl(agent, started.sessionId))
  const token = url.searchParams.get('token')
  assert.equal(service.verifyOverlayToken(token).sessionId, started.sessionId)
  const snapshot = await service.overlaySnapshot(started.sessionId, token)
  assert.deepEqual([snapshot.status, snapshot.viewerCount, snapshot.entityName], ['live', 3, 'agent_1'])
  assert.deepEqual(snapshot.decisions, [decision])
  assert.equal(snapshot.events[0].description, 'Dragon summoned')
  await rejectsWith(service.overlaySnapshot(started.sessionId, 'forged.token.value'), 'UNAUTHORIZED')
  const other = new URL((await service.startStream(Actor.agent('agent_2'), { platform: 'twitch', streamKey: 'k2' })).overlayUrl)
  await rejectsWith(service.overlaySnapshot(started.sessionId, other.searchParams.get('token')), 'UNAUTHORIZED')

  const listed = await service.listSessions(internal, { active: true, streamType: 'agent', entityId: 'agent_1' })
  assert.deepEqual([listed.count, listed.sessions[0].sessionId, listed.nextCursor], [1, started.sessionId, null])
  const pages = await service.listSessions(internal, { limit: 1 })
  assert.equal(pages.count, 1)
  assert.equal((await service.listSessions(internal, { limit: 1, cursor: pages.nextCursor })).count, 1)
  await rejectsWith(service.listSessions(Actor.user('u1'), { streamType: 'agent', entityId: 'agent_1' }), 'FORBIDDEN')
  await rejectsWith(service.stopStream(Actor.agent('agent_2'), { sessionId: started.sessionId }), 'FORBIDDEN')

  const stopped = await service.stopStream(agent, { sessionId: started.sessionId, reason: 'manual' })
  assert.deepEqual(stopped.stoppedSessionIds, [started.sessionId])
  assert.equal(stopped.stats.decisionsLogged, 1)
  assert.equal(stopped.stats.eventsRecorded, 1)
  assert.equal(stopped.stats.peakViewerCount, 9)
  assert.ok(stopped.stats.duration >= 0)
  assert.equal(egress.status(egressId), 'EGRESS_COMPLETE')
  status = await service.getStatus(internal, started.sessionId)
  assert.deepEqual([status.status, status.endReason], ['ended', 'manual'])
  assert.equal((await service.stopStream(agent, { sessionId: started.sessionId })).alreadyEnded, true)
})

test('stored credentials: configure, read without the key, auto-start on a game, delete', async () => {
  const { service } = makeService()
  const agent = Actor.agent('agent_auto')
  const view = await service.configurePlatform(agent, { platform: 'twitch', streamKey: 'live_stored_key_1', autoStart: true })
  assert.deepEqual(
    { ...view, updatedAt: 0 },
    { streamType: 'agent', entityId: 'agent_auto', platform: 'twitch', hasStreamKey: true, customRtmpUrl: null, autoStart: true, channel: null, updatedAt: 0 },
  )
  assert.deepEqual(await service.getPlatformConfig(internal, { agentId: 'agent_auto' }), view)
  assert.equal((await service.onGameStarted(Actor.agent('nobody'), 'nobody', 'lobby_1')).reason, 'not_configured')
  const auto = await service.onGameStarted(internal, 'agent_auto', 'lobby_7')
  assert.deepEqual([auto.started, auto.reason], [true, 'started'])
  const status = await service.getStatus(agent, auto.sessionId)
  assert.equal(status.currentLobbyId, 'lobby_7')
  assert.equal((await service.onGameStarted(agent, 'agent_auto', 'lobby_8')).reason, 'already_active_linked_to_lobby')
  const fromStored = await service.startStream(agent, { useStoredCredentials: true })
  assert.equal(fromStored.sessionId, auto.sessionId)
  const report = await service.reconcile(internal)
  assert.deepEqual(report.errors, [])
  await rejectsWith(service.reconcile(agent), 'FORBIDDEN')
  assert.equal(await service.deletePlatformConfig(agent), true)
  assert.equal(await service.deletePlatformConfig(agent), false)
  await rejectsWith(service.getPlatformConfig(agent), 'NOT_FOUND')
})

for (const [name, store] of [
  ['MemoryStore', () => new streaming.MemoryStore()],
  ['a JS store', () => asyncStore(new MapStore())],
]) {
  test(`200 concurrent startStream calls on ${name} resolve correctly`, async () => {
    const { service, egress } = makeService({ store: store(), options: { rateLimits: false } })
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        service.startStream(Actor.agent(`agent_${i}`), { platform: 'twitch', streamKey: `live_key_${i}` }),
      ),
    )
    assert.equal(new Set(results.map((r) => r.sessionId)).size, 200)
    assert.ok(results.every((r) => r.success && r.status === 'pending' && !r.reused))
    assert.equal(egress.started, 200)
    const listed = await service.listSessions(internal, { active: true, limit: 500 })
    assert.equal(listed.count, 200)
    const owners = new Set(listed.sessions.map((s) => s.entityId))
    assert.equal(owners.size, 200)
  })
}

test('concurrent starts for one agent create one session', async () => {
  const { service, egress } = makeService({ store: asyncStore(new MapStore()) })
  const agent = Actor.agent('agent_race')
  const results = await Promise.all(
    Array.from({ length: 20 }, () => service.startStream(agent, { platform: 'twitch', streamKey: 'live_race' })),
  )
  assert.equal(new Set(results.map((r) => r.sessionId)).size, 1)
  assert.equal(results.filter((r) => !r.reused).length, 1)
  assert.equal(egress.started, 1)
})

test('status reads: any caller by default, the owner only with statusReads owner', async () => {
  const owner = Actor.agent('a.b+c@example.com')
  const other = Actor.agent('agent_other')
  const open = makeService()
  const s1 = await open.service.startStream(owner, { platform: 'twitch', streamKey: 'live_123456789_abcdefghijklmnop' })
  assert.equal((await open.service.getStatus(other, s1.sessionId)).sessionId, s1.sessionId)
  const closed = makeService({ options: { statusReads: 'owner' } })
  const s2 = await closed.service.startStream(owner, { platform: 'twitch', streamKey: 'live_123456789_abcdefghijklmnop' })
  await rejectsWith(closed.service.getStatus(other, s2.sessionId), 'NOT_FOUND')
  assert.equal((await closed.service.getStatus(owner, s2.sessionId)).sessionId, s2.sessionId)
})
