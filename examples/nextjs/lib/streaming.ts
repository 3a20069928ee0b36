// The one StreamingService of this app and the library's HTTP API over it, built from the
// environment once per process. `instrumentation.ts` builds them at startup, so a
// configuration error is logged once, when the server starts, not first met by a caller.
import {
  AgentKeys,
  HttpApi,
  type HttpAuth,
  LiveKitEgress,
  MemoryEgress,
  MemoryStore,
  type SessionStore,
  setLogger,
  SqliteStore,
  StreamingConfig,
  StreamingService,
} from '@ltcg/streaming'
import { ConvexHttpClient } from 'convex/browser'

import { ConvexSessionStore } from './convex-store'

/** The parts, once built. */
export interface Streaming {
  service: StreamingService
  api: HttpApi
}

type Env = Record<string, string | undefined>

/** Where sessions live: the Convex deployment (`NEXT_PUBLIC_CONVEX_URL` with
 *  `STREAMING_CONVEX_SECRET`), a SQLite file (`LTCG_SQLITE_PATH`), else memory. */
async function storeFrom(env: Env): Promise<SessionStore | MemoryStore | SqliteStore> {
  const convexUrl = env.NEXT_PUBLIC_CONVEX_URL
  if (convexUrl) {
    const secret = env.STREAMING_CONVEX_SECRET
    if (!secret) throw new Error('NEXT_PUBLIC_CONVEX_URL is set but STREAMING_CONVEX_SECRET is not')
    return new ConvexSessionStore(new ConvexHttpClient(convexUrl), secret)
  }
  if (env.LTCG_SQLITE_PATH) return SqliteStore.open(env.LTCG_SQLITE_PATH)
  return new MemoryStore()
}

/** Who may call: the internal secret, static `ltcg_` agent keys (`LTCG_AGENT_KEYS=key=agentId,...`;
 *  the keys kept in the store are accepted too) and users' JWTs through a JWKS URL (`AUTH_JWKS_URL`, `AUTH_JWT_ISSUER`, `AUTH_JWT_AUDIENCE`). */
export function authFrom(env: Env): HttpAuth {
  const auth: HttpAuth = {}
  if (env.INTERNAL_API_SECRET) auth.internalKey = env.INTERNAL_API_SECRET
  if (env.LTCG_AGENT_KEYS) {
    auth.agentKeys = env.LTCG_AGENT_KEYS.split(',').map((pair) => {
      const at = pair.lastIndexOf('=')
      if (at <= 0) throw new Error('LTCG_AGENT_KEYS must look like key=agentId,key2=agentId2')
      return { key: pair.slice(0, at).trim(), agentId: pair.slice(at + 1).trim() }
    })
  }
  if (env.AUTH_JWKS_URL) {
    const issuer = env.AUTH_JWT_ISSUER
    const audience = env.AUTH_JWT_AUDIENCE
    if (!issuer || !audience) throw new Error('AUTH_JWKS_URL needs AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE')
    auth.userJwt = { jwksUrl: env.AUTH_JWKS_URL, issuer, audience }
  }
  return auth
}

async function build(env: Env): Promise<Streaming> {
  const config = StreamingConfig.fromEnv(env)
  const store = await storeFrom(env)
  // `LTCG_EGRESS=memory`: nothing renders (development, tests); LiveKit's webhooks still verify.
  const egress =
    config.livekitUrl && env.LTCG_EGRESS !== 'memory' ? LiveKitEgress.fromConfig(config) : new MemoryEgress()
  const service = new StreamingService(config, { store, egress })
  // Agent keys made by `AgentKeys` (`scripts/agent-keys.mjs`, or the library's CLI on the
  // SQLite file) are kept in the store, hashed, and accepted until revoked.
  return { service, api: new HttpApi(service, authFrom(env), new AgentKeys(store)) }
}

const cache = globalThis as typeof globalThis & { __ltcgStreaming?: Promise<Streaming> }

/** The app's streaming parts (built on first use; a failure is logged once and kept). */
export function streaming(): Promise<Streaming> {
  if (!cache.__ltcgStreaming) {
    setLogger(({ level, target, message }) => {
      const log = level === 'error' ? console.error : level === 'warn' ? console.warn : console.info
      log(`[${target}] ${message}`)
    })
    cache.__ltcgStreaming = build(process.env)
    cache.__ltcgStreaming.catch((error: unknown) => {
      console.error(`ltcg-streaming is not configured: ${error instanceof Error ? error.message : String(error)}`)
    })
  }
  return cache.__ltcgStreaming
}
