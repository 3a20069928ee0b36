// The pure functions and small classes: ingest URLs, overlay defaults, cost, actors, config.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { ENV, streaming, throwsWith } from './helpers.mjs'

const { Actor, StreamingConfig, buildRtmpUrl, defaultOverlayConfig, estimateCost, redactUrl } = streaming

test("buildRtmpUrl: the product's eleven vectors (YouTube on its RTMPS ingest)", () => {
  const ok = [
    [['twitch', 'abc123'], 'rtmps://live.twitch.tv/app/abc123'],
    [['youtube', 'yt-key'], 'rtmps://a.rtmps.youtube.com:443/live2/yt-key'],
    [['kick', 'kick-key'], 'rtmps://fa723fc1b171.global-contribute.live-video.net:443/app/kick-key'],
    [['twitch', 'override-key', 'rtmps://custom.twitch.ingest/app'], 'rtmps://custom.twitch.ingest/app/override-key'],
    [['kick', 'override-kick', 'rtmp://ingest.kick.alt/live'], 'rtmp://ingest.kick.alt/live/override-kick'],
    [['retake', 'k1', 'rtmps://global-live.mux.com:443/app'], 'rtmps://global-live.mux.com:443/app/k1'],
    [['custom', 'k2', 'rtmp://example.com/live'], 'rtmp://example.com/live/k2'],
    [['x', 'stream-key', 'rtmps://example.com/live/stream-key'], 'rtmps://example.com/live/stream-key'],
  ]
  for (const [args, url] of ok) assert.equal(buildRtmpUrl(...args), url)
  assert.equal(throwsWith(() => buildRtmpUrl('twitch', '   '), 'INVALID_INPUT').field, 'streamKey')
  const custom = throwsWith(() => buildRtmpUrl('custom', 'abc'), 'INVALID_INPUT')
  assert.equal(custom.message, 'invalid customRtmpUrl: is required for the custom platform')
  const https = throwsWith(() => buildRtmpUrl('pumpfun', 'abc', 'https://example.com/live'), 'INVALID_INPUT')
  assert.equal(https.field, 'customRtmpUrl')
  assert.match(https.message, /must start with rtmp:\/\/ or rtmps:\/\//)
  assert.equal(buildRtmpUrl('facebook', 'FB-1', null), 'rtmps://live-api-s.facebook.com:443/rtmp/FB-1')
  assert.equal(throwsWith(() => buildRtmpUrl('myspace', 'k'), 'INVALID_INPUT').field, 'platform')
})

test('redactUrl hides the stream key the LiveKit way', () => {
  assert.equal(redactUrl('rtmps://live.twitch.tv/app/live_123456789_abcdefghijklmnop'), 'rtmps://live.twitch.tv/app/{liv...nop}')
})

test("defaultOverlayConfig: the seed's defaults", () => {
  assert.deepEqual(defaultOverlayConfig('user'), {
    showDecisions: false,
    showAgentInfo: false,
    showEventFeed: true,
    showPlayerCam: true,
    theme: 'dark',
  })
  assert.deepEqual(defaultOverlayConfig('agent'), {
    showDecisions: true,
    showAgentInfo: true,
    showEventFeed: true,
    showPlayerCam: false,
    theme: 'dark',
  })
  assert.equal(throwsWith(() => defaultOverlayConfig('robot'), 'INVALID_INPUT').field, 'streamType')
})

test("estimateCost: the seed's figures", () => {
  const hour = estimateCost(1)
  assert.ok(Math.abs(hour.totalUsd - 1.035) < 1e-9)
  assert.equal(hour.egressMinutes, 60)
  assert.ok(Math.abs(hour.gigabytes - 1.35) < 1e-9)
  const ten = estimateCost(2, 10, 6)
  assert.equal(ten.egressMinutes, 1200)
  assert.ok(Math.abs(ten.bandwidthUsd - 5.4) < 1e-9)
  assert.equal(throwsWith(() => estimateCost(-1), 'INVALID_INPUT').field, 'hours')
  assert.equal(throwsWith(() => estimateCost(1, 1.5), 'INVALID_INPUT').field, 'streams')
  assert.equal(throwsWith(() => estimateCost(1, 1, Number.NaN), 'INVALID_INPUT').field, 'bitrateMbps')
})

test('Actor: internal, user and agent', () => {
  assert.deepEqual([Actor.internal().kind, Actor.internal().id, `${Actor.internal()}`], ['internal', null, 'internal'])
  const user = Actor.user('user_1')
  assert.deepEqual([user.kind, user.id, user.toString()], ['user', 'user_1', 'user:user_1'])
  assert.equal(Actor.agent('j97agent').toString(), 'agent:j97agent')
  assert.equal(throwsWith(() => Actor.agent(''), 'INVALID_INPUT').field, 'agentId')
})

test('StreamingConfig.fromEnv reads the seed variables, from an object or the process', () => {
  const config = StreamingConfig.fromEnv({ ...ENV, NEXT_PUBLIC_APP_URL: 'https://app.test/', STREAMING_OVERLAY_TOKEN_TTL_SECS: '600' })
  assert.equal(config.appUrl, 'https://app.test')
  assert.equal(config.livekitUrl, 'wss://ltcg.livekit.test')
  assert.equal(config.livekitApiKey, ENV.LIVEKIT_API_KEY)
  assert.equal(config.overlayTokenTtlSeconds, 600)
  assert.equal(config.startTimeoutSeconds, 300)
  assert.equal(config.maxDurationSeconds, 43_200)
  assert.ok(!Object.values(config).includes(ENV.LIVEKIT_API_SECRET))

  const saved = { ...process.env }
  try {
    Object.assign(process.env, ENV, { NEXT_PUBLIC_APP_URL: 'https://from-process.test' })
    assert.equal(StreamingConfig.fromEnv().appUrl, 'https://from-process.test')
  } finally {
    for (const key of Object.keys(ENV)) if (!(key in saved)) delete process.env[key]
    Object.assign(process.env, saved)
  }
})
