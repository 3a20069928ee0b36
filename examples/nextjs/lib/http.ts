// Every request under /api and /stream, handed to the library's HTTP API as it arrived (the
// raw body included: LiveKit signs it) and answered as the library answers.
import { streaming } from './streaming'

export async function handle(req: Request): Promise<Response> {
  let api
  try {
    api = (await streaming()).api
  } catch {
    return Response.json({ error: 'streaming is not configured (see the server log)', code: 'CONFIG' }, { status: 500 })
  }
  const answer = await api.handle({
    method: req.method,
    url: req.url,
    headers: [...req.headers],
    body: req.body ? Buffer.from(await req.arrayBuffer()) : undefined,
    clientAddress: req.headers.get('x-forwarded-for')?.split(',')[0]?.trim() || undefined,
  })
  const stream = answer.stream
  const body = stream
    ? new ReadableStream<Uint8Array>({
        async pull(controller) {
          const chunk = await stream.next()
          if (chunk) controller.enqueue(new Uint8Array(chunk))
          else controller.close()
        },
      })
    : answer.body
      ? new Uint8Array(answer.body)
      : null
  return new Response(body, { status: answer.status, headers: answer.headers as [string, string][] })
}
