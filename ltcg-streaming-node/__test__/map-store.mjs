// A SessionStore written in JavaScript, backed by Maps: the shape a Convex-backed store takes
// (each method would be one Convex mutation or query). Methods are plain (synchronous), so
// each is atomic on Node's single thread; `asyncStore` gives the same store with async methods.

const TERMINAL = new Set(['ended', 'error'])
const COUNTERS = ['viewerCount', 'peakViewerCount', 'decisionsLogged', 'eventsRecorded']

/** An error the binding maps to the core's error of the same code. */
function storeError(code, message, field) {
  return Object.assign(new Error(message), { code, field })
}

const entityKey = ({ streamType, entityId }) => `${streamType}:${entityId}`
// Credentials are paged in (streamType, entityId) order, compared as the stores compare.
const compareEntities = (a, b) =>
  a.streamType === b.streamType
    ? a.entityId < b.entityId ? -1 : a.entityId > b.entityId ? 1 : 0
    : a.streamType < b.streamType ? -1 : 1
const copy = (value) => structuredClone(value)

export class MapStore {
  sessions = new Map()
  activities = new Map()
  events = new Map()
  credentials = new Map()
  /** lease name → { name, holder, expiresAt }. */
  leases = new Map()
  games = new Map()
  /** sessionId → Map of `${at}\u0000${destinationId}` → sample. */
  samples = new Map()
  /** sessionId → timeline entries, in order. */
  timelines = new Map()

