// Who is calling, as the product's `resolveStreamingAuth` decides it: the internal secret
// (`X-Internal-Auth`), an agent API key (`Authorization: Bearer ltcg_…` or `x-api-key`), or a
// signed-in user. The two lookups are the app's own; wire them to Convex and the auth provider.
import { createHash, timingSafeEqual } from 'node:crypto'

import { Actor } from '@ltcg/streaming'

/** The app's identity lookups. */
export interface Identities {
  /** The agent owning an API key (in the product: Convex `agents.getAgentByApiKey`). */
  agentForApiKey(apiKey: string): Promise<string | null>
  /** The user of a session token (in the product: the Privy JWT, then `users.currentUser`). */
  userForToken(token: string): Promise<string | null>
}

/** Placeholders until the app wires its own lookups. */
export const identities: Identities = {
  agentForApiKey: async () => null,
  userForToken: async () => null,
}

/** Compares two secrets in constant time (hashing first evens out their lengths). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest()
  return expected.length > 0 && timingSafeEqual(digest(given), digest(expected))
}

/** The actor of a request; rejects with `UNAUTHORIZED` when the caller is unknown. */
export async function actorFromRequest(req: Request, lookup: Identities = identities): Promise<Actor> {
  const internal = req.headers.get('x-internal-auth')?.trim()
  if (internal && sameSecret(internal, process.env.INTERNAL_API_SECRET?.trim() ?? '')) return Actor.internal()
  const bearer = req.headers.get('authorization')?.replace(/^Bearer\s+/i, '').trim() || req.headers.get('x-api-key')?.trim()
  if (bearer?.startsWith('ltcg_')) {
    const agentId = await lookup.agentForApiKey(bearer)
    if (agentId) return Actor.agent(agentId)
  } else if (bearer) {
    const userId = await lookup.userForToken(bearer)
    if (userId) return Actor.user(userId)
  }
  throw Object.assign(new Error('unauthorized: sign in or send an agent API key'), {
    code: 'UNAUTHORIZED',
    retryable: false,
  })
}
