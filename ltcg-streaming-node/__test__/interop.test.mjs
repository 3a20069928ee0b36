// Interoperability with the real npm peers the product uses: jose and jsonwebtoken for overlay
// tokens, node:crypto for stream keys, livekit-server-sdk for webhooks.
import assert from 'node:assert/strict'
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { test } from 'node:test'

import { EgressInfo, EgressStatus, WebhookEvent } from '@livekit/protocol'
import { SignJWT, jwtVerify } from 'jose'
import jsonwebtoken from 'jsonwebtoken'
import { AccessToken, WebhookReceiver } from 'livekit-server-sdk'

import { ENCRYPTION_KEY, JWT_SECRET, LIVEKIT_API_KEY, LIVEKIT_API_SECRET, streaming, throwsWith } from './helpers.mjs'

const { OverlayTokens, StreamKeyVault, WebhookVerifier } = streaming

const CLAIMS = { sessionId: 'ses_interop_1', streamType: 'agent', entityId: 'agent_7', type: 'overlay_access' }

test('our overlay tokens verify with jose jwtVerify (secret as UTF-8 bytes) and jsonwebtoken', async () => {
  const token = new OverlayTokens(JWT_SECRET).issue(CLAIMS.sessionId, CLAIMS.streamType, CLAIMS.entityId)
  const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(JWT_SECRET), {
    algorithms: ['HS256'],
  })
  assert.deepEqual(protectedHeader, { alg: 'HS256' })
  assert.deepEqual(Object.keys(payload), ['sessionId', 'streamType', 'entityId', 'type', 'exp', 'iat'])
  assert.equal(payload.exp - payload.iat, 86_400)
  const decoded = jsonwebtoken.verify(token, JWT_SECRET, { algorithms: ['HS256'] })
  assert.deepEqual({ ...decoded }, payload)
  for (const [key, value] of Object.entries(CLAIMS)) assert.equal(payload[key], value)
  await assert.rejects(jwtVerify(token, new TextEncoder().encode('another-secret')))
  assert.throws(() => jsonwebtoken.verify(token, 'another-secret', { algorithms: ['HS256'] }))
})

test('jose and jsonwebtoken tokens verify with ours', async () => {
  const tokens = new OverlayTokens(JWT_SECRET)
  const byJose = await new SignJWT(CLAIMS)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('24h')
    .sign(new TextEncoder().encode(JWT_SECRET))
  const byJsonwebtoken = jsonwebtoken.sign(CLAIMS, JWT_SECRET, { algorithm: 'HS256', expiresIn: '24h' })
  for (const token of [byJose, byJsonwebtoken]) {
    assert.deepEqual({ ...tokens.verify(token, CLAIMS.sessionId), exp: 0, iat: 0 }, { ...CLAIMS, exp: 0, iat: 0 })
  }
  const forged = jsonwebtoken.sign(CLAIMS, 'not-the-secret', { algorithm: 'HS256', expiresIn: '24h' })
  throwsWith(() => tokens.verify(forged), 'UNAUTHORIZED')
  const expired = jsonwebtoken.sign({ ...CLAIMS, exp: Math.floor(Date.now() / 1000) - 60 }, JWT_SECRET)
  throwsWith(() => tokens.verify(expired), 'UNAUTHORIZED')
  const hs512 = jsonwebtoken.sign(CLAIMS, JWT_SECRET, { algorithm: 'HS512', expiresIn: '24h' })
  throwsWith(() => tokens.verify(hs512), 'UNAUTHORIZED')
})

/** The product's encryptStreamKey, with node:crypto. */
function nodeEncrypt(plaintext, keyHex) {
  const iv = randomBytes(16)
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(keyHex, 'hex'), iv)
  const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return `${iv.toString('hex')}:${cipher.getAuthTag().toString('hex')}:${sealed.toString('hex')}`
}

