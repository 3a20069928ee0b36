// LiveKitEgress from Node against an in-process LiveKit Twirp endpoint built from the real
// @livekit/protocol messages: it checks the bearer token (livekit-server-sdk's TokenVerifier,
// `roomRecord` grant) and decodes each request.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { after, before, test } from 'node:test'

import {
  EgressInfo,
  EgressStatus,
  ListEgressRequest,
  ListEgressResponse,
  StopEgressRequest,
  UpdateStreamRequest,
  WebEgressRequest,
} from '@livekit/protocol'
import { TokenVerifier } from 'livekit-server-sdk'

import { LIVEKIT_API_KEY, LIVEKIT_API_SECRET, makeService, rejectsWith, streaming } from './helpers.mjs'

const { Actor, LiveKitEgress } = streaming

/** What the fake server saw, and how it answers. */
const server = { calls: [], egresses: new Map(), failStart: null }
let httpServer
let baseUrl

async function handle(method, body) {
  switch (method) {
    case 'StartWebEgress': {
      const request = WebEgressRequest.fromBinary(body)
      server.calls.push({ method, request })
      if (server.failStart) return { twirp: server.failStart }
      const info = new EgressInfo({
        egressId: `EG_lk${server.egresses.size + 1}`,
        status: EgressStatus.EGRESS_STARTING,
        request: { case: 'web', value: new WebEgressRequest({ url: request.url }) },
      })
      server.egresses.set(info.egressId, info)
      return { message: info }
    }
    case 'UpdateStream': {
      const request = UpdateStreamRequest.fromBinary(body)
      server.calls.push({ method, request })
      return { message: server.egresses.get(request.egressId) }
    }
    case 'StopEgress': {
      const request = StopEgressRequest.fromBinary(body)
      server.calls.push({ method, request })
      const info = server.egresses.get(request.egressId)
      if (!info) return { twirp: { status: 404, code: 'not_found', msg: 'egress not found' } }
      info.status = EgressStatus.EGRESS_COMPLETE
      return { message: info }
    }
    case 'ListEgress': {
      const request = ListEgressRequest.fromBinary(body)
      server.calls.push({ method, request })
      const items = [...server.egresses.values()].filter(
        (e) => e.status === EgressStatus.EGRESS_STARTING || e.status === EgressStatus.EGRESS_ACTIVE,
      )
      return { message: new ListEgressResponse({ items }) }
    }
    default:
      return { twirp: { status: 404, code: 'bad_route', msg: `no method ${method}` } }
  }
}

before(async () => {
  const verifier = new TokenVerifier(LIVEKIT_API_KEY, LIVEKIT_API_SECRET)
  httpServer = createServer(async (req, res) => {
    const chunks = []
    for await (const chunk of req) chunks.push(chunk)
    const reply = (status, type, payload) => res.writeHead(status, { 'content-type': type }).end(payload)
    try {
      const claims = await verifier.verify((req.headers.authorization ?? '').replace(/^Bearer /, ''))
      if (!claims.video?.roomRecord) throw new Error('roomRecord grant missing')
    } catch (error) {
      return reply(401, 'application/json', JSON.stringify({ code: 'unauthenticated', msg: String(error.message) }))
    }
    const method = req.url.replace('/twirp/livekit.Egress/', '')
    const { message, twirp } = await handle(method, new Uint8Array(Buffer.concat(chunks)))
    if (twirp) return reply(twirp.status, 'application/json', JSON.stringify({ code: twirp.code, msg: twirp.msg }))
    reply(200, 'application/protobuf', Buffer.from(message.toBinary()))
  })
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${httpServer.address().port}`
})

after(() => new Promise((resolve) => httpServer.close(resolve)))

const egress = () => new LiveKitEgress({ url: baseUrl, apiKey: LIVEKIT_API_KEY, apiSecret: LIVEKIT_API_SECRET })

test('a stream through LiveKitEgress: StartWebEgress, UpdateStream, ListEgress, StopEgress', async () => {
  const { service } = makeService({ egress: egress() })
  const agent = Actor.agent('agent_lk')
  const started = await service.startStream(agent, {
    platform: 'twitch',
    streamKey: 'live_lk_key_0001',
    destinations: [{ platform: 'custom', streamKey: 'k2', customRtmpUrl: 'rtmp://203.0.113.10/live' }],
  })
  assert.equal(started.status, 'pending')
  const start = server.calls.find((c) => c.method === 'StartWebEgress').request
  assert.equal(start.url, started.overlayUrl)
  assert.deepEqual(start.streamOutputs[0].urls, [
    'rtmps://live.twitch.tv/app/live_lk_key_0001',
    'rtmp://203.0.113.10/live/k2',
  ])

  const status = await service.getStatus(agent, started.sessionId)
  const custom = status.destinations.find((d) => d.platform === 'custom')
  await service.updateDestinations(agent, {
    sessionId: started.sessionId,
    add: [{ platform: 'youtube', streamKey: 'yt-lk' }],
    remove: [custom.id],
  })
  const update = server.calls.find((c) => c.method === 'UpdateStream').request
  assert.deepEqual(update.addOutputUrls, ['rtmps://a.rtmps.youtube.com:443/live2/yt-lk'])
  assert.deepEqual(update.removeOutputUrls, ['rtmp://203.0.113.10/live/k2'])

  const report = await service.reconcile(Actor.internal())
  assert.deepEqual(report.stoppedEgresses, [])
  assert.ok(server.calls.some((c) => c.method === 'ListEgress' && c.request.active))

  await service.stopStream(agent, { sessionId: started.sessionId })
  const stop = server.calls.find((c) => c.method === 'StopEgress').request
  assert.equal(stop.egressId, 'EG_lk1')
  assert.equal((await service.getStatus(agent, started.sessionId)).status, 'ended')
})

test('a refused start rejects with EGRESS, leaves the session in error, and never shows the key', async () => {
  server.failStart = { status: 400, code: 'invalid_argument', msg: 'cannot push to rtmps://live.twitch.tv/app/live_refused_key_9' }
  try {
    const { service } = makeService({ egress: egress() })
    const agent = Actor.agent('agent_refused')
    const error = await rejectsWith(service.startStream(agent, { platform: 'twitch', streamKey: 'live_refused_key_9' }), 'EGRESS')
    assert.equal(error.retryable, false)
    assert.ok(!error.message.includes('live_refused_key_9'), error.message)
    const [session] = (await service.listSessions(Actor.internal(), { streamType: 'agent', entityId: 'agent_refused' })).sessions
    assert.equal(session.status, 'error')
  } finally {
    server.failStart = null
  }
})

test('bad credentials are CONFIG errors naming the variable; a wrong secret is refused by the server', async () => {
  assert.throws(
    () => new LiveKitEgress({ url: 'ftp://x', apiKey: LIVEKIT_API_KEY, apiSecret: 'hidden-secret-value' }),
    (error) => error.code === 'CONFIG' && error.variable === 'LIVEKIT_URL' && !error.message.includes('hidden-secret-value'),
  )
  const wrong = new LiveKitEgress({ url: baseUrl, apiKey: LIVEKIT_API_KEY, apiSecret: 'x'.repeat(32), requestTimeoutMs: 5000 })
  assert.equal(wrong.apiUrl, `${baseUrl}/`)
  const { service } = makeService({ egress: wrong })
  await rejectsWith(service.startStream(Actor.agent('agent_bad'), { platform: 'twitch', streamKey: 'live_x' }), 'EGRESS')
})
