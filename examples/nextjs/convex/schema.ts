// The tables of the library's session store in a Convex deployment: the product's
// `streamingSessions` and `streamingPlatforms`, plus what the store contract needs. Each row
// keeps the library's record whole in `data` and copies the fields it is looked up by.
import { defineSchema, defineTable } from 'convex/server'
import { v } from 'convex/values'

export default defineSchema({
  streamingSessions: defineTable({
    sessionId: v.string(),
    streamType: v.string(),
    entityId: v.string(),
    /** `true` until the session ends: at most one active row per entity (checked by `insertSession`). */
    active: v.boolean(),
    egressId: v.union(v.string(), v.null()),
    createdAt: v.number(),
    data: v.any(),
  })
    .index('by_sessionId', ['sessionId'])
    .index('by_entity_active', ['streamType', 'entityId', 'active'])
    .index('by_egress', ['egressId'])
    .index('by_created', ['createdAt', 'sessionId']),
  streamingActivities: defineTable({ sessionId: v.string(), kind: v.string(), data: v.any() }).index(
    'by_session_kind',
    ['sessionId', 'kind'],
  ),
  streamingProcessedEvents: defineTable({ eventId: v.string(), claimedAt: v.number() })
    .index('by_eventId', ['eventId'])
    .index('by_claimedAt', ['claimedAt']),
  streamingLeases: defineTable({ name: v.string(), holder: v.string(), expiresAt: v.number() }).index('by_name', [
    'name',
  ]),
  streamingPlatforms: defineTable({ streamType: v.string(), entityId: v.string(), data: v.any() }).index(
    'by_entity',
    ['streamType', 'entityId'],
  ),
  streamingGameStates: defineTable({ lobbyId: v.string(), data: v.any() }).index('by_lobby', ['lobbyId']),
  streamingViewerSamples: defineTable({
    sessionId: v.string(),
    at: v.number(),
    destinationId: v.string(),
    data: v.any(),
  }).index('by_session_at', ['sessionId', 'at', 'destinationId']),
  streamingTimeline: defineTable({ sessionId: v.string(), data: v.any() }).index('by_session', ['sessionId']),
  /** Agents' API keys: only their Argon2id hashes (made and checked by the library's `AgentKeys`). */
  streamingAgentKeys: defineTable({ prefix: v.string(), agentId: v.string(), createdAt: v.number(), data: v.any() })
    .index('by_prefix', ['prefix'])
    .index('by_created', ['createdAt', 'prefix'])
    .index('by_agent_created', ['agentId', 'createdAt', 'prefix']),
})
