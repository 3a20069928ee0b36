// The product's flows through the binding: game state on the overlay, match results, the
// product's agent and user settings, agent decisions, cleanup and change notices.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { makeService, rejectsWith, streaming } from './helpers.mjs'
import { MapStore } from './map-store.mjs'

const { Actor } = streaming
const internal = Actor.internal()

/** Expects `INVALID_INPUT` naming `field`. */
async function invalid(promise, field) {
  const error = await rejectsWith(promise, 'INVALID_INPUT')
  assert.equal(error.field, field, error.message)
}

function gameState(lobbyId, lifePoints) {
  return {
    lobbyId, gameId: 'g1', turnNumber: 3, phase: 'battle', activePlayer: 'host',
    host: { playerId: 'agent_flow', name: 'host_name', lifePoints, field: [{ name: 'Ember Drake', attack: 1800, defense: 1200 }, { name: 'Hidden', faceDown: true }] },
    opponent: { name: 'Rival', lifePoints: 8000 },
  }
}

test('game state and match results reach the overlay; bad input names the field and writes nothing', async () => {
  const store = new MapStore()
  const { service } = makeService({ store })
  const agent = Actor.agent('agent_flow')
  const started = await service.startStream(agent, { platform: 'twitch', streamKey: 'live_flow_key_0123456789', entityName: 'Blaze', lobbyId: 'lobby_flow' })
  const updated = await service.updateGameState(agent, gameState('lobby_flow', 6400))
  assert.deepEqual([updated.success, updated.lobbyId], [true, 'lobby_flow'])
  const token = new URL(started.overlayUrl).searchParams.get('token')
  const shown = await service.overlaySnapshot(started.sessionId, token)
  assert.equal(shown.scene, 'live-game')
  assert.equal(shown.gameState.host.name, 'Blaze', 'the entity name replaces its player')
  assert.equal(shown.gameState.host.field[1].name, undefined, 'face-down cards keep no name')

  const bad = gameState('lobby_flow', 6400)
  bad.host.field[0].attack = 100000
  await invalid(service.updateGameState(agent, bad), 'host.field[0].attack')
  assert.equal(store.games.get('lobby_flow').state.host.lifePoints, 6400, 'nothing written')
  await rejectsWith(service.updateGameState(agent, gameState('lobby_other', 1)), 'FORBIDDEN')

  await invalid(service.recordMatchResult(agent, { sessionId: started.sessionId, lastMatchResult: 'victory' }), 'lastMatchResult')
  const recorded = await service.recordMatchResult(agent, { sessionId: started.sessionId, lastMatchResult: 'win', lastMatchSummary: 'Match over: victory secured.' })
  assert.equal(recorded.lastMatch.result, 'win')
  const after = await service.overlaySnapshot(started.sessionId, token)
  assert.equal(after.scene, 'match-over')
  assert.equal(after.currentLobbyId, null, 'the lobby is cleared by default')
  assert.ok(after.sceneUntil > Date.now() + 40_000, 'held for the default 45 s')
  assert.equal(await service.notifyChanged(internal, { sessionId: started.sessionId }), true)
  await rejectsWith(service.notifyChanged(agent, { sessionId: started.sessionId }), 'FORBIDDEN')
})

