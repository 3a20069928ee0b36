// A session store written in TypeScript, the shape a Convex-backed one takes: each method is one
// Convex mutation or query (transactional there, like each synchronous method body here).
// `ConvexTables` stands in for the deployment's tables (the product's `streamingSessions`,
// `streamingPlatforms`, ...); swap each method body for `convex.mutation(api.streaming.x, args)`.
import type {
  Activity,
  ActivityKind,
  Entity,
  ErrorCode,
  InsertResult,
  Lease,
  PlatformCredential,
  SessionPage,
  SessionQuery,
  SessionStore,
  StoredGameState,
  StreamSession,
  TimelineEntry,
  ViewerSample,
} from '@ltcg/streaming'

/** The tables a Convex deployment would hold. */
export class ConvexTables {
  readonly streamingSessions = new Map<string, StreamSession>()
  readonly streamingActivities = new Map<string, Activity[]>()
  readonly streamingProcessedEvents = new Map<string, number>()
  readonly streamingLeases = new Map<string, Lease>()
  readonly streamingPlatforms = new Map<string, PlatformCredential>()
  readonly streamingGameStates = new Map<string, StoredGameState>()
  /** Keyed by session id, then `${at}:${destinationId}`. */
  readonly streamingViewerSamples = new Map<string, Map<string, ViewerSample>>()
  /** Keyed by session id, in the order appended. */
  readonly streamingTimeline = new Map<string, TimelineEntry[]>()
}

const TERMINAL = new Set(['ended', 'error'])

/** The contract's outcomes are reported as errors carrying the library's code. */
function storeError(code: ErrorCode, message: string): Error {
  return Object.assign(new Error(message), { code })
}

const key = (entity: Entity): string => `${entity.streamType}:${entity.entityId}`
// Credentials are paged in (streamType, entityId) order, compared as the stores compare.
const compareEntities = (a: Entity, b: Entity): number =>
  a.streamType === b.streamType
    ? a.entityId < b.entityId ? -1 : a.entityId > b.entityId ? 1 : 0
    : a.streamType < b.streamType ? -1 : 1
const copy = <T>(value: T): T => structuredClone(value)

/** Newest first: by `createdAt`, then by id. */
function newestFirst(a: StreamSession, b: StreamSession): number {
  return b.createdAt - a.createdAt || (a.sessionId < b.sessionId ? 1 : a.sessionId > b.sessionId ? -1 : 0)
}

export class ConvexSessionStore implements SessionStore {
  constructor(private readonly db = new ConvexTables()) {}

  private active(entity: Entity): StreamSession | undefined {
    for (const session of this.db.streamingSessions.values()) {
      if (key(session) === key(entity) && !TERMINAL.has(session.status)) return session
    }
    return undefined
  }

  private live(sessionId: string): StreamSession {
    const session = this.db.streamingSessions.get(sessionId)
    if (!session) throw storeError('NOT_FOUND', 'session not found')
    if (TERMINAL.has(session.status)) throw storeError('CONFLICT', 'session is over')
    return session
  }

  async insertSession(session: StreamSession): Promise<InsertResult> {
    const active = this.active(session)
    if (active) return { created: false, session: copy(active) }
    const stored: StreamSession = { ...copy(session), version: 1 }
    this.db.streamingSessions.set(stored.sessionId, stored)
    this.db.streamingActivities.set(stored.sessionId, [])
    return { created: true, session: copy(stored) }
  }

  async getSession(sessionId: string): Promise<StreamSession | null> {
    const session = this.db.streamingSessions.get(sessionId)
    return session ? copy(session) : null
  }

  async findByEgress(egressId: string): Promise<StreamSession | null> {
    for (const session of this.db.streamingSessions.values()) {
      if (session.egressId === egressId) return copy(session)
    }
    return null
  }

  async activeSession(entity: Entity): Promise<StreamSession | null> {
    const session = this.active(entity)
    return session ? copy(session) : null
  }

  async updateSession(session: StreamSession): Promise<StreamSession> {
    const current = this.db.streamingSessions.get(session.sessionId)
    if (!current) throw storeError('NOT_FOUND', 'session not found')
    if (current.version !== session.version) throw storeError('CONFLICT', 'session changed meanwhile')
    const stored: StreamSession = {
      ...copy(session),
      version: current.version + 1,
      // Counters change only through recordActivity and setViewerCount.
      viewerCount: current.viewerCount,
      peakViewerCount: current.peakViewerCount,
      decisionsLogged: current.decisionsLogged,
      eventsRecorded: current.eventsRecorded,
    }
    this.db.streamingSessions.set(stored.sessionId, stored)
    return copy(stored)
  }

