// BrowserEgress from Node: the core's options object, its errors, and a service whose session
// follows the browser egress's own events.
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

import { ENV, streaming, throwsWith } from './helpers.mjs'

const { Actor, BrowserEgress, MemoryStore, StreamingConfig, StreamingService } = streaming

test('the options are the core options object', () => {
  const egress = new BrowserEgress({ maxConcurrent: 2, thumbnailIntervalMs: 0 })
  assert.ok(Array.isArray(egress.missingPrograms()))
  assert.equal(egress.status('EG_browser_unknown'), null)
  assert.equal(throwsWith(() => new BrowserEgress({ maxConcurrent: 0 }), 'INVALID_INPUT').field, 'options.maxConcurrent')
  assert.equal(throwsWith(() => new BrowserEgress({ muteAudio: true }), 'INVALID_INPUT').field, 'options.muteAudio')
  assert.equal(
    throwsWith(() => new BrowserEgress({ reconnectWindowMs: 5 }), 'INVALID_INPUT').field,
    'options.reconnectWindowMs',
  )
})

test('a session follows the browser egress', async (t) => {
  const workDir = mkdtempSync(join(tmpdir(), 'ltcg-browser-'))
  const egress = new BrowserEgress({ workDir, pageLoadTimeoutMs: 5000, pageLoadAttempts: 1 })
  const missing = egress.missingPrograms()
  if (missing.length > 0) {
    assert.notEqual(process.env.CI, 'true', `the browser egress needs ${missing} in CI`)
    t.skip(`the browser egress needs ${missing}`)
    return
  }
  // An app server without the overlay: the page answers 404, so the render fails on its own
  // after the start, and only the egress's events can tell the session.
  const app = createServer((_req, res) => {
    res.writeHead(404)
    res.end('no overlay here')
  })
  await new Promise((resolve) => app.listen(0, '127.0.0.1', resolve))
  try {
    const config = StreamingConfig.fromEnv({
      ...ENV,
      NEXT_PUBLIC_APP_URL: `http://127.0.0.1:${app.address().port}`,
    })
    const service = new StreamingService(config, {
      store: new MemoryStore(),
      egress,
      options: { rateLimits: false },
    })
    const started = await service.startStream(Actor.internal(), {
      agentId: 'agent_node',
      platform: 'custom',
      customRtmpUrl: 'rtmp://127.0.0.1:9/live',
      streamKey: 'live_123456789_abcdefghijklmnop',
    })
    let view
    for (let i = 0; i < 200; i++) {
      view = await service.getStatus(Actor.internal(), started.sessionId)
      if (view.status === 'error') break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    assert.equal(view.status, 'error')
    assert.match(view.errorMessage, /HTTP 404/)
    assert.match(view.errorMessage, /\/stream\/overlay\?\{\.\.\.\}/)
    assert.doesNotMatch(view.errorMessage, /token=/)
  } finally {
    app.close()
  }
})
