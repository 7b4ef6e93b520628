import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['shared/**/*.test.ts', 'edge/**/*.test.ts', 'origin/**/*.test.ts', 'agent/**/*.test.ts', 'tests/**/*.test.ts'],
    exclude: ['tests/workerd/**', 'tests/deno/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
