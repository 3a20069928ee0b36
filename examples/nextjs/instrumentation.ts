// Builds the streaming parts when the server starts, so a configuration error is logged once
// at startup (lib/streaming.ts), not first met by a caller's 500.
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME === 'nodejs') {
    const { streaming } = await import('./lib/streaming')
    await streaming().catch(() => undefined)
  }
}