  async listSessions(query: SessionQuery): Promise<SessionPage> {
    let after: { createdAt: number; sessionId: string } | null = null
    if (query.cursor !== null) {
      const match = /^(-?\d+)\.([A-Za-z0-9_-]{1,128})$/.exec(query.cursor)
      if (!match?.[1] || !match[2]) throw storeError('INVALID_INPUT', 'is not a cursor returned by this store')
      after = { createdAt: Number(match[1]), sessionId: match[2] }
    }
    const matching = [...this.db.streamingSessions.values()]
      .filter((s) => !query.entity || key(s) === key(query.entity))
      .filter((s) => !query.status || s.status === query.status)
      .filter((s) => !query.activeOnly || !TERMINAL.has(s.status))
      .filter((s) => !query.platform || s.platform === query.platform)
      .filter((s) => query.createdFrom === null || s.createdAt >= query.createdFrom)
      .filter((s) => query.createdBefore === null || s.createdAt < query.createdBefore)
      .filter(
        (s) =>
          !after ||
          s.createdAt < after.createdAt ||
          (s.createdAt === after.createdAt && s.sessionId < after.sessionId),
      )
      .sort(newestFirst)
    const page = matching.slice(0, query.limit)
    const last = page.at(-1)
    const nextCursor = last && matching.length > query.limit ? `${last.createdAt}.${last.sessionId}` : null
    return { sessions: page.map(copy), nextCursor }
  }

  async recordActivity(sessionId: string, activity: Activity): Promise<StreamSession> {
    const session = this.live(sessionId)
    this.db.streamingActivities.get(sessionId)?.push(copy(activity))
    if (activity.kind === 'decision') session.decisionsLogged += 1
    else session.eventsRecorded += 1
    session.version += 1
    return copy(session)
  }

  async recentActivity(sessionId: string, kind: ActivityKind, limit: number): Promise<Activity[]> {
    const feed = this.db.streamingActivities.get(sessionId) ?? []
    return feed
      .filter((a) => a.kind === kind)
      .reverse()
      .slice(0, limit)
      .map(copy)
  }

  async setViewerCount(sessionId: string, viewers: number): Promise<StreamSession> {
    const session = this.live(sessionId)
    session.viewerCount = viewers
    session.peakViewerCount = Math.max(session.peakViewerCount, viewers)
    session.version += 1
    return copy(session)
  }

  async claimEvent(eventId: string, nowMs: number): Promise<boolean> {
    if (this.db.streamingProcessedEvents.has(eventId)) return false
    this.db.streamingProcessedEvents.set(eventId, nowMs)
    return true
  }

  async releaseEvent(eventId: string): Promise<void> {
    this.db.streamingProcessedEvents.delete(eventId)
  }

  async pruneEvents(claimedBeforeMs: number): Promise<number> {
    let pruned = 0
    for (const [eventId, claimedAt] of this.db.streamingProcessedEvents) {
      if (claimedAt < claimedBeforeMs) {
        this.db.streamingProcessedEvents.delete(eventId)
        pruned += 1
      }
    }
    return pruned
  }

  async claimLease(name: string, holder: string, nowMs: number, ttlMs: number): Promise<Lease> {
    const lease = this.db.streamingLeases.get(name)
    if (!lease || lease.holder === holder || lease.expiresAt <= nowMs) {
      this.db.streamingLeases.set(name, { name, holder, expiresAt: nowMs + ttlMs })
    }
    return copy(this.db.streamingLeases.get(name)!)
  }

  async releaseLease(name: string, holder: string): Promise<boolean> {
    if (this.db.streamingLeases.get(name)?.holder !== holder) return false
    this.db.streamingLeases.delete(name)
    return true
  }

  async putCredential(credential: PlatformCredential): Promise<void> {
    this.db.streamingPlatforms.set(key(credential), copy(credential))
  }

  async getCredential(entity: Entity): Promise<PlatformCredential | null> {
    const credential = this.db.streamingPlatforms.get(key(entity))
    return credential ? copy(credential) : null
  }

  async deleteCredential(entity: Entity): Promise<boolean> {
    return this.db.streamingPlatforms.delete(key(entity))
  }

  async listCredentials(after: Entity | null, limit: number): Promise<PlatformCredential[]> {
    return [...this.db.streamingPlatforms.values()]
      .filter((c) => !after || compareEntities(c, after) > 0)
      .sort(compareEntities)
      .slice(0, limit)
      .map(copy)
  }

  async putGameState(gameState: StoredGameState): Promise<void> {
    this.db.streamingGameStates.set(gameState.state.lobbyId, copy(gameState))
  }

  async getGameState(lobbyId: string): Promise<StoredGameState | null> {
    const gameState = this.db.streamingGameStates.get(lobbyId)
    return gameState ? copy(gameState) : null
  }

  async recordViewerSamples(samples: ViewerSample[]): Promise<void> {
    for (const sample of samples) {
      let perSession = this.db.streamingViewerSamples.get(sample.sessionId)
      if (!perSession) {
        perSession = new Map()
        this.db.streamingViewerSamples.set(sample.sessionId, perSession)
      }
      perSession.set(`${sample.at}:${sample.destinationId}`, copy(sample))
    }
  }

  async viewerSamples(sessionId: string, limit: number): Promise<ViewerSample[]> {
    const all = [...(this.db.streamingViewerSamples.get(sessionId)?.values() ?? [])]
    all.sort((a, b) => a.at - b.at || a.destinationId.localeCompare(b.destinationId))
    return all.slice(0, limit).map(copy)
  }

  async appendTimeline(entries: TimelineEntry[]): Promise<void> {
    for (const entry of entries) {
      const perSession = this.db.streamingTimeline.get(entry.sessionId) ?? []
      perSession.push(copy(entry))
      this.db.streamingTimeline.set(entry.sessionId, perSession)
    }
  }

  async timeline(sessionId: string, limit: number): Promise<TimelineEntry[]> {
    return (this.db.streamingTimeline.get(sessionId) ?? []).slice(0, limit).map(copy)
  }
}
