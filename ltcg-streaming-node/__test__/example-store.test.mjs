// The Next.js example's Convex-style store (examples/node/lib/convex-store.ts) passes the core's
// conformance suite through the example's own check (examples/node/lib/conformance.ts, which
// imports it from `@ltcg/streaming/testing`) and runs a service.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'

import ts from 'typescript'

import { makeService, streaming } from './helpers.mjs'

/** An example module, transpiled (scripts/test-node type-checks it with the rest), with its
 *  imports replaced by the given modules' URLs (a `data:` module resolves no other specifier). */
async function load(file, imports = {}) {
  const source = readFileSync(new URL(`../../examples/node/lib/${file}`, import.meta.url), 'utf8')
  let { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  })
  for (const [specifier, url] of Object.entries(imports)) {
    assert.ok(outputText.includes(`'${specifier}'`), `${file} imports ${specifier}`)
    outputText = outputText.replaceAll(`'${specifier}'`, JSON.stringify(url))
  }
  const url = `data:text/javascript,${encodeURIComponent(outputText)}`
  return { url, module: await import(url) }
}

test('the example ConvexSessionStore conforms and runs a service', async () => {
  const store = await load('convex-store.ts')
  const { ConvexSessionStore, ConvexTables } = store.module
  const testing = import.meta.resolve('@ltcg/streaming/testing')
  const { module: conformance } = await load('conformance.ts', {
    '@ltcg/streaming/testing': testing,
    './convex-store': store.url,
  })
  const checks = await conformance.checkConvexSessionStore()
  assert.equal(checks.length, 23)

  const tables = new ConvexTables()
  const { service } = makeService({ store: new ConvexSessionStore(tables) })
  const user = streaming.Actor.user('user_next')
  const { sessionId } = await service.startStream(user, { platform: 'twitch', streamKey: 'live_next' })
  assert.equal(tables.streamingSessions.get(sessionId).status, 'pending')
  await service.stopStream(user, {})
  assert.equal(tables.streamingSessions.get(sessionId).status, 'ended')
})