/** The product's decryptStreamKey, with node:crypto. */
function nodeDecrypt(value, keyHex) {
  const [iv, tag, sealed] = value.split(':')
  const decipher = createDecipheriv('aes-256-gcm', Buffer.from(keyHex, 'hex'), Buffer.from(iv, 'hex'))
  decipher.setAuthTag(Buffer.from(tag, 'hex'))
  return Buffer.concat([decipher.update(Buffer.from(sealed, 'hex')), decipher.final()]).toString('utf8')
}

test('node:crypto decrypts our ciphertexts and we decrypt its (product format, 16-byte IV)', async () => {
  const vault = new StreamKeyVault(ENCRYPTION_KEY)
  for (const key of ['live_123456789_abcdefghijklmnop', 'ключ-🔑-key', 'a', 'x'.repeat(512)]) {
    const ours = vault.encrypt(key)
    assert.match(ours, /^[0-9a-f]{32}:[0-9a-f]{32}:[0-9a-f]+$/)
    assert.equal(nodeDecrypt(ours, ENCRYPTION_KEY), key)
    assert.equal(vault.decrypt(nodeEncrypt(key, ENCRYPTION_KEY)), key)
  }
  const otherKey = 'ab'.repeat(32)
  assert.throws(() => nodeDecrypt(nodeEncrypt('k', otherKey), ENCRYPTION_KEY))
  assert.throws(() => vault.decrypt(nodeEncrypt('k', otherKey)), { code: 'CRYPTO' })
})

test('key rotation: a ciphertext under a previous key decrypts and reencrypts to the current key', async () => {
  const oldKey = 'cd'.repeat(32)
  const vault = new StreamKeyVault(ENCRYPTION_KEY, [oldKey])
  const legacy = nodeEncrypt('live_rotate', oldKey)
  assert.equal(vault.decrypt(legacy), 'live_rotate')
  const moved = vault.reencrypt(legacy)
  assert.equal(nodeDecrypt(moved, ENCRYPTION_KEY), 'live_rotate')
  assert.equal(vault.reencrypt(moved), moved)
})

/** A webhook as livekit-server-sdk's sender signs it: an AccessToken with a `sha256` claim. */
async function signWebhook(body, { secret = LIVEKIT_API_SECRET, ttl } = {}) {
  const token = new AccessToken(LIVEKIT_API_KEY, secret, ttl ? { ttl } : undefined)
  token.sha256 = createHash('sha256').update(body).digest('base64')
  return token.toJwt()
}

test('livekit-server-sdk webhooks verify with ours, and its WebhookReceiver agrees on every case', async () => {
  const body = new WebhookEvent({
    event: 'egress_updated',
    id: 'EV_interop1',
    createdAt: BigInt(Math.floor(Date.now() / 1000)),
    egressInfo: new EgressInfo({ egressId: 'EG_interop1', status: EgressStatus.EGRESS_ACTIVE }),
  }).toJsonString()
  const signed = await signWebhook(body)
  const cases = [
    { name: 'valid', body, auth: signed, accept: true },
    { name: 'tampered body', body: body.replace('EG_interop1', 'EG_interop2'), auth: signed, accept: false },
    { name: 'wrong secret', body, auth: await signWebhook(body, { secret: 'x'.repeat(32) }), accept: false },
    { name: 'expired', body, auth: await signWebhook(body, { ttl: '2 minutes ago' }), accept: false },
  ]
  const ours = new WebhookVerifier(LIVEKIT_API_KEY, LIVEKIT_API_SECRET)
  const theirs = new WebhookReceiver(LIVEKIT_API_KEY, LIVEKIT_API_SECRET)
  for (const { name, body, auth, accept } of cases) {
    const theirVerdict = await theirs.receive(body, auth).then(
      () => true,
      () => false,
    )
    let ourVerdict = true
    try {
      const event = ours.verify(body, auth)
      assert.equal(event.egressId, 'EG_interop1', name)
      assert.equal(event.status, 'EGRESS_ACTIVE', name)
    } catch (error) {
      assert.equal(error.code, 'UNAUTHORIZED', name)
      ourVerdict = false
    }
    assert.equal(theirVerdict, accept, `livekit-server-sdk on ${name}`)
    assert.equal(ourVerdict, theirVerdict, `ours and livekit-server-sdk disagree on ${name}`)
  }
})
