// Viewer counts through the binding: platforms from the environment, one pass asked for by
// the app (as a Convex cron would), against a local Kick API that checks the token grant and
// the Bearer token.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { test } from 'node:test'

import { egressOf, egressWebhook, makeService, rejectsWith, streaming } from './helpers.mjs'
import { MapStore } from './map-store.mjs'

const { Actor } = streaming
const CLIENT_ID = 'nodeclientid0123456789'
const CLIENT_SECRET = 'node-client-secret-abcdefghij'
const TOKEN = 'nodefaketoken0001'

/** Kick's token grant and `public/v1/channels`; `live` maps slugs to viewers. */
async function fakeKick(live) {
  const asked = []
  const server = createServer((req, res) => {
    const reply = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    const url = new URL(req.url, 'http://127.0.0.1')
    if (req.method === 'POST' && url.pathname === '/oauth/token') {
      let body = ''
      req.on('data', (chunk) => (body += chunk))
      req.on('end', () => {
        const form = new URLSearchParams(body)
        const ok = form.get('client_id') === CLIENT_ID && form.get('client_secret') === CLIENT_SECRET &&
          form.get('grant_type') === 'client_credentials'
        if (ok) reply(200, { access_token: TOKEN, expires_in: 5000000, token_type: 'Bearer' })
        else reply(401, { message: 'invalid client' })
      })
      return
    }
    if (req.method === 'GET' && url.pathname === '/public/v1/channels') {
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return reply(401, { message: 'Unauthorized' })
      const slugs = url.searchParams.getAll('slug')
      asked.push(slugs)
      const data = slugs.map((slug) => ({
        slug,
        stream: slug in live
          ? { is_live: true, viewer_count: live[slug], thumbnail: `https://images.kick.com/video_thumbnails/${slug}/fullsize.webp` }
          : { is_live: false, viewer_count: 0 },
      }))
      return reply(200, { data, message: 'OK' })
    }
    reply(404, {})
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { base: `http://127.0.0.1:${server.address().port}`, asked, close: () => server.close() }
}

test('a pass asked for by the app counts live Kick channels', async () => {
  const kick = await fakeKick({ blaze: 27 })
  Object.assign(process.env, {
    KICK_CLIENT_ID: CLIENT_ID, KICK_CLIENT_SECRET: CLIENT_SECRET, KICK_API_BASE: kick.base, KICK_ID_BASE: kick.base,
  })
  try {
    const store = new MapStore()
    const { service } = makeService({ store, options: { platformsFromEnv: true } })
    const agent = Actor.agent('agent_kick_counted')
    const started = await service.startStream(agent, {
      platform: 'kick', streamKey: 'sk_us-west-2_counted0123', channel: 'Blaze',
    })
    const live = await egressWebhook('egress_updated', await egressOf(store, started.sessionId), 'EGRESS_ACTIVE')
    await service.handleWebhook(live.body, live.authorization)

    const report = await service.pollViewerCounts(Actor.internal())
    assert.deepEqual(report.updated, [started.sessionId])
    assert.deepEqual(report.platforms.map((p) => [p.platform, p.outcome]), [['kick', 'ok']])
    assert.deepEqual(kick.asked, [['blaze']])
    const status = await service.getStatus(agent, started.sessionId)
    assert.deepEqual([status.viewerCount, status.peakViewerCount], [27, 27])
    assert.equal(status.destinations[0].previewUrl, 'https://images.kick.com/video_thumbnails/blaze/fullsize.webp')
    await rejectsWith(service.pollViewerCounts(agent), 'FORBIDDEN')
  } finally {
    for (const name of ['KICK_CLIENT_ID', 'KICK_CLIENT_SECRET', 'KICK_API_BASE', 'KICK_ID_BASE']) delete process.env[name]
    kick.close()
  }
})

test('without platforms a pass does nothing', async () => {
  const { service } = makeService()
  assert.deepEqual(await service.pollViewerCounts(Actor.internal()), { updated: [], platforms: [] })
})
