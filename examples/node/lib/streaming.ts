// One StreamingService per server process, and the error-to-response mapping the routes share.
import { LiveKitEgress, StreamingConfig, StreamingService, httpStatus, isStreamingError } from '@ltcg/streaming'

import { ConvexSessionStore } from './convex-store'

let service: StreamingService | undefined

/** The app's service: configuration from the seed's environment variables, LiveKit egress. */
export function streaming(): StreamingService {
  if (!service) {
    const config = StreamingConfig.fromEnv(process.env)
    service = new StreamingService(config, {
      store: new ConvexSessionStore(),
      egress: LiveKitEgress.fromConfig(config),
    })
  }
  return service
}

/** `{ error, code }` with the HTTP status of the error's code (the seed's error body shape). */
export function errorResponse(error: unknown): Response {
  if (isStreamingError(error)) {
    const headers: Record<string, string> = {}
    if (error.retryAfterMs !== undefined) headers['Retry-After'] = String(Math.ceil(error.retryAfterMs / 1000))
    const body = { error: error.message, code: error.code, ...(error.field ? { field: error.field } : {}) }
    return Response.json(body, { status: httpStatus(error.code), headers })
  }
  if (error instanceof SyntaxError) return Response.json({ error: 'Body is not valid JSON' }, { status: 400 })
  console.error(error)
  return Response.json({ error: 'Internal error' }, { status: 500 })
}
