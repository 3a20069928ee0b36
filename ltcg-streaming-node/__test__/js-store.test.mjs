// A store written in JavaScript is accepted wherever a store is: the core's conformance suite
// passes against Map-backed stores (async and plain methods), and a store that throws or
// answers with the wrong shape gives a clear error, never a crash.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'

import { runSessionStoreConformance } from '@ltcg/streaming/testing'

import { makeService, rejectsWith, streaming } from './helpers.mjs'
import { MapStore, asyncStore } from './map-store.mjs'

const { Actor } = streaming

async function conformance(makeStore) {
  const { checks, failures } = await runSessionStoreConformance(makeStore)
  assert.equal(checks.length, 23)
  assert.ok(checks.includes('event_ids_are_pruned'))
  assert.ok(checks.includes('concurrent_inserts_have_one_winner'))
  assert.ok(checks.includes('concurrent_updates_lose_nothing'))
  assert.deepEqual(failures, [])
}

test('the conformance suite passes against a Map-backed store with async methods', async () => {
  await conformance(() => asyncStore(new MapStore()))
})

test('the conformance suite passes against a class instance with plain methods', async () => {
  await conformance(() => new MapStore())
})

test('the conformance suite catches a store that breaks the contract', async () => {
  const { failures } = await runSessionStoreConformance(() => {
    const store = new MapStore()
    // Loses updates: no compare-and-swap on `version`.
    store.updateSession = (session) => {
      const stored = { ...session, version: session.version + 1 }
      store.sessions.set(session.sessionId, stored)
      return stored
    }
    return store
  })
  const failed = failures.map((f) => f.check)
  assert.ok(failed.includes('update_is_compare_and_swap'), failed.join(', '))
})

test('a service runs on a JS store', async () => {
  const store = new MapStore()
  const { service } = makeService({ store: asyncStore(store) })
  const agent = Actor.agent('agent_js')
  const started = await service.startStream(agent, { platform: 'twitch', streamKey: 'live_js_1' })
  assert.equal(store.sessions.get(started.sessionId).status, 'pending')
  await service.recordDecision(agent, {
    gameId: 'g1',
    turnNumber: 1,
    phase: 'main',
    action: 'attack',
    reasoning: 'lethal on board',
  })
  const stopped = await service.stopStream(agent, { sessionId: started.sessionId })
  assert.deepEqual(stopped.stoppedSessionIds, [started.sessionId])
  assert.equal(store.sessions.get(started.sessionId).status, 'ended')
  assert.equal(store.sessions.get(started.sessionId).stats.decisionsLogged, 1)
})

test('a store method that throws rejects with EXTERNAL naming the method, the exception as cause', async () => {
  const store = asyncStore(new MapStore())
  const boom = new TypeError('convex is down')
  store.insertSession = async () => {
    throw boom
  }
  const { service } = makeService({ store })
  const error = await rejectsWith(
    service.startStream(Actor.agent('a1'), { platform: 'twitch', streamKey: 'k1' }),
    'EXTERNAL',
  )
  assert.match(error.message, /insertSession\(\) failed: convex is down/)
  assert.equal(error.cause, boom)
  assert.equal(error.retryable, false)
})

test('a store method that throws synchronously, or throws a non-Error, is EXTERNAL too', async () => {
  const store = new MapStore()
  store.getSession = () => {
    throw new Error('sync failure')
  }
  const { service } = makeService({ store })
  const error = await rejectsWith(service.getStatus(Actor.internal(), 'ses_x'), 'EXTERNAL')
  assert.match(error.message, /getSession\(\) failed: sync failure/)

  store.getSession = () => Promise.reject('just a string')
  const second = await rejectsWith(service.getStatus(Actor.internal(), 'ses_x'), 'EXTERNAL')
  assert.match(second.message, /getSession\(\) failed: just a string/)
})

test('a store answering with the wrong shape rejects with EXTERNAL naming the method and field', async () => {
  const store = new MapStore()
  const { service } = makeService({ store })
  store.getSession = () => ({ sessionId: 'ses_1', status: 'bogus' })
  let error = await rejectsWith(service.getStatus(Actor.internal(), 'ses_1'), 'EXTERNAL')
  assert.match(error.message, /JS store\.getSession returned an invalid value at status/)

  store.insertSession = () => undefined
  error = await rejectsWith(service.startStream(Actor.agent('a2'), { platform: 'twitch', streamKey: 'k' }), 'EXTERNAL')
  assert.match(error.message, /JS store\.insertSession returned an invalid value: must be an object with created and session/)

  store.listSessions = () => ({ sessions: [{ sessionId: 7 }] })
  error = await rejectsWith(service.listSessions(Actor.internal()), 'EXTERNAL')
  assert.match(error.message, /JS store\.listSessions returned an invalid value at sessions\[0\]/)
})

test('a store error with a store code keeps it: STORE is retryable, CONFLICT reaches the caller', async () => {
  const store = new MapStore()
  const { service } = makeService({ store })
  store.getSession = () => {
    throw Object.assign(new Error('database unavailable'), { code: 'STORE' })
  }
  const error = await rejectsWith(service.getStatus(Actor.internal(), 'ses_1'), 'STORE')
  assert.equal(error.retryable, true)
  assert.match(error.message, /JS store\.getSession: database unavailable/)

  const fresh = new MapStore()
  const second = makeService({ store: fresh }).service
  fresh.updateSession = () => {
    throw Object.assign(new Error('always stale'), { code: 'CONFLICT' })
  }
  const started = await second.startStream(Actor.agent('a3'), { platform: 'twitch', streamKey: 'k' }).catch((e) => e)
  // Every compare-and-swap attempt conflicts: the service gives up with CONFLICT.
  assert.equal(started.code, 'CONFLICT')
})

test('an object missing a store method is refused at construction, naming it', () => {
  const store = asyncStore(new MapStore())
  delete store.claimEvent
  assert.throws(() => makeService({ store }), (error) => {
    assert.equal(error.code, 'INVALID_INPUT')
    assert.equal(error.field, 'store')
    assert.match(error.message, /lacks claimEvent/)
    return true
  })
  assert.throws(() => makeService({ store: 'not a store' }), { code: 'INVALID_INPUT', field: 'store' })
})

test('a service on a JS store never keeps Node alive', () => {
  const script = `
    import { makeService, streaming } from './__test__/helpers.mjs'
    import { MapStore } from './__test__/map-store.mjs'
    const { service } = makeService({ store: new MapStore() })
    await service.startStream(streaming.Actor.agent('a_exit'), { platform: 'twitch', streamKey: 'k' })
    globalThis.keep = service
  `
  const cwd = new URL('..', import.meta.url)
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd, timeout: 20_000, encoding: 'utf8' })
  assert.equal(result.signal, null, 'the process had to be killed: something keeps the event loop alive')
  assert.equal(result.status, 0, result.stderr)
})
