// The shared/ tests and the edge app's portable tests again, inside workerd: proves they need
// nothing but Web APIs. (The edge conformance suite runs against `wrangler dev`, from Node.)
import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [
    cloudflareTest({
      miniflare: {
        compatibilityDate: '2026-11-09',
        compatibilityFlags: ['nodejs_compat'],
      },
    }),
  ],
  // Lets tests/shared/runtime.test.ts check that it really ran inside workerd.
  define: { 'globalThis.PC2_EXPECTED_RUNTIME': JSON.stringify('workerd') },
  test: {
    include: ['tests/shared/**/*.test.ts', 'tests/edge/app.test.ts'],
  },
});
