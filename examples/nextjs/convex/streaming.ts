// The library's session store contract as Convex functions: each store method is one query or
// mutation, so each runs as one transaction (a second active session for an entity is refused
// inside `insertSession`; `updateSession` is a compare-and-swap on `version`). Refusals the
// contract defines are returned as `{ error: { code, message } }` so that every client (the
// HTTP client, convex-test) reads them the same way; `lib/convex-store.ts` turns them into the
// library's coded errors. Every function first checks the store secret (`admit`).
import {
  type DataModelFromSchemaDefinition,
  type GenericMutationCtx,
  type GenericQueryCtx,
  type MutationBuilder,
  type QueryBuilder,
  mutationGeneric,
  queryGeneric,
} from 'convex/server'
import { type PropertyValidators, v } from 'convex/values'

import schema from './schema'

type DataModel = DataModelFromSchemaDefinition<typeof schema>
type QueryCtx = GenericQueryCtx<DataModel>
type MutationCtx = GenericMutationCtx<DataModel>

/** Whether `given` is the deployment's `STREAMING_CONVEX_SECRET` (compared in constant time).
 *  Every function checks it first: they are public functions, called only by your server. */
function admit(given: string): void {
  const expected = process.env.STREAMING_CONVEX_SECRET ?? ''
  if (expected.length < 32) {
    throw new Error('STREAMING_CONVEX_SECRET is not set on this deployment (at least 32 characters)')
  }
  let differ = given.length ^ expected.length
  for (let i = 0; i < expected.length; i++) differ |= expected.charCodeAt(i) ^ given.charCodeAt(i % Math.max(1, given.length))
  if (differ !== 0) throw new Error('unauthorized')
}

type Def<Ctx> = { args: PropertyValidators; handler: (ctx: Ctx, args: any) => Promise<unknown> }

/** A public query taking the store secret (`secret`) besides `def.args`. */
function query(def: Def<QueryCtx>) {
  return (queryGeneric as QueryBuilder<DataModel, 'public'>)({
    args: { ...def.args, secret: v.string() },
    handler: (ctx, { secret, ...args }: { secret: string }) => {
      admit(secret)
      return def.handler(ctx, args)
    },
  })
}

/** A public mutation taking the store secret (`secret`) besides `def.args`. */
function mutation(def: Def<MutationCtx>) {
  return (mutationGeneric as MutationBuilder<DataModel, 'public'>)({
    args: { ...def.args, secret: v.string() },
    handler: (ctx, { secret, ...args }: { secret: string }) => {
      admit(secret)
      return def.handler(ctx, args)
    },
  })
}

// The library's records, as the store contract defines them (see `@ltcg/streaming`'s
// `StreamSession`, `Activity`, ...): kept whole, read back whole.
type Json = Record<string, unknown>
type Session = Json & {
  sessionId: string
  streamType: string
  entityId: string
  status: string
  egressId: string | null
  createdAt: number
  version: number
  viewerCount: number
  peakViewerCount: number
  decisionsLogged: number
  eventsRecorded: number
  platform: string
}

const TERMINAL = new Set(['ended', 'error'])
const entityArg = v.object({ streamType: v.string(), entityId: v.string() })
const refusal = (code: string, message: string) => ({ error: { code, message } })

function sessionRow(session: Session) {
  return {
    sessionId: session.sessionId,
    streamType: session.streamType,
    entityId: session.entityId,
    active: !TERMINAL.has(session.status),
    egressId: session.egressId ?? null,
    createdAt: session.createdAt,
    data: session,
  }
}

async function sessionDoc(ctx: QueryCtx, sessionId: string) {
  return ctx.db
    .query('streamingSessions')
    .withIndex('by_sessionId', (q) => q.eq('sessionId', sessionId))
    .unique()
}

async function activeDoc(ctx: QueryCtx, streamType: string, entityId: string) {
  return ctx.db
    .query('streamingSessions')
    .withIndex('by_entity_active', (q) => q.eq('streamType', streamType).eq('entityId', entityId).eq('active', true))
    .first()
}

export const insertSession = mutation({
  args: { session: v.any() },
  handler: async (ctx, { session }: { session: Session }) => {
    const active = TERMINAL.has(session.status) ? null : await activeDoc(ctx, session.streamType, session.entityId)
    if (active) return { created: false, session: active.data }
    const stored = { ...session, version: 1 }
    await ctx.db.insert('streamingSessions', sessionRow(stored))
    return { created: true, session: stored }
  },
})

export const getSession = query({
  args: { sessionId: v.string() },
  handler: async (ctx, { sessionId }) => (await sessionDoc(ctx, sessionId))?.data ?? null,
})

