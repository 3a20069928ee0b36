// POST /api/webhooks/livekit: LiveKit egress events. The signature covers the raw body, so it
// is read with `req.text()` (never re-serialized) and passed with the Authorization header.
import type { WebhookOutcome } from '@ltcg/streaming'

import { errorResponse, streaming } from '@/lib/streaming'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

export async function POST(req: Request): Promise<Response> {
  try {
    const body = await req.text()
    const outcome: WebhookOutcome = await streaming().handleWebhook(body, req.headers.get('authorization'))
    // Authentic events are acknowledged even when they match no session (`applied: false`).
    return Response.json(outcome)
  } catch (error) {
    // Forged or stale webhooks: 401 (UNAUTHORIZED); a store outage: 503, so LiveKit retries.
    return errorResponse(error)
  }
}
