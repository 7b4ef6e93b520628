// The shared/ tests again, inside workerd: proves shared/ needs nothing but Web APIs.
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [
    cloudflareTest({
      miniflare: {
        compatibilityDate: '2026-04-01',
        compatibilityFlags: ['nodejs_compat'],
      },
    }),
  ],
  // Lets tests/shared/runtime.test.ts check that it really ran inside workerd.
  define: { 'globalThis.PC2_EXPECTED_RUNTIME': JSON.stringify('workerd') },
  test: {
    include: ['tests/shared/**/*.test.ts'],
  },
});
