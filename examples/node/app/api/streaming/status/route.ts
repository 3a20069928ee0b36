// GET /api/streaming/status?sessionId=…: a session's public status.
import type { SessionStatusView } from '@ltcg/streaming'

import { actorFromRequest } from '@/lib/auth'
import { errorResponse, streaming } from '@/lib/streaming'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

export async function GET(req: Request): Promise<Response> {
  try {
    const actor = await actorFromRequest(req)
    const sessionId = new URL(req.url).searchParams.get('sessionId') ?? ''
    const status: SessionStatusView = await streaming().getStatus(actor, sessionId)
    return Response.json(status)
  } catch (error) {
    return errorResponse(error)
  }
}
