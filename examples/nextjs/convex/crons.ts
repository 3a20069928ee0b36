// The reconciler on Convex's schedule: every minute, the app's cleanup route (one reconciler
// pass: stale sessions ended, orphaned egresses stopped), called with the internal secret.
import { cronJobs, internalActionGeneric, makeFunctionReference } from 'convex/server'

export const cleanup = internalActionGeneric({
  args: {},
  handler: async () => {
    const app = process.env.NEXT_PUBLIC_APP_URL
    const secret = process.env.INTERNAL_API_SECRET
    if (!app || !secret) throw new Error('set NEXT_PUBLIC_APP_URL and INTERNAL_API_SECRET on the deployment')
    const answer = await fetch(`${app}/api/streaming/cleanup`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: '{}',
    })
    if (!answer.ok) throw new Error(`cleanup answered ${answer.status}`)
    return await answer.json()
  },
})

const crons = cronJobs()
crons.interval('streaming reconciler', { minutes: 1 }, makeFunctionReference<'action'>('crons:cleanup'))
export default crons
