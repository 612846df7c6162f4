import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Integration tests each create their own network namespace and devices; unit and
    // property tests run on the manual clock and never wait in real time.
    pool: 'forks',
  },
});
