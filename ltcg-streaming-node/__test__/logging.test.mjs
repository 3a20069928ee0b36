// setLogger: the library's log records reach a JavaScript logger, without secrets.
import assert from 'node:assert/strict'
import { setImmediate as tick } from 'node:timers/promises'
import { test } from 'node:test'

import { makeService, streaming } from './helpers.mjs'

const { Actor, setLogger } = streaming
const STREAM_KEY = 'live_123456789_abcdefghijklmnop'

async function settle() {
  for (let i = 0; i < 20; i++) await tick()
}

test('the library logs to the logger the host sets, and stops when it is unset', async () => {
  const records = []
  setLogger((record) => records.push(record))
  const { service } = makeService()
  const started = await service.startStream(Actor.internal(), { agentId: 'agent_logs', platform: 'twitch', streamKey: STREAM_KEY })
  await settle()
  const created = records.find((r) => r.message.includes('session created'))
  assert.ok(created, JSON.stringify(records))
  assert.equal(created.level, 'info')
  assert.match(created.target, /^ltcg_streaming_core::/)
  assert.ok(created.message.includes(started.sessionId))
  assert.ok(records.every((r) => !r.message.includes(STREAM_KEY)))
  assert.ok(records.every((r) => ['error', 'warn', 'info'].includes(r.level)))

  setLogger(null)
  const before = records.length
  await service.startStream(Actor.internal(), { agentId: 'agent_quiet', platform: 'twitch', streamKey: STREAM_KEY })
  await settle()
  assert.equal(records.length, before)
})
