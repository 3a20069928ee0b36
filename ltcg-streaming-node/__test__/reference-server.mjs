// The reference server (`ltcg-streaming-server`, built by `cargo test`) as a child process on
// 127.0.0.1 with a SQLite file and the memory egress, for tests of `Client` over HTTP. The
// binary is $LTCG_SERVER_BIN, else target/debug/ltcg-streaming-server; without it the tests
// skip (fail when CI=true).
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const INTERNAL_KEY = 'node-internal-key-0123456789abcdef'
export const AGENT_KEY = 'ltcg_NodeAgentKey0123456789abcdefgh'
export const AGENT_ID = 'agent_node'
const ENC_KEY = '6457ed47ba47dc9dccb72b09f27843b717aed4fcb909b4a7472fff3c46733e23'
const JWT_SECRET = 'node-overlay-secret-0123456789abcdef'
const SECRETS = [INTERNAL_KEY, AGENT_KEY, ENC_KEY, JWT_SECRET]

/** The server binary, or `null` (after failing the run in CI) when it is not built. */
export function serverBinary() {
  const path =
    process.env.LTCG_SERVER_BIN ??
    fileURLToPath(new URL('../../target/debug/ltcg-streaming-server', import.meta.url))
  if (existsSync(path)) return path
  if (process.env.CI === 'true') throw new Error(`the reference server is not built (${path})`)
  return null
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })
}

/** Starts a server and waits until `/healthz` answers; `stop()` ends it and checks that it
 * printed no secret. */
export async function startServer(binary) {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const dir = mkdtempSync(join(tmpdir(), 'ltcg-node-server-'))
  const log = join(dir, 'server.log')
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('LTCG_') && !k.startsWith('LIVEKIT_')),
  )
  Object.assign(env, {
    RUST_LOG: 'info',
    LTCG_BIND: `127.0.0.1:${port}`,
    LTCG_DATABASE: join(dir, 'streams.db'),
    LTCG_INTERNAL_KEY: INTERNAL_KEY,
    LTCG_AGENT_KEYS: `${AGENT_KEY}=${AGENT_ID}`,
    STREAM_KEY_ENCRYPTION_KEY: ENC_KEY,
    STREAMING_JWT_SECRET: JWT_SECRET,
    NEXT_PUBLIC_APP_URL: url,
    LTCG_EGRESS: 'memory',
  })
  const out = openSync(log, 'w')
  const child = spawn(binary, [], { env, stdio: ['ignore', out, out] })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const deadline = Date.now() + 30_000
  for (;;) {
    try {
      const answer = await fetch(`${url}/healthz`)
      if (answer.ok) break
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`the server did not start:\n${readFileSync(log, 'utf8')}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    url,
    async stop() {
      child.kill('SIGTERM')
      await exited
      const printed = readFileSync(log, 'utf8')
      rmSync(dir, { recursive: true, force: true })
      for (const secret of SECRETS) {
        if (printed.includes(secret)) throw new Error('the server printed a secret')
      }
    },
  }
}
