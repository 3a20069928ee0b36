// POST /api/streaming/start: start (or reuse) a stream for the caller.
import type { StartStreamRequest, StartStreamResponse } from '@ltcg/streaming'

import { actorFromRequest } from '@/lib/auth'
import { errorResponse, streaming } from '@/lib/streaming'

// The package is a native Node addon: never the Edge runtime.
export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

export async function POST(req: Request): Promise<Response> {
  try {
    const actor = await actorFromRequest(req)
    // The core checks every field (INVALID_INPUT names the bad one), so the body goes as is.
    const body = (await req.json()) as StartStreamRequest
    const started: StartStreamResponse = await streaming().startStream(actor, body)
    return Response.json(started)
  } catch (error) {
    return errorResponse(error)
  }
}
