// Every vector the real peer libraries made (ltcg-streaming-core/tests/fixtures) behaves as
// labelled through the binding.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { fixture, rejectsWith, streaming, throwsWith } from './helpers.mjs'

const { OverlayTokens, StreamKeyVault, WebhookVerifier } = streaming

test('stream-key vectors: node:crypto ciphertexts decrypt; invalid ones fail as labelled', async () => {
  const fx = fixture('stream_key_aes_gcm')
  const vault = new StreamKeyVault(fx.keyHex)
  const valid = [...fx.valid, ...fx.valid12ByteIv]
  assert.equal(valid.length, 10)
  for (const { plaintext, ciphertext } of valid) {
    assert.equal(vault.decrypt(ciphertext), plaintext)
  }
  assert.equal(fx.invalid.length, 8)
  for (const { why, ciphertext } of fx.invalid) {
    const expected = why.includes('flipped') || why === 'wrong key' ? 'CRYPTO' : 'INVALID_INPUT'
    const error = throwsWith(() => vault.decrypt(ciphertext), expected)
    assert.ok(!error.message.includes(fx.keyHex), why)
  }
})

test('overlay token vectors: jose and jsonwebtoken tokens verify; invalid ones are UNAUTHORIZED', () => {
  const fx = fixture('overlay_jwt')
  const tokens = new OverlayTokens(fx.secret)
  assert.equal(fx.valid.length, 3)
  for (const { by, claims, token } of fx.valid) {
    const verified = tokens.verify(token, claims.sessionId, fx.verifyAt)
    assert.equal(verified.sessionId, claims.sessionId, by)
    assert.equal(verified.streamType, claims.streamType, by)
    assert.equal(verified.entityId, claims.entityId, by)
    assert.equal(verified.type, 'overlay_access', by)
    throwsWith(() => tokens.verify(token, 'someone_else', fx.verifyAt), 'UNAUTHORIZED')
  }
  assert.equal(fx.invalid.length, 8)
  for (const { why, token } of fx.invalid) {
    const error = throwsWith(() => tokens.verify(token, null, fx.verifyAt), 'UNAUTHORIZED')
    assert.ok(!error.message.includes(fx.secret), why)
  }
})

test('our overlay tokens equal jose byte for byte', () => {
  const fx = fixture('overlay_jwt')
  const tokens = new OverlayTokens(fx.secret)
  const jose = fx.valid.filter((c) => c.by.startsWith('jose'))
  assert.equal(jose.length, 2)
  for (const { claims, token } of jose) {
    assert.equal(tokens.issue(claims.sessionId, claims.streamType, claims.entityId, 1_767_225_600), token)
  }
})

test('LiveKit webhook vectors: livekit-server-sdk webhooks verify; invalid ones are UNAUTHORIZED', () => {
  const fx = fixture('livekit_webhooks')
  const verifier = new WebhookVerifier(fx.apiKey, fx.apiSecret)
  assert.equal(fx.valid.length, 6)
  for (const { event, egressId, status, body, authorization } of fx.valid) {
    for (const header of [authorization, `Bearer ${authorization}`]) {
      const verified = verifier.verify(body, header, fx.verifyAt)
      assert.equal(verified.event, event)
      assert.equal(verified.egressId, egressId)
      assert.equal(verified.status, status)
      assert.match(verified.id, /^EV_/)
      assert.equal(verified.createdAt, 1_795_478_332)
    }
    assert.equal(verifier.verify(Buffer.from(body), authorization, fx.verifyAt).event, event)
  }
  assert.equal(fx.invalid.length, 6)
  for (const { why, body, authorization } of fx.invalid) {
    const error = throwsWith(() => verifier.verify(body, authorization, fx.verifyAt), 'UNAUTHORIZED')
    assert.ok(!error.message.includes(fx.apiSecret), why)
  }
  throwsWith(() => verifier.verify(fx.valid[0].body, null, fx.verifyAt), 'UNAUTHORIZED')
})