export const findByEgress = query({
  args: { egressId: v.string() },
  handler: async (ctx, { egressId }) =>
    (
      await ctx.db
        .query('streamingSessions')
        .withIndex('by_egress', (q) => q.eq('egressId', egressId))
        .first()
    )?.data ?? null,
})

export const activeSession = query({
  args: { entity: entityArg },
  handler: async (ctx, { entity }) => (await activeDoc(ctx, entity.streamType, entity.entityId))?.data ?? null,
})

export const updateSession = mutation({
  args: { session: v.any() },
  handler: async (ctx, { session }: { session: Session }) => {
    const doc = await sessionDoc(ctx, session.sessionId)
    if (!doc) return refusal('NOT_FOUND', 'session not found')
    const current = doc.data as Session
    if (current.version !== session.version) return refusal('CONFLICT', 'session changed meanwhile')
    const stored: Session = {
      ...session,
      version: current.version + 1,
      // Counters change only through recordActivity and setViewerCount.
      viewerCount: current.viewerCount,
      peakViewerCount: current.peakViewerCount,
      decisionsLogged: current.decisionsLogged,
      eventsRecorded: current.eventsRecorded,
    }
    await ctx.db.replace(doc._id, sessionRow(stored))
    return { session: stored }
  },
})

const CURSOR = /^(-?\d+)\.([A-Za-z0-9_-]{1,128})$/

export const listSessions = query({
  args: { query: v.any() },
  handler: async (ctx, { query: q }: { query: Json }) => {
    let after: { createdAt: number; sessionId: string } | null = null
    if (q.cursor !== null && q.cursor !== undefined) {
      const match = CURSOR.exec(String(q.cursor))
      if (!match?.[1] || !match[2]) return refusal('INVALID_INPUT', 'is not a cursor returned by this store')
      after = { createdAt: Number(match[1]), sessionId: match[2] }
    }
    const entity = q.entity as { streamType: string; entityId: string } | null
    const limit = Number(q.limit)
    const rows = ctx.db
      .query('streamingSessions')
      .withIndex('by_created', (r) => (after ? r.lte('createdAt', after.createdAt) : r))
      .order('desc')
    const page: Session[] = []
    let more = false
    for await (const row of rows) {
      const s = row.data as Session
      if (after && s.createdAt === after.createdAt && s.sessionId >= after.sessionId) continue
      if (entity && (s.streamType !== entity.streamType || s.entityId !== entity.entityId)) continue
      if (q.status && s.status !== q.status) continue
      if (q.activeOnly && TERMINAL.has(s.status)) continue
      if (q.platform && s.platform !== q.platform) continue
      if (q.createdFrom !== null && q.createdFrom !== undefined && s.createdAt < Number(q.createdFrom)) continue
      if (q.createdBefore !== null && q.createdBefore !== undefined && s.createdAt >= Number(q.createdBefore)) continue
      if (page.length === limit) {
        more = true
        break
      }
      page.push(s)
    }
    const last = page.at(-1)
    return { sessions: page, nextCursor: more && last ? `${last.createdAt}.${last.sessionId}` : null }
  },
})

/** A live session's row, or the contract's refusal. */
async function liveDoc(ctx: QueryCtx, sessionId: string) {
  const doc = await sessionDoc(ctx, sessionId)
  if (!doc) return { refused: refusal('NOT_FOUND', 'session not found') } as const
  if (TERMINAL.has((doc.data as Session).status)) return { refused: refusal('CONFLICT', 'session is over') } as const
  return { doc } as const
}

export const recordActivity = mutation({
  args: { sessionId: v.string(), activity: v.any() },
  handler: async (ctx, { sessionId, activity }: { sessionId: string; activity: Json & { kind: string } }) => {
    const found = await liveDoc(ctx, sessionId)
    if ('refused' in found) return found.refused
    const session = { ...(found.doc.data as Session) }
    await ctx.db.insert('streamingActivities', { sessionId, kind: activity.kind, data: activity })
    if (activity.kind === 'decision') session.decisionsLogged += 1
    else session.eventsRecorded += 1
    session.version += 1
    await ctx.db.replace(found.doc._id, sessionRow(session))
    return { session }
  },
})

export const recentActivity = query({
  args: { sessionId: v.string(), kind: v.string(), limit: v.number() },
  handler: async (ctx, { sessionId, kind, limit }) =>
    (
      await ctx.db
        .query('streamingActivities')
        .withIndex('by_session_kind', (q) => q.eq('sessionId', sessionId).eq('kind', kind))
        .order('desc')
        .take(limit)
    ).map((row) => row.data),
})

