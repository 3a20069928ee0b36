// `@ltcg/streaming/testing`: the core's session-store conformance suite, for people writing
// their own store. Imported only on request; the main entry point does not declare it.
import type { SessionStore } from './index.js'

/** One check the store failed. */
export interface ConformanceFailure {
  /** The check's name, one of `ConformanceReport.checks` (e.g. `update_is_compare_and_swap`). */
  check: string
  /** The first expectation the store broke, e.g. `stale update gave Ok(...), want CONFLICT`. */
  failure: string
}

/** What a run of the suite found. */
export interface ConformanceReport {
  /** The names of the checks run, in order. The list grows as the store contract is sharpened. */
  checks: string[]
  /** The failed checks, in the order of `checks`; empty when the store conforms. */
  failures: ConformanceFailure[]
}

/**
 * Checks a session store against the core's conformance suite, the one the built-in memory,
 * SQLite and PostgreSQL stores pass: one active session per entity, `updateSession` as a
 * compare-and-swap on `version`, counters that survive updates, newest-first pages with
 * cursors, event claims and pruning (`pruneEvents` is required here), credentials, and
 * concurrent calls that lose nothing; and, for a store with the agent-key methods
 * (`insertAgentKey`, `agentKey`, `revokeAgentKey`, `listAgentKeys`), the check `agent_keys`.
 *
 * `makeStore` is called once per check, all before the first check runs, and must return a
 * fresh, empty store written in JavaScript. An error the store throws fails the check it was
 * thrown in; an object that lacks store methods, or an error `makeStore` throws, throws from
 * this call.
 *
 * @example
 * const { failures } = await runSessionStoreConformance(() => new MyStore())
 * assert.deepEqual(failures, [])
 */
export declare function runSessionStoreConformance(makeStore: () => SessionStore): Promise<ConformanceReport>
