// The Next.js example's Convex-style store (examples/node/lib/convex-store.ts) passes the core's
// conformance suite and runs a service.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'

import ts from 'typescript'

import { makeService, streaming, testing } from './helpers.mjs'

/** The example module, transpiled (scripts/test-node type-checks it with the rest). */
async function load() {
  const source = readFileSync(new URL('../../examples/node/lib/convex-store.ts', import.meta.url), 'utf8')
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  })
  return import(`data:text/javascript,${encodeURIComponent(outputText)}`)
}

test('the example ConvexSessionStore conforms and runs a service', async () => {
  const { ConvexSessionStore, ConvexTables } = await load()
  const { checks, failures } = await testing.runSessionStoreConformance(() => new ConvexSessionStore())
  assert.equal(checks.length, 15)
  assert.deepEqual(failures, [])

  const tables = new ConvexTables()
  const { service } = makeService({ store: new ConvexSessionStore(tables) })
  const user = streaming.Actor.user('user_next')
  const { sessionId } = await service.startStream(user, { platform: 'twitch', streamKey: 'live_next' })
  assert.equal(tables.streamingSessions.get(sessionId).status, 'pending')
  await service.stopStream(user, {})
  assert.equal(tables.streamingSessions.get(sessionId).status, 'ended')
})