export const setViewerCount = mutation({
  args: { sessionId: v.string(), viewers: v.number() },
  handler: async (ctx, { sessionId, viewers }) => {
    const found = await liveDoc(ctx, sessionId)
    if ('refused' in found) return found.refused
    const session = { ...(found.doc.data as Session) }
    session.viewerCount = viewers
    session.peakViewerCount = Math.max(session.peakViewerCount, viewers)
    session.version += 1
    await ctx.db.replace(found.doc._id, sessionRow(session))
    return { session }
  },
})

async function eventDoc(ctx: QueryCtx, eventId: string) {
  return ctx.db
    .query('streamingProcessedEvents')
    .withIndex('by_eventId', (q) => q.eq('eventId', eventId))
    .unique()
}

export const claimEvent = mutation({
  args: { eventId: v.string(), nowMs: v.number() },
  handler: async (ctx, { eventId, nowMs }) => {
    if (await eventDoc(ctx, eventId)) return false
    await ctx.db.insert('streamingProcessedEvents', { eventId, claimedAt: nowMs })
    return true
  },
})

export const releaseEvent = mutation({
  args: { eventId: v.string() },
  handler: async (ctx, { eventId }) => {
    const doc = await eventDoc(ctx, eventId)
    if (doc) await ctx.db.delete(doc._id)
    return null
  },
})

export const pruneEvents = mutation({
  args: { claimedBeforeMs: v.number() },
  handler: async (ctx, { claimedBeforeMs }) => {
    const old = await ctx.db
      .query('streamingProcessedEvents')
      .withIndex('by_claimedAt', (q) => q.lt('claimedAt', claimedBeforeMs))
      .collect()
    for (const doc of old) await ctx.db.delete(doc._id)
    return old.length
  },
})

async function leaseDoc(ctx: QueryCtx, name: string) {
  return ctx.db
    .query('streamingLeases')
    .withIndex('by_name', (q) => q.eq('name', name))
    .unique()
}

export const claimLease = mutation({
  args: { name: v.string(), holder: v.string(), nowMs: v.number(), ttlMs: v.number() },
  handler: async (ctx, { name, holder, nowMs, ttlMs }) => {
    const doc = await leaseDoc(ctx, name)
    if (doc && doc.holder !== holder && doc.expiresAt > nowMs) {
      return { name, holder: doc.holder, expiresAt: doc.expiresAt }
    }
    const lease = { name, holder, expiresAt: nowMs + ttlMs }
    if (doc) await ctx.db.replace(doc._id, lease)
    else await ctx.db.insert('streamingLeases', lease)
    return lease
  },
})

export const releaseLease = mutation({
  args: { name: v.string(), holder: v.string() },
  handler: async (ctx, { name, holder }) => {
    const doc = await leaseDoc(ctx, name)
    if (!doc || doc.holder !== holder) return false
    await ctx.db.delete(doc._id)
    return true
  },
})

async function credentialDoc(ctx: QueryCtx, streamType: string, entityId: string) {
  return ctx.db
    .query('streamingPlatforms')
    .withIndex('by_entity', (q) => q.eq('streamType', streamType).eq('entityId', entityId))
    .unique()
}

export const putCredential = mutation({
  args: { credential: v.any() },
  handler: async (ctx, { credential }: { credential: Json & { streamType: string; entityId: string } }) => {
    const row = { streamType: credential.streamType, entityId: credential.entityId, data: credential }
    const doc = await credentialDoc(ctx, credential.streamType, credential.entityId)
    if (doc) await ctx.db.replace(doc._id, row)
    else await ctx.db.insert('streamingPlatforms', row)
    return null
  },
})

export const getCredential = query({
  args: { entity: entityArg },
  handler: async (ctx, { entity }) => (await credentialDoc(ctx, entity.streamType, entity.entityId))?.data ?? null,
})

export const deleteCredential = mutation({
  args: { entity: entityArg },
  handler: async (ctx, { entity }) => {
    const doc = await credentialDoc(ctx, entity.streamType, entity.entityId)
    if (!doc) return false
    await ctx.db.delete(doc._id)
    return true
  },
})

/** Byte order of UTF-8 strings (the order every store of the library pages in). */
const utf8 = new TextEncoder()
function byteOrder(a: string, b: string): number {
  const [x, y] = [utf8.encode(a), utf8.encode(b)]
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0)
  }
  return x.length - y.length
}

export const listCredentials = query({
  args: { after: v.union(entityArg, v.null()), limit: v.number() },
  handler: async (ctx, { after, limit }) => {
    // Convex orders index keys in its own way; the contract's order is bytes, so sort here.
    const all = await ctx.db.query('streamingPlatforms').collect()
    const order = (a: { streamType: string; entityId: string }, b: { streamType: string; entityId: string }) =>
      byteOrder(a.streamType, b.streamType) || byteOrder(a.entityId, b.entityId)
    return all
      .filter((row) => !after || order(row, after) > 0)
      .sort(order)
      .slice(0, limit)
      .map((row) => row.data)
  },
})