  #active(entity) {
    const key = entityKey(entity)
    for (const session of this.sessions.values()) {
      if (entityKey(session) === key && !TERMINAL.has(session.status)) return session
    }
    return null
  }

  #live(sessionId) {
    const session = this.sessions.get(sessionId)
    if (!session) throw storeError('NOT_FOUND', 'session not found')
    if (TERMINAL.has(session.status)) throw storeError('CONFLICT', 'session is over')
    return session
  }

  insertSession(session) {
    const active = this.#active(session)
    if (active) return { created: false, session: copy(active) }
    const stored = { ...copy(session), version: 1 }
    this.sessions.set(stored.sessionId, stored)
    this.activities.set(stored.sessionId, [])
    return { created: true, session: copy(stored) }
  }

  getSession(sessionId) {
    const session = this.sessions.get(sessionId)
    return session ? copy(session) : null
  }

  findByEgress(egressId) {
    for (const session of this.sessions.values()) {
      if (session.egressId === egressId) return copy(session)
    }
    return null
  }

  activeSession(entity) {
    const session = this.#active(entity)
    return session ? copy(session) : null
  }

  updateSession(session) {
    const current = this.sessions.get(session.sessionId)
    if (!current) throw storeError('NOT_FOUND', 'session not found')
    if (current.version !== session.version) throw storeError('CONFLICT', 'session changed meanwhile')
    const stored = { ...copy(session), version: current.version + 1 }
    for (const counter of COUNTERS) stored[counter] = current[counter]
    this.sessions.set(stored.sessionId, stored)
    return copy(stored)
  }

  listSessions({ entity, status, activeOnly, platform, createdFrom, createdBefore, cursor, limit }) {
    let after = null
    if (cursor !== null) {
      const match = /^(-?\d+)\.([A-Za-z0-9_-]{1,128})$/.exec(cursor)
      if (!match) throw storeError('INVALID_INPUT', 'is not a cursor returned by this store', 'cursor')
      after = { createdAt: Number(match[1]), sessionId: match[2] }
    }
    const newerFirst = (a, b) =>
      b.createdAt - a.createdAt || (a.sessionId < b.sessionId ? 1 : a.sessionId > b.sessionId ? -1 : 0)
    const matching = [...this.sessions.values()]
      .filter((s) => !entity || entityKey(s) === entityKey(entity))
      .filter((s) => !status || s.status === status)
      .filter((s) => !activeOnly || !TERMINAL.has(s.status))
      .filter((s) => !platform || s.platform === platform)
      .filter((s) => createdFrom === null || s.createdAt >= createdFrom)
      .filter((s) => createdBefore === null || s.createdAt < createdBefore)
      .filter(
        (s) =>
          !after ||
          s.createdAt < after.createdAt ||
          (s.createdAt === after.createdAt && s.sessionId < after.sessionId),
      )
      .sort(newerFirst)
    const page = matching.slice(0, limit)
    const last = page.at(-1)
    const nextCursor = matching.length > limit ? `${last.createdAt}.${last.sessionId}` : null
    return { sessions: page.map(copy), nextCursor }
  }

  recordActivity(sessionId, activity) {
    const session = this.#live(sessionId)
    this.activities.get(sessionId).push(copy(activity))
    session[activity.kind === 'decision' ? 'decisionsLogged' : 'eventsRecorded'] += 1
    session.version += 1
    return copy(session)
  }

  recentActivity(sessionId, kind, limit) {
    const feed = this.activities.get(sessionId) ?? []
    return feed
      .filter((a) => a.kind === kind)
      .reverse()
      .slice(0, limit)
      .map(copy)
  }

  setViewerCount(sessionId, viewers) {
    const session = this.#live(sessionId)
    session.viewerCount = viewers
    session.peakViewerCount = Math.max(session.peakViewerCount, viewers)
    session.version += 1
    return copy(session)
  }

  claimEvent(eventId, nowMs) {
    if (this.events.has(eventId)) return false
    this.events.set(eventId, nowMs)
    return true
  }

  releaseEvent(eventId) {
    this.events.delete(eventId)
  }

  pruneEvents(claimedBeforeMs) {
    let pruned = 0
    for (const [eventId, claimedAt] of this.events) {
      if (claimedAt < claimedBeforeMs) {
        this.events.delete(eventId)
        pruned += 1
      }
    }
    return pruned
  }

  claimLease(name, holder, nowMs, ttlMs) {
    const lease = this.leases.get(name)
    if (!lease || lease.holder === holder || lease.expiresAt <= nowMs) {
      this.leases.set(name, { name, holder, expiresAt: nowMs + ttlMs })
    }
    return copy(this.leases.get(name))
  }

  releaseLease(name, holder) {
    if (this.leases.get(name)?.holder !== holder) return false
    this.leases.delete(name)
    return true
  }

  putCredential(credential) {
    this.credentials.set(entityKey(credential), copy(credential))
  }

  getCredential(entity) {
    const credential = this.credentials.get(entityKey(entity))
    return credential ? copy(credential) : null
  }

  deleteCredential(entity) {
    return this.credentials.delete(entityKey(entity))
  }

  listCredentials(after, limit) {
    return [...this.credentials.values()]
      .filter((c) => !after || compareEntities(c, after) > 0)
      .sort(compareEntities)
      .slice(0, limit)
      .map(copy)
  }

  putGameState(gameState) {
    this.games.set(gameState.state.lobbyId, copy(gameState))
  }

  getGameState(lobbyId) {
    const gameState = this.games.get(lobbyId)
    return gameState ? copy(gameState) : null
  }

  recordViewerSamples(samples) {
    for (const sample of samples) {
      if (!this.samples.has(sample.sessionId)) this.samples.set(sample.sessionId, new Map())
      this.samples.get(sample.sessionId).set(`${sample.at}\u0000${sample.destinationId}`, copy(sample))
    }
  }

  viewerSamples(sessionId, limit) {
    const all = [...(this.samples.get(sessionId)?.values() ?? [])]
    all.sort((a, b) => a.at - b.at || (a.destinationId < b.destinationId ? -1 : a.destinationId > b.destinationId ? 1 : 0))
    return all.slice(0, limit).map(copy)
  }

  appendTimeline(entries) {
    for (const entry of entries) {
      if (!this.timelines.has(entry.sessionId)) this.timelines.set(entry.sessionId, [])
      this.timelines.get(entry.sessionId).push(copy(entry))
    }
  }

  timeline(sessionId, limit) {
    return (this.timelines.get(sessionId) ?? []).slice(0, limit).map(copy)
  }
}

/** A `MapStore` that also keeps agent keys (the four optional agent-key methods). */
export class KeyedMapStore extends MapStore {
  constructor() {
    super()
    this.agentKeys = new Map()
  }

  insertAgentKey(agentKey) {
    if (this.agentKeys.has(agentKey.prefix)) return false
    this.agentKeys.set(agentKey.prefix, copy(agentKey))
    return true
  }

  agentKey(prefix) {
    const key = this.agentKeys.get(prefix)
    return key ? copy(key) : null
  }

  revokeAgentKey(prefix, nowMs) {
    const key = this.agentKeys.get(prefix)
    if (!key) return null
    key.revokedAt ??= nowMs
    return copy(key)
  }

  listAgentKeys(agentId) {
    return [...this.agentKeys.values()]
      .filter((key) => agentId === null || key.agentId === agentId)
      .sort((a, b) => a.createdAt - b.createdAt || (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0))
      .map(copy)
  }
}

/** `store` with every method async, as a Convex-backed store has them. */
export function asyncStore(store) {
  const methods = {}
  for (let proto = Object.getPrototypeOf(store); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name !== 'constructor' && !(name in methods)) methods[name] = async (...args) => store[name](...args)
    }
  }
  return methods
}
