// AgentKeys: agents' API keys kept in any store as hashes, accepted by HttpApi until revoked.
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

import { runSessionStoreConformance } from '@ltcg/streaming/testing'

import { makeService, rejectsWith, streaming, throwsWith } from './helpers.mjs'
import { KeyedMapStore, MapStore, asyncStore } from './map-store.mjs'

const { AgentKeys, HttpApi, MemoryStore, SqliteStore } = streaming
const STREAM_KEY = 'live_123456789_abcdefghijklmnop'

async function startAs(http, key) {
  const answer = await http.handle({
    method: 'POST',
    url: '/api/streaming/start',
    headers: [['authorization', `Bearer ${key}`], ['content-type', 'application/json']],
    body: Buffer.from(JSON.stringify({ platform: 'twitch', streamKey: STREAM_KEY })),
  })
  return { status: answer.status, json: JSON.parse(answer.body.toString('utf8')) }
}

for (const [name, open] of [
  ['MemoryStore', async () => new MemoryStore()],
  ['SqliteStore', async () => SqliteStore.open(join(mkdtempSync(join(tmpdir(), 'ltcg-keys-')), 'keys.db'))],
  ['a JavaScript store', async () => asyncStore(new KeyedMapStore())],
]) {
  test(`${name}: a key is made once, accepted by HttpApi as its agent, refused once revoked`, async () => {
    const store = await open()
    const keys = new AgentKeys(store)
    const made = await keys.create('agent_keyed', 'laptop')
    assert.match(made.key, /^ltcg_[0-9a-z]{32}$/)
    assert.deepEqual(Object.keys(made.record).sort(), ['agentId', 'createdAt', 'label', 'prefix', 'revokedAt'])
    assert.deepEqual([made.record.agentId, made.record.label, made.record.revokedAt], ['agent_keyed', 'laptop', null])
    assert.equal(made.record.prefix, made.key.slice(0, 12))
    assert.equal(await keys.verify(made.key), 'agent_keyed')
    const forged = made.key.slice(0, -1) + (made.key.endsWith('x') ? 'y' : 'x')
    assert.equal(await keys.verify(forged), null)

    const { service } = makeService({ store })
    const http = new HttpApi(service, {}, keys)
    const started = await startAs(http, made.key)
    assert.equal(started.status, 200, JSON.stringify(started.json))
    assert.equal((await service.getStatus(streaming.Actor.internal(), started.json.sessionId)).entityId, 'agent_keyed')

    const revoked = await keys.revoke(made.record.prefix)
    assert.equal(typeof revoked.revokedAt, 'number')
    assert.equal(await keys.verify(made.key), null)
    const refused = await startAs(http, made.key)
    assert.deepEqual([refused.status, refused.json.code], [401, 'UNAUTHORIZED'])
    const listed = await keys.list('agent_keyed')
    assert.deepEqual(listed.map((k) => [k.prefix, k.revokedAt]), [[made.record.prefix, revoked.revokedAt]])
    assert.ok(!JSON.stringify(listed).includes('argon2'), 'no hash is handed out')
    await rejectsWith(keys.revoke('ltcg_zzzzzzz'), 'NOT_FOUND')
    await rejectsWith(keys.create('not an agent id!'), 'INVALID_INPUT')
    if (store.close) await store.close()
  })
}

test('a JavaScript store with the agent-key methods passes the agent_keys check too', async () => {
  const report = await runSessionStoreConformance(() => asyncStore(new KeyedMapStore()))
  assert.deepEqual(report.failures, [])
  assert.equal(report.checks.at(-1), 'agent_keys')
  const plain = await runSessionStoreConformance(() => new MapStore())
  assert.ok(!plain.checks.includes('agent_keys'))
  // A store that keeps revocations wrong fails it.
  class Forgetful extends KeyedMapStore {
    revokeAgentKey(prefix, nowMs) {
      const key = this.agentKeys.get(prefix)
      if (key) key.revokedAt = nowMs
      return key ? { ...key } : null
    }
  }
  const broken = await runSessionStoreConformance(() => new Forgetful())
  assert.deepEqual(broken.failures.map((f) => f.check), ['agent_keys'])
  assert.match(broken.failures[0].failure, /second revocation/)
})

test('a store without the agent-key methods, or with only some, is refused naming them', () => {
  const none = throwsWith(() => new AgentKeys(new MapStore()), 'INVALID_INPUT')
  assert.equal(none.field, 'store')
  assert.match(none.message, /keeps no agent keys: it lacks insertAgentKey, agentKey, revokeAgentKey, listAgentKeys/)
  const partial = new KeyedMapStore()
  partial.listAgentKeys = undefined
  const some = throwsWith(() => new AgentKeys(partial), 'INVALID_INPUT')
  assert.match(some.message, /has some of the agent-key methods but lacks listAgentKeys/)
})
