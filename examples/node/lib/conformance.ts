// The Convex-style store checked by the core's store conformance suite, as a store's own test
// does it: `@ltcg/streaming/testing` is the suite's entry point (imported on request; the main
// entry point does not carry it). A real Convex store would get a fresh deployment or cleared
// tables per check instead of fresh `ConvexTables`.
import { runSessionStoreConformance } from '@ltcg/streaming/testing'
import type { ConformanceFailure } from '@ltcg/streaming/testing'

import { ConvexSessionStore, ConvexTables } from './convex-store'

/** Runs every check on a fresh ConvexSessionStore; resolves to the names of the checks run
 *  and rejects with the failures if the store breaks the contract. */
export async function checkConvexSessionStore(): Promise<string[]> {
  const { checks, failures } = await runSessionStoreConformance(() => new ConvexSessionStore(new ConvexTables()))
  if (failures.length > 0) {
    const lines = failures.map(({ check, failure }: ConformanceFailure) => `${check}: ${failure}`)
    throw new Error(`ConvexSessionStore fails ${failures.length} of ${checks.length} checks:\n${lines.join('\n')}`)
  }
  return checks
}