test('the product agent and user settings, decisions and cleanup', async () => {
  const { service } = makeService({ store: new MapStore() })
  await invalid(service.configureAgent(internal, { agentId: 'agent_cfg', platform: 'twitch', voiceVolume: 2 }), 'voiceVolume')
  await invalid(service.configureAgent(internal, { agentId: 'agent_cfg', visualMode: 'hologram', platform: 'twitch' }), 'visualMode')
  await invalid(service.configureAgent(internal, { agentId: 'agent_cfg', platform: 'custom', streamKey: 'k' }), 'rtmpUrl')
  const config = await service.configureAgent(internal, { agentId: 'agent_cfg', platform: 'twitch', streamKey: 'live_cfg_key_0123456789', voiceTrackUrl: ' https://cdn.example/v.mp3 ', voiceVolume: 0.3 })
  assert.deepEqual([config.enabled, config.hasStreamKey, config.autoStart, config.keepAlive, config.voiceTrackUrl, config.visualMode], [true, true, true, true, 'https://cdn.example/v.mp3', 'profile-picture'])
  assert.deepEqual(await service.agentStreamingConfig(Actor.agent('agent_cfg'), 'agent_cfg'), config)
  assert.ok(!JSON.stringify(config).includes('live_cfg_key'))
  await rejectsWith(service.agentStreamingConfig(Actor.agent('agent_other'), 'agent_cfg'), 'FORBIDDEN')

  const outcome = await service.onGameStarted(internal, 'agent_cfg', 'lobby_cfg')
  assert.equal(outcome.started, true)
  const session = await service.getStatus(internal, outcome.sessionId)
  assert.equal(session.overlayConfig.voiceTrackUrl, 'https://cdn.example/v.mp3', 'auto-start uses the stored voice track')
  await service.recordDecision(internal, { sessionId: outcome.sessionId, gameId: 'g1', turnNumber: 1, phase: 'main1', action: 'summon', reasoning: 'first' })
  await service.recordDecision(internal, { sessionId: outcome.sessionId, gameId: 'g2', turnNumber: 1, phase: 'main1', action: 'pass', reasoning: 'other game' })
  const decisions = await service.agentDecisions(Actor.agent('agent_cfg'), { gameId: 'g1' })
  assert.deepEqual(decisions.decisions.map((d) => d.data.action), ['summon'])

  await invalid(service.configureUser(Actor.user('u1'), { platform: 'retake', streamKey: 'k' }), 'platform')
  const user = await service.configureUser(Actor.user('u1'), { platform: 'kick', streamKey: 'sk_kick_0123456789' })
  assert.deepEqual([user.platform, user.hasStreamKey], ['kick', true])

  const cleanup = await service.cleanup(internal)
  assert.equal(cleanup.success, true)
  assert.match(cleanup.summary, /^Stopped \d+ egresses, ended \d+ sessions$/)
  await rejectsWith(service.cleanup(Actor.agent('agent_cfg')), 'FORBIDDEN')
})

test('the timeline tells what happened to a session, to its owner only', async () => {
  const store = new MapStore()
  const { service } = makeService({ store })
  const agent = Actor.agent('agent_timeline')
  const started = await service.startStream(agent, { platform: 'twitch', streamKey: 'live_timeline_0123456789' })
  await service.updateViewerCount(agent, started.sessionId, 42)
  const samples = await service.sessionViewerSamples(agent, started.sessionId)
  assert.deepEqual(samples.map((s) => [s.viewers, s.platform]), [[42, 'twitch']])
  await rejectsWith(service.sessionViewerSamples(Actor.agent('agent_other'), started.sessionId), 'FORBIDDEN')
  await service.stopStream(agent, { sessionId: started.sessionId, reason: 'manual' })
  const timeline = await service.sessionTimeline(agent, started.sessionId)
  assert.deepEqual(timeline.map((e) => [e.kind, e.status]), [
    ['created', 'initializing'], ['started', 'pending'], ['stopped', 'ended'],
  ])
  assert.equal(timeline.at(-1).cause, 'manual')
  assert.deepEqual(store.timelines.get(started.sessionId), timeline, 'kept by the JS store')
  assert.ok(!JSON.stringify(timeline).includes('live_timeline_0123456789'))
  await rejectsWith(service.sessionTimeline(Actor.agent('agent_other'), started.sessionId), 'FORBIDDEN')
})

test('analytics sum the sessions of a range per platform, for the caller only', async () => {
  const { service } = makeService({ store: new MapStore() })
  const agent = Actor.agent('agent_analytics')
  const started = await service.startStream(agent, { platform: 'kick', streamKey: 'sk_us-west-2_analytics01' })
  await service.stopStream(agent, { sessionId: started.sessionId, reason: 'manual' })
  const { createdAt } = await service.getStatus(agent, started.sessionId)
  const report = await service.analytics(agent, { since: createdAt - 1000, groupBy: 'platform' })
  assert.deepEqual(report.rows.map((r) => [r.key, r.sessions]), [['kick', 1]])
  assert.deepEqual(report.totals.endReasons, { manual: 1 })
  await rejectsWith(service.analytics(agent, { since: createdAt, streamType: 'agent', entityId: 'agent_other' }), 'FORBIDDEN')
  const err = await rejectsWith(service.analytics(internal, { since: 10, until: 5 }), 'INVALID_INPUT')
  assert.equal(err.field, 'until')
})
