// The library's session store on a Convex deployment: each method calls one function of
// `convex/streaming.ts` through a Convex client — `ConvexHttpClient` in the app, the
// in-memory backend of `convex-test` in tests. Refusals come back as `{ error }` and become
// errors carrying the library's code.
import type {
  Activity,
  AgentKey,
  ActivityKind,
  Entity,
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
import { anyApi, type FunctionReference } from 'convex/server'

/** What the store needs of a Convex client (`ConvexHttpClient` and `convex-test` have it). */
export interface ConvexCaller {
  query(fn: FunctionReference<'query'>, args: Record<string, unknown>): Promise<unknown>
  mutation(fn: FunctionReference<'mutation'>, args: Record<string, unknown>): Promise<unknown>
}

/** The functions of `convex/streaming.ts` (`api.streaming` of the generated API). */
const fns = anyApi.streaming as Record<string, FunctionReference<'query' | 'mutation'>>
const fn = (name: string) => fns[name] as FunctionReference<'query' & 'mutation'>

interface Refusal {
  error: { code: string; message: string }
}

function refused(value: unknown): value is Refusal {
  return typeof value === 'object' && value !== null && 'error' in value
}

/** `value`, or the refusal it carries as an error with the library's `code`. */
function accepted<T>(value: unknown, pick: (v: any) => T = (v) => v as T): T {
  if (refused(value)) throw Object.assign(new Error(value.error.message), { code: value.error.code })
  return pick(value)
}

const entityOf = (e: Entity): Entity => ({ streamType: e.streamType, entityId: e.entityId })

export class ConvexSessionStore implements SessionStore {
  /** `secret` is the deployment's `STREAMING_CONVEX_SECRET` (set it with
   *  `npx convex env set STREAMING_CONVEX_SECRET ...`); every function checks it. */
  constructor(
    private readonly convex: ConvexCaller,
    private readonly secret: string,
  ) {}

  private q<T>(name: string, args: Record<string, unknown>): Promise<T> {
    return this.convex.query(fn(name), { ...args, secret: this.secret }) as Promise<T>
  }

  private m<T>(name: string, args: Record<string, unknown>): Promise<T> {
    return this.convex.mutation(fn(name), { ...args, secret: this.secret }) as Promise<T>
  }

  async insertSession(session: StreamSession): Promise<InsertResult> {
    return this.m('insertSession', { session })
  }
  async getSession(sessionId: string): Promise<StreamSession | null> {
    return this.q('getSession', { sessionId })
  }
  async findByEgress(egressId: string): Promise<StreamSession | null> {
    return this.q('findByEgress', { egressId })
  }
  async activeSession(entity: Entity): Promise<StreamSession | null> {
    return this.q('activeSession', { entity: entityOf(entity) })
  }
  async updateSession(session: StreamSession): Promise<StreamSession> {
    return accepted(await this.m('updateSession', { session }), (v) => v.session)
  }
  async listSessions(query: SessionQuery): Promise<SessionPage> {
    return accepted(await this.q('listSessions', { query }))
  }
  async recordActivity(sessionId: string, activity: Activity): Promise<StreamSession> {
    return accepted(await this.m('recordActivity', { sessionId, activity }), (v) => v.session)
  }
  async recentActivity(sessionId: string, kind: ActivityKind, limit: number): Promise<Activity[]> {
    return this.q('recentActivity', { sessionId, kind, limit })
  }
  async setViewerCount(sessionId: string, viewers: number): Promise<StreamSession> {
    return accepted(await this.m('setViewerCount', { sessionId, viewers }), (v) => v.session)
  }
  async claimEvent(eventId: string, nowMs: number): Promise<boolean> {
    return this.m('claimEvent', { eventId, nowMs })
  }
  async releaseEvent(eventId: string): Promise<void> {
    await this.m('releaseEvent', { eventId })
  }
  async pruneEvents(claimedBeforeMs: number): Promise<number> {
    return this.m('pruneEvents', { claimedBeforeMs })
  }
  async claimLease(name: string, holder: string, nowMs: number, ttlMs: number): Promise<Lease> {
    return this.m('claimLease', { name, holder, nowMs, ttlMs })
  }
  async releaseLease(name: string, holder: string): Promise<boolean> {
    return this.m('releaseLease', { name, holder })
  }
  async putCredential(credential: PlatformCredential): Promise<void> {
    await this.m('putCredential', { credential })
  }
  async getCredential(entity: Entity): Promise<PlatformCredential | null> {
    return this.q('getCredential', { entity: entityOf(entity) })
  }
  async deleteCredential(entity: Entity): Promise<boolean> {
    return this.m('deleteCredential', { entity: entityOf(entity) })
  }
  async listCredentials(after: Entity | null, limit: number): Promise<PlatformCredential[]> {
    return this.q('listCredentials', { after: after && entityOf(after), limit })
  }
  async putGameState(gameState: StoredGameState): Promise<void> {
    await this.m('putGameState', { gameState })
  }
  async getGameState(lobbyId: string): Promise<StoredGameState | null> {
    return this.q('getGameState', { lobbyId })
  }
  async recordViewerSamples(samples: ViewerSample[]): Promise<void> {
    await this.m('recordViewerSamples', { samples })
  }
  async viewerSamples(sessionId: string, limit: number): Promise<ViewerSample[]> {
    return this.q('viewerSamples', { sessionId, limit })
  }
  async appendTimeline(entries: TimelineEntry[]): Promise<void> {
    await this.m('appendTimeline', { entries })
  }
  async timeline(sessionId: string, limit: number): Promise<TimelineEntry[]> {
    return this.q('timeline', { sessionId, limit })
  }
  // Agent keys (the library's `AgentKeys` makes and checks them; only hashes are stored).
  async insertAgentKey(agentKey: AgentKey): Promise<boolean> {
    return this.m('insertAgentKey', { agentKey })
  }
  async agentKey(prefix: string): Promise<AgentKey | null> {
    return this.q('agentKey', { prefix })
  }
  async revokeAgentKey(prefix: string, nowMs: number): Promise<AgentKey | null> {
    return this.m('revokeAgentKey', { prefix, nowMs })
  }
  async listAgentKeys(agentId: string | null): Promise<AgentKey[]> {
    return this.q('listAgentKeys', { agentId })
  }
}
