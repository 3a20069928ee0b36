// Every failure is an Error whose `code` is the core's stable code string, with the details
// its variant knows, and no secret in the message.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { ENV, JWT_SECRET, makeService, rejectsWith, streaming, throwsWith } from './helpers.mjs'

const { Actor, OverlayTokens, SqliteStore, StreamKeyVault, StreamingConfig, StreamingService } = streaming
const { buildRtmpUrl, errorCodes, httpStatus, isStreamingError } = streaming

const HTTP = {
  INVALID_INPUT: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  CRYPTO: 400,
  EGRESS: 502,
  STORE: 503,
  CONFIG: 500,
  EXTERNAL: 500,
}

function checkShape(error, code) {
  assert.ok(error instanceof Error)
  assert.equal(error.code, code)
  assert.equal(typeof error.retryable, 'boolean')
  assert.ok(isStreamingError(error))
  assert.equal(httpStatus(error.code), HTTP[code])
}

test('the codes are the core stable codes, with their HTTP statuses', () => {
  assert.deepEqual(errorCodes(), Object.keys(HTTP))
  for (const [code, status] of Object.entries(HTTP)) assert.equal(httpStatus(code), status)
  throwsWith(() => httpStatus('TEAPOT'), 'INVALID_INPUT')
  assert.equal(isStreamingError(new Error('plain')), false)
  assert.equal(isStreamingError({ code: 'NOT_FOUND', message: 'not an Error' }), false)
  assert.equal(isStreamingError(Object.assign(new Error('x'), { code: 'ENOENT' })), false)
  assert.equal(isStreamingError(null), false)
})

test('INVALID_INPUT names the field, also deep in a request', async () => {
  const error = throwsWith(() => buildRtmpUrl('twitch', '   '), 'INVALID_INPUT')
  checkShape(error, 'INVALID_INPUT')
  assert.equal(error.field, 'streamKey')
  assert.equal(error.message, 'invalid streamKey: is required')

  const { service } = makeService()
  const agent = Actor.agent('agent_e')
  const bad = await rejectsWith(
    service.startStream(agent, {
      platform: 'twitch',
      streamKey: 'live_ok_key',
      destinations: [{ platform: 'youtube', streamKey: 'ok' }, { platform: 'twitch', streamKey: 'has space' }],
    }),
    'INVALID_INPUT',
  )
  assert.equal(bad.field, 'destinations[1].streamKey')
  assert.ok(!bad.message.includes('has space'))
  // The destination policy: an agent cannot make the egress connect to internal addresses.
  const internal = await rejectsWith(
    service.startStream(agent, { platform: 'custom', streamKey: 'live_ok_key', customRtmpUrl: 'rtmp://169.254.169.254/live' }),
    'INVALID_INPUT',
  )
  assert.equal(internal.field, 'customRtmpUrl')
  assert.match(internal.message, /refused by the destination policy: the host is a link-local address/)
  assert.ok(!internal.message.includes('169.254'))
  const typed = await rejectsWith(service.startStream(agent, { platform: 'myspace', streamKey: 'k' }), 'INVALID_INPUT')
  assert.equal(typed.field, 'platform')
  const nested = await rejectsWith(service.startStream(agent, { platform: 'twitch', streamKey: 'k', overlayConfig: { theme: 'neon' } }), 'INVALID_INPUT')
  assert.equal(nested.field, 'overlayConfig.theme')
  const missing = await rejectsWith(service.recordEvent(agent, { gameId: 'g' }), 'INVALID_INPUT')
  assert.equal(missing.field, 'turnNumber')
  assert.equal(missing.message, 'invalid turnNumber: is required')
  const refused = await rejectsWith(service.startStream(agent, { platform: 'twitch', streamKey: 'k', baseUrl: 'https://evil.test' }), 'INVALID_INPUT')
  assert.equal(refused.field, 'baseUrl')
  await rejectsWith(service.updateViewerCount(agent, 'ses_x', -1), 'INVALID_INPUT')
  throwsWith(() => Actor.user('not valid!'), 'INVALID_INPUT')
})

test('UNAUTHORIZED, FORBIDDEN, NOT_FOUND and CONFLICT from the service and tokens', async () => {
  checkShape(throwsWith(() => new OverlayTokens(JWT_SECRET).verify('not.a.token'), 'UNAUTHORIZED'), 'UNAUTHORIZED')
  const { service } = makeService()
  const owner = Actor.user('user_1')
  const { sessionId } = await service.startStream(owner, { platform: 'twitch', streamKey: 'live_user_1' })
  checkShape(await rejectsWith(service.stopStream(Actor.user('user_2'), { sessionId }), 'FORBIDDEN'), 'FORBIDDEN')
  const missing = await rejectsWith(service.getStatus(owner, 'ses_doesnotexist'), 'NOT_FOUND')
  checkShape(missing, 'NOT_FOUND')
  assert.equal(missing.message, 'session not found')
  checkShape(await rejectsWith(service.startStream(owner, { platform: 'youtube', streamKey: 'yt' }), 'CONFLICT'), 'CONFLICT')
  checkShape(await rejectsWith(service.handleWebhook('{}', 'Bearer forged'), 'UNAUTHORIZED'), 'UNAUTHORIZED')
})

