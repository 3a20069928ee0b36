// `@ltcg/streaming/testing`: the core's session-store conformance suite, for people writing
// their own store (one backed by Convex, Redis or a database). Typed by testing.d.ts and
// imported only on request: the main entry point (index.js, index.d.ts) does not name it.
'use strict'

const { runSessionStoreConformance } = require('./index.js')

if (typeof runSessionStoreConformance !== 'function') {
  throw new Error('@ltcg/streaming/testing: this build of the native module lacks runSessionStoreConformance')
}

module.exports.runSessionStoreConformance = runSessionStoreConformance