export const putGameState = mutation({
  args: { gameState: v.any() },
  handler: async (ctx, { gameState }: { gameState: { state: { lobbyId: string } } }) => {
    const lobbyId = gameState.state.lobbyId
    const doc = await ctx.db
      .query('streamingGameStates')
      .withIndex('by_lobby', (q) => q.eq('lobbyId', lobbyId))
      .unique()
    if (doc) await ctx.db.replace(doc._id, { lobbyId, data: gameState })
    else await ctx.db.insert('streamingGameStates', { lobbyId, data: gameState })
    return null
  },
})

export const getGameState = query({
  args: { lobbyId: v.string() },
  handler: async (ctx, { lobbyId }) =>
    (
      await ctx.db
        .query('streamingGameStates')
        .withIndex('by_lobby', (q) => q.eq('lobbyId', lobbyId))
        .unique()
    )?.data ?? null,
})

export const recordViewerSamples = mutation({
  args: { samples: v.array(v.any()) },
  handler: async (ctx, { samples }: { samples: (Json & { sessionId: string; at: number; destinationId: string })[] }) => {
    for (const sample of samples) {
      const row = { sessionId: sample.sessionId, at: sample.at, destinationId: sample.destinationId, data: sample }
      const doc = await ctx.db
        .query('streamingViewerSamples')
        .withIndex('by_session_at', (q) =>
          q.eq('sessionId', sample.sessionId).eq('at', sample.at).eq('destinationId', sample.destinationId),
        )
        .unique()
      if (doc) await ctx.db.replace(doc._id, row)
      else await ctx.db.insert('streamingViewerSamples', row)
    }
    return null
  },
})

export const viewerSamples = query({
  args: { sessionId: v.string(), limit: v.number() },
  handler: async (ctx, { sessionId, limit }) => {
    const rows = await ctx.db
      .query('streamingViewerSamples')
      .withIndex('by_session_at', (q) => q.eq('sessionId', sessionId))
      .collect()
    rows.sort((a, b) => a.at - b.at || byteOrder(a.destinationId, b.destinationId))
    return rows.slice(0, limit).map((row) => row.data)
  },
})

export const appendTimeline = mutation({
  args: { entries: v.array(v.any()) },
  handler: async (ctx, { entries }: { entries: (Json & { sessionId: string })[] }) => {
    for (const entry of entries) await ctx.db.insert('streamingTimeline', { sessionId: entry.sessionId, data: entry })
    return null
  },
})

export const timeline = query({
  args: { sessionId: v.string(), limit: v.number() },
  handler: async (ctx, { sessionId, limit }) =>
    (
      await ctx.db
        .query('streamingTimeline')
        .withIndex('by_session', (q) => q.eq('sessionId', sessionId))
        .take(limit)
    ).map((row) => row.data),
})

async function agentKeyDoc(ctx: QueryCtx, prefix: string) {
  return ctx.db
    .query('streamingAgentKeys')
    .withIndex('by_prefix', (q) => q.eq('prefix', prefix))
    .unique()
}

export const insertAgentKey = mutation({
  args: { agentKey: v.any() },
  handler: async (ctx, { agentKey }: { agentKey: Json & { prefix: string; agentId: string; createdAt: number } }) => {
    if (await agentKeyDoc(ctx, agentKey.prefix)) return false
    const { prefix, agentId, createdAt } = agentKey
    await ctx.db.insert('streamingAgentKeys', { prefix, agentId, createdAt, data: agentKey })
    return true
  },
})

export const agentKey = query({
  args: { prefix: v.string() },
  handler: async (ctx, { prefix }) => (await agentKeyDoc(ctx, prefix))?.data ?? null,
})

export const revokeAgentKey = mutation({
  args: { prefix: v.string(), nowMs: v.number() },
  handler: async (ctx, { prefix, nowMs }) => {
    const doc = await agentKeyDoc(ctx, prefix)
    if (!doc) return null
    // Revoked once: a second revocation keeps the first time.
    if (doc.data.revokedAt != null) return doc.data
    const data = { ...doc.data, revokedAt: nowMs }
    await ctx.db.patch(doc._id, { data })
    return data
  },
})

export const listAgentKeys = query({
  args: { agentId: v.union(v.string(), v.null()) },
  handler: async (ctx, { agentId }) => {
    const rows =
      agentId === null
        ? await ctx.db.query('streamingAgentKeys').withIndex('by_created').collect()
        : await ctx.db
            .query('streamingAgentKeys')
            .withIndex('by_agent_created', (q) => q.eq('agentId', agentId))
            .collect()
    return rows.map((row) => row.data)
  },
})
