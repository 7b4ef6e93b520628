import { describe, expect, it } from 'vitest';

/** Which runtime these portable tests are running in right now. */
function currentRuntime(): string {
  const g = globalThis as { Deno?: unknown; navigator?: { userAgent?: string } };
  if (g.navigator?.userAgent === 'Cloudflare-Workers') return 'workerd';
  if (g.Deno) return 'deno';
  return 'node';
}

describe('runtime', () => {
  it('runs in the runtime its runner set out to test', () => {
    const expected =
      (globalThis as { PC2_EXPECTED_RUNTIME?: string }).PC2_EXPECTED_RUNTIME ?? 'node';
    expect(currentRuntime()).toBe(expected);
  });
});
