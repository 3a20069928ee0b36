// index.d.ts is precise: real values from every call are checked against its declarations by
// `tsc --strict` (an object literal with a field the type lacks, a missing field, a null where
// the type says absent, or a string outside a union all fail), and it contains no `any`.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { JWT_SECRET, egressOf, egressWebhook, fixture, makeService, streaming } from './helpers.mjs'
import { MapStore, asyncStore } from './map-store.mjs'

const { Actor, OverlayTokens, WebhookVerifier } = streaming
const packageDir = fileURLToPath(new URL('..', import.meta.url))

test('index.d.ts declares no `any`', () => {
  const dts = readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8')
  const code = dts.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '')
  assert.deepEqual(code.match(/\bany\b/g), null)
})

/** Runs the service and records what it returns and what a JS store receives. */
async function collect() {
  const seen = {}
  const store = asyncStore(new MapStore())
  for (const [name, arg] of [
    ['insertSession', 'StreamSession'],
    ['activeSession', 'Entity'],
    ['listSessions', 'SessionQuery'],
    ['recordActivity', 'Activity'],
    ['putCredential', 'PlatformCredential'],
  ]) {
    const inner = store[name]
    store[name] = (...args) => {
      seen[arg] = args[name === 'recordActivity' ? 1 : 0]
      return inner(...args)
    }
  }
  const { service, egress } = makeService({ store })
  const agent = Actor.agent('agent_types')
  const values = []
  const add = (type, value) => values.push([type, value])
  const started = await service.startStream(agent, {
    platform: 'twitch',
    streamKey: 'live_types',
    destinations: [{ platform: 'youtube', streamKey: 'yt' }],
    overlayConfig: { webcamPosition: 'top-left', voiceVolume: 0.5 },
  })
  add('StartStreamResponse', started)
  const hook = await egressWebhook('egress_updated', await egressOf(store, started.sessionId), 'EGRESS_ACTIVE')
  add('WebhookOutcome', await service.handleWebhook(hook.body, hook.authorization))
  add('RecordedActivity', await service.recordDecision(agent, { gameId: 'g', turnNumber: 1, phase: 'p', action: 'a', reasoning: 'r', parameters: { x: [1] } }))
  await service.recordEvent(agent, { gameId: 'g', turnNumber: 1, eventType: 'card_played', description: 'd', playerUsername: 'p' })
  add('Activity[]', await service.recentActivity(agent, started.sessionId, 'decision'))
  add('Activity[]', await service.recentActivity(agent, started.sessionId, 'event'))
  add('SessionStatusView', await service.updateViewerCount(agent, started.sessionId, 4))
  const status = await service.getStatus(agent, started.sessionId)
  add('SessionStatusView', status)
  add(
    'UpdateDestinationsResponse',
    await service.updateDestinations(agent, { sessionId: started.sessionId, remove: [status.destinations[1].id] }),
  )
  add('SessionList', await service.listSessions(Actor.internal(), { limit: 1 }))
  const token = new URL(started.overlayUrl).searchParams.get('token')
  add('OverlaySnapshot', await service.overlaySnapshot(started.sessionId, token))
  add('StopStreamResponse', await service.stopStream(agent, {}))
  add('SessionStatusView', await service.getStatus(agent, started.sessionId))
  add('PlatformConfigView', await service.configurePlatform(agent, { platform: 'custom', streamKey: 'k', customRtmpUrl: 'rtmp://203.0.113.10/app', autoStart: true }))
  const autoStarted = await service.onGameStarted(Actor.internal(), 'agent_types', 'lobby_1')
  add('AutoStartOutcome', autoStarted)
  egress.setStatus(await egressOf(store, autoStarted.sessionId), 'EGRESS_COMPLETE')
  add('ReconcileReport', await service.reconcile(Actor.internal()))
  add('OverlayClaims', new OverlayTokens(JWT_SECRET).verify(new OverlayTokens(JWT_SECRET).issue('s', 'user', 'u')))
  const fx = fixture('livekit_webhooks')
  const verifier = new WebhookVerifier(fx.apiKey, fx.apiSecret)
  for (const { body, authorization } of fx.valid) add('EgressEvent', verifier.verify(body, authorization, fx.verifyAt))
  add('CostEstimate', streaming.estimateCost(1))
  add('OverlayConfig', streaming.defaultOverlayConfig('user'))
  add('ErrorCode[]', streaming.errorCodes())
  for (const [type, value] of Object.entries(seen)) add(type, value)
  return values
}

test('values from every call match the declarations in index.d.ts', async () => {
  const values = await collect()
  const dir = `${packageDir}node_modules/.cache/ltcg-types-check`
  mkdirSync(dir, { recursive: true })
  const lines = values.map(([type, value], i) => {
    const annotation = type.endsWith('[]') ? `S.${type.slice(0, -2)}[]` : `S.${type}`
    return `export const v${i}: ${annotation} = ${JSON.stringify(value)}`
  })
  writeFileSync(`${dir}/check.ts`, [`import type * as S from '${packageDir}index'`, ...lines].join('\n') + '\n')
  const tsc = `${packageDir}node_modules/typescript/bin/tsc`
  const args = ['--noEmit', '--strict', '--exactOptionalPropertyTypes', '--target', 'es2022', '--module', 'commonjs', '--types', 'node', `${dir}/check.ts`]
  try {
    execFileSync(process.execPath, [tsc, ...args], { cwd: packageDir, encoding: 'utf8' })
  } catch (error) {
    assert.fail(`index.d.ts does not describe the values:\n${error.stdout}`)
  }
  assert.ok(values.length > 25)
})
