// The core's SQL stores through the binding: a service on SQLite (a file) and on PostgreSQL
// (the server in LTCG_TEST_POSTGRES_URL; scripts/test-node starts a throw-away one).
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

import { makeService, rejectsWith, streaming } from './helpers.mjs'

const { Actor, PostgresStore, SqliteStore } = streaming

/** Starts and stops a stream on `store`; returns the session id. */
async function lifecycle(store) {
  const { service } = makeService({ store })
  const user = Actor.user('user_sql')
  const started = await service.startStream(user, { platform: 'youtube', streamKey: 'yt-sql-key' })
  await service.recordEvent(user, { gameId: 'g', turnNumber: 1, eventType: 'turn_started', description: 'Turn 1' })
  await service.configurePlatform(user, { platform: 'twitch', streamKey: 'live_sql' })
  const stopped = await service.stopStream(user, {})
  assert.deepEqual(stopped.stoppedSessionIds, [started.sessionId])
  assert.equal(stopped.stats.eventsRecorded, 1)
  return started.sessionId
}

test('SqliteStore: a service on a file, read back after reopening', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltcg-node-sqlite-'))
  try {
    const path = join(dir, 'streams.db')
    const store = await SqliteStore.open(path)
    const sessionId = await lifecycle(store)
    await store.close()
    const reopened = await SqliteStore.open(path)
    const { service } = makeService({ store: reopened })
    const status = await service.getStatus(Actor.internal(), sessionId)
    assert.deepEqual([status.status, status.eventsRecorded, status.platform], ['ended', 1, 'youtube'])
    assert.equal((await service.getPlatformConfig(Actor.user('user_sql'))).hasStreamKey, true)
    await reopened.close()
    await rejectsWith(service.getStatus(Actor.internal(), sessionId), 'STORE')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

const postgresUrl = process.env.LTCG_TEST_POSTGRES_URL
const skip = postgresUrl ? false : 'LTCG_TEST_POSTGRES_URL is not set'
if (!postgresUrl && process.env.CI === 'true') throw new Error('LTCG_TEST_POSTGRES_URL is required in CI')

test('PostgresStore: a service on PostgreSQL, in its own schema', { skip }, async () => {
  const schema = `node_${process.pid}_${Date.now()}`
  const store = await PostgresStore.connect(postgresUrl, schema)
  try {
    const sessionId = await lifecycle(store)
    const { service } = makeService({ store })
    assert.equal((await service.getStatus(Actor.internal(), sessionId)).status, 'ended')
  } finally {
    await store.close()
  }
  await rejectsWith(PostgresStore.connect(postgresUrl, 'Not-A-Schema'), 'INVALID_INPUT')
  const refused = await rejectsWith(PostgresStore.connect('postgres://user:hunter2@127.0.0.1:1/db'), 'STORE')
  assert.ok(!refused.message.includes('hunter2'))
})
