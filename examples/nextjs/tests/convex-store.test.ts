// The library's store conformance suite against the Convex functions, on convex-test's
// in-memory Convex backend; and two concurrent starts for one entity through a service.
import { Actor, AgentKeys, MemoryEgress, StreamingConfig, StreamingService } from '@ltcg/streaming'
import { runSessionStoreConformance } from '@ltcg/streaming/testing'
import { convexTest } from 'convex-test'
import { expect, test } from 'vitest'

import schema from '../convex/schema'
import { ConvexSessionStore } from '../lib/convex-store'

const modules = import.meta.glob('../convex/**/*.ts')
const SECRET = 'convex-store-secret-for-the-tests-0123456789'
process.env.STREAMING_CONVEX_SECRET = SECRET
const fresh = () => new ConvexSessionStore(convexTest(schema, modules), SECRET)

test('the Convex functions pass every check of the store conformance suite', async () => {
  const { checks, failures } = await runSessionStoreConformance(fresh)
  expect(failures).toEqual([])
  expect(checks.length).toBe(24)
  expect(checks.at(-1)).toBe('agent_keys')
}, 120_000)

test('two concurrent starts for one entity make one session', async () => {
  const config = StreamingConfig.fromEnv({
    STREAM_KEY_ENCRYPTION_KEY: '6457ed47ba47dc9dccb72b09f27843b717aed4fcb909b4a7472fff3c46733e23',
    STREAMING_JWT_SECRET: 'convex-test-overlay-secret-0123456789',
    NEXT_PUBLIC_APP_URL: 'https://lunchtable.test',
  })
  const store = fresh()
  const service = new StreamingService(config, { store, egress: new MemoryEgress(), options: { rateLimits: false } })
  const start = () =>
    service.startStream(Actor.internal(), { agentId: 'agent_1', platform: 'twitch', streamKey: 'live_123456789_abcdefghijklmnop' })
  const [a, b] = await Promise.all([start(), start()])
  expect(a.sessionId).toBe(b.sessionId)
  expect([a.reused, b.reused].sort()).toEqual([false, true])
  const page = await store.listSessions({
    entity: { streamType: 'agent', entityId: 'agent_1' },
    status: null, activeOnly: false, platform: null, createdFrom: null, createdBefore: null, cursor: null, limit: 10,
  } as never)
  expect(page.sessions).toHaveLength(1)
})

test('the functions refuse a caller without the store secret', async () => {
  const backend = convexTest(schema, modules)
  const stranger = new ConvexSessionStore(backend, 'not-the-secret-but-just-as-long-0123456789')
  await expect(stranger.getSession('ses_x')).rejects.toThrow(/unauthorized/)
  await expect(stranger.claimEvent('EV_1', 1)).rejects.toThrow(/unauthorized/)
  const owner = new ConvexSessionStore(backend, SECRET)
  expect(await owner.claimEvent('EV_1', 1)).toBe(true)
})

test('agent keys live in the deployment as hashes: made, accepted, revoked', async () => {
  const store = fresh()
  const keys = new AgentKeys(store)
  const made = await keys.create('agent_convex', 'ci')
  expect(await keys.verify(made.key)).toBe('agent_convex')
  const stored = await store.agentKey(made.record.prefix)
  expect(stored?.hash).toMatch(/^\$argon2id\$/)
  expect(JSON.stringify(stored)).not.toContain(made.key)
  await keys.revoke(made.record.prefix)
  expect(await keys.verify(made.key)).toBeNull()
  expect((await keys.list('agent_convex')).map((k) => k.agentId)).toEqual(['agent_convex'])
})
