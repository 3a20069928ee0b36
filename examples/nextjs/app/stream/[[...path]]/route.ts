// The library's HTTP API (see lib/http.ts). A native module: Node runtime, never cached.
import { handle } from '../../../lib/http'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

export { handle as DELETE, handle as GET, handle as POST, handle as PUT }
