// POST /api/streaming/stop: stop a session (`sessionId`), an agent's sessions (`agentId`), or
// the caller's own active sessions.
import type { StopStreamRequest } from '@ltcg/streaming'

import { actorFromRequest } from '@/lib/auth'
import { errorResponse, streaming } from '@/lib/streaming'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

export async function POST(req: Request): Promise<Response> {
  try {
    const actor = await actorFromRequest(req)
    const body = (await req.json()) as StopStreamRequest
    const stopped = await streaming().stopStream(actor, body)
    return Response.json(stopped)
  } catch (error) {
    return errorResponse(error)
  }
}
