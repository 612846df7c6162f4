import { defineConfig } from 'vitest/config';

// `npm run packetdrill:linux -- DIR`: Linux's packetdrill scripts (see linux.suite.ts).
export default defineConfig({
  test: { include: ['test/packetdrill/linux.suite.ts'], pool: 'forks', testTimeout: 600_000 },
});
