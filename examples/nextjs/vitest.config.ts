import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // convex-test runs the Convex functions in this process; the native module loads in Node.
    environment: 'node',
    server: { deps: { inline: ['convex-test'] } },
    include: ['tests/**/*.test.ts'],
    // next start is one server for the app test's file; files run one after the other.
    fileParallelism: false,
  },
})
