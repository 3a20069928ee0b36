// `@ltcg/streaming/testing` is the conformance suite's public entry point: a package subpath
// (ESM and CommonJS) typed by testing.d.ts, absent from the main entry point's declarations and
// named exports, with a README example that runs, and the documented error behaviour.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

import * as testing from '@ltcg/streaming/testing'
import * as main from '@ltcg/streaming'

import { MapStore } from './map-store.mjs'

const require = createRequire(import.meta.url)
const packageDir = fileURLToPath(new URL('..', import.meta.url))
const read = (file) => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8')

test('the subpath resolves to testing.js and exports only the suite, in ESM and CommonJS', () => {
  assert.equal(import.meta.resolve('@ltcg/streaming/testing'), new URL('../testing.js', import.meta.url).href)
  assert.deepEqual(Object.keys(testing).filter((k) => k !== 'default').sort(), ['runSessionStoreConformance'])
  assert.equal(typeof testing.runSessionStoreConformance, 'function')
  const cjs = require('@ltcg/streaming/testing')
  assert.deepEqual(Object.keys(cjs), ['runSessionStoreConformance'])
  assert.equal(cjs.runSessionStoreConformance, testing.runSessionStoreConformance)
})

test('the main entry point neither declares nor names the suite', () => {
  assert.ok(!('runSessionStoreConformance' in main), 'a named export of @ltcg/streaming')
  assert.ok(!read('index.d.ts').includes('runSessionStoreConformance'), 'declared in index.d.ts')
  for (const file of ['index.js', 'binding.js']) {
    assert.ok(!read(file).includes('runSessionStoreConformance'), `named in ${file}`)
  }
  assert.match(read('testing.d.ts'), /export declare function runSessionStoreConformance\(makeStore: \(\) => SessionStore\): Promise<ConformanceReport>/)
  const code = read('testing.d.ts').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '')
  assert.equal(code.match(/\bany\b/g), null, 'testing.d.ts declares an `any`')
})

test('package.json exports "." and "./testing", matching main/types, all of them shipped', () => {
  const pkg = JSON.parse(read('package.json'))
  assert.deepEqual(pkg.exports['.'], { types: `./${pkg.types}`, default: `./${pkg.main}` })
  assert.deepEqual(pkg.exports['./testing'], { types: './testing.d.ts', default: './testing.js' })
  for (const target of Object.values(pkg.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)))) {
    const file = target.replace(/^\.\//, '')
    assert.ok(file === 'package.json' || pkg.files.includes(file), `${file} is exported but not in "files"`)
  }
})

test('a store that throws fails that check; a non-store or a throwing factory throws from the call', async () => {
  const { checks, failures } = await testing.runSessionStoreConformance(() => {
    const store = new MapStore()
    store.claimEvent = () => {
      throw new Error('redis is down')
    }
    return store
  })
  const failed = Object.fromEntries(failures.map((f) => [f.check, f.failure]))
  // The checks that claim or prune event ids fail; the lease checks do not use them.
  const usingEvents = ['event_claims', 'event_ids_are_pruned', 'concurrent_claims_have_one_winner']
  assert.deepEqual(Object.keys(failed), checks.filter((c) => usingEvents.includes(c)))
  assert.ok(checks.includes('leases') && !('leases' in failed))
  assert.match(failed.event_claims, /redis is down/)
  assert.throws(() => testing.runSessionStoreConformance(() => ({})), { code: 'INVALID_INPUT', message: /lacks insertSession/ })
  const boom = new Error('no store today')
  assert.throws(() => testing.runSessionStoreConformance(() => { throw boom }), (e) => e === boom)
})

/** The JavaScript example of the README's section on checking a store. */
function readmeExample() {
  const readme = read('README.md')
  const section = readme.slice(readme.indexOf('## Checking a store: `@ltcg/streaming/testing`'))
  const match = /```js\n([\s\S]*?)```/.exec(section)
  assert.ok(match, 'no js example in the section')
  return match[1]
}

/** Runs `code` as an ES module in the package directory (the package name self-resolves there). */
function runModule(code) {
  return spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: packageDir, encoding: 'utf8', timeout: 60_000 })
}

test('the README store example passes the suite', () => {
  const example = readmeExample()
  assert.ok(example.startsWith("import { runSessionStoreConformance } from '@ltcg/streaming/testing'\n"))
  const run = runModule(example)
  assert.equal(run.status, 0, run.stdout + run.stderr)
  assert.equal(run.stdout, 'MapStore passes all 23 conformance checks\n')
  assert.ok(read('README.md').includes('it prints\n`MapStore passes all 23 conformance checks`'))
})

test('the README example reports a store that breaks the contract', () => {
  const cas = 'if (stored.version !== session.version)'
  const example = readmeExample()
  assert.ok(example.includes(cas))
  const run = runModule(example.replace(cas, 'if (false)'))
  assert.equal(run.status, 1, run.stderr)
  assert.match(run.stdout, /^FAILED update_is_compare_and_swap: stale update gave/m)
})