test('RATE_LIMITED carries retryAfterMs; the rateLimits option sets or disables the limits', async () => {
  const limited = makeService({ options: { rateLimits: { callsPerMinute: 60, callBurst: 2 } } }).service
  const user = Actor.user('user_rl')
  await rejectsWith(limited.getStatus(user, 'ses_a'), 'NOT_FOUND')
  await rejectsWith(limited.getStatus(user, 'ses_b'), 'NOT_FOUND')
  const error = await rejectsWith(limited.getStatus(user, 'ses_c'), 'RATE_LIMITED')
  checkShape(error, 'RATE_LIMITED')
  assert.equal(error.retryable, true)
  assert.ok(error.retryAfterMs > 0 && error.retryAfterMs <= 1000)
  await rejectsWith(limited.getStatus(internalActor(), 'ses_d'), 'NOT_FOUND')

  const unlimited = makeService({ options: { rateLimits: false } }).service
  for (let i = 0; i < 100; i++) await rejectsWith(unlimited.getStatus(user, 'ses_x'), 'NOT_FOUND')
})

function internalActor() {
  return Actor.internal()
}

test('CRYPTO, STORE and CONFIG', async () => {
  const vault = new StreamKeyVault(ENV.STREAM_KEY_ENCRYPTION_KEY)
  const sealed = vault.encrypt('live_secret_key')
  const tampered = sealed.slice(0, -2) + (sealed.endsWith('00') ? '11' : '00')
  checkShape(throwsWith(() => vault.decrypt(tampered), 'CRYPTO'), 'CRYPTO')

  const store = await rejectsWith(SqliteStore.open('/nonexistent-dir/streams.db'), 'STORE')
  checkShape(store, 'STORE')
  assert.equal(store.retryable, true)

  const config = throwsWith(() => StreamingConfig.fromEnv({}), 'CONFIG')
  checkShape(config, 'CONFIG')
  assert.equal(config.variable, 'STREAM_KEY_ENCRYPTION_KEY, STREAMING_JWT_SECRET, NEXT_PUBLIC_APP_URL')
  const short = throwsWith(() => StreamingConfig.fromEnv({ ...ENV, STREAMING_JWT_SECRET: 'short-jwt' }), 'CONFIG')
  assert.equal(short.variable, 'STREAMING_JWT_SECRET')
  assert.ok(!short.message.includes('short-jwt'))
  throwsWith(() => new OverlayTokens('short-jwt'), 'INVALID_INPUT')
  const dev = StreamingConfig.fromEnv({ ...ENV, NEXT_PUBLIC_APP_URL: undefined }, true)
  assert.equal(dev.appUrl, 'http://localhost:3334')
  throwsWith(() => StreamingConfig.fromEnv({ ...ENV, NEXT_PUBLIC_APP_URL: undefined }), 'CONFIG')
  const badKey = throwsWith(
    () => StreamingConfig.fromEnv({ ...ENV, STREAM_KEY_ENCRYPTION_KEY: 'zz-not-hex-but-secret' }),
    'CONFIG',
  )
  assert.equal(badKey.variable, 'STREAM_KEY_ENCRYPTION_KEY')
  assert.ok(!badKey.message.includes('zz-not-hex-but-secret'))
  const noLiveKit = { ...ENV, LIVEKIT_URL: undefined, LIVEKIT_API_KEY: undefined, LIVEKIT_API_SECRET: undefined }
  const config2 = StreamingConfig.fromEnv(noLiveKit)
  assert.equal(config2.livekitUrl, null)
  throwsWith(() => streaming.LiveKitEgress.fromConfig(config2), 'CONFIG')
  const service = new StreamingService(config2, { store: new streaming.MemoryStore(), egress: new streaming.MemoryEgress() })
  // Without LiveKit credentials no webhook is authentic: refused like a forged one.
  checkShape(await rejectsWith(service.handleWebhook('{}', 'token'), 'UNAUTHORIZED'), 'UNAUTHORIZED')
})

test('a malformed service part is INVALID_INPUT naming it', () => {
  const config = StreamingConfig.fromEnv(ENV)
  const store = new streaming.MemoryStore()
  assert.throws(() => new StreamingService(config, { store }), { code: 'INVALID_INPUT', field: 'egress' })
  assert.throws(() => new StreamingService(config, { egress: new streaming.MemoryEgress() }), { code: 'INVALID_INPUT', field: 'store' })
  assert.throws(
    () => new StreamingService(config, { store, egress: new streaming.MemoryEgress(), options: { encoding: 'H264_4K' } }),
    { code: 'INVALID_INPUT', field: 'options.encoding' },
  )
  assert.throws(
    () => new StreamingService(config, { store, egress: new streaming.MemoryEgress(), options: { encoding: { width: 1 } } }),
    { code: 'INVALID_INPUT' },
  )
  const egress = new streaming.MemoryEgress()
  assert.throws(() => new StreamingService(config, { store, egress: store }), { code: 'INVALID_INPUT', field: 'egress' })
  assert.throws(() => new StreamingService(config, { store, egress, vault: 'key' }), { code: 'INVALID_INPUT', field: 'vault' })
  assert.throws(() => new StreamingService(config, { store, egress, options: { rateLimits: 'yes' } }), { code: 'INVALID_INPUT', field: 'options.rateLimits' })
  // An instance of another class dressed as a store is refused (type tags), never misread.
  const spoofed = Object.setPrototypeOf(new streaming.MemoryEgress(), streaming.MemoryStore.prototype)
  assert.throws(() => new StreamingService(config, { store: spoofed, egress }), { code: 'INVALID_INPUT', field: 'store' })
  const vault = new streaming.StreamKeyVault(ENV.STREAM_KEY_ENCRYPTION_KEY)
  const ok = new StreamingService(config, { store, egress, vault, options: { encoding: 'H264_720P_30', egressStartTimeoutMs: 5000 } })
  assert.ok(ok)
})
