/**
 * docs/alerts.yml and docs/prometheus.yml with Debian's promtool: the rules load, each alert fires
 * on the series that should fire it (tests/alerts/alerts-test.yml), the example scrape config loads,
 * and every metric the rules read is one a role exports.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { superNodeMetrics } from '../../origin/metrics.ts';
import { createGatewayMetrics } from '../../edge/runtime/node/metrics.ts';

const path = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));

function promtool(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('the example alert rules and scrape config', () => {
  it('promtool check rules accepts docs/alerts.yml', () => {
    const r = promtool('check', 'rules', path('docs/alerts.yml'));
    expect(r.out).toContain('SUCCESS: 6 rules found');
    expect(r.status).toBe(0);
  });

  it('each alert fires on its cause and not otherwise (promtool test rules)', () => {
    const r = promtool('test', 'rules', path('tests/alerts/alerts-test.yml'));
    expect(r.out).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('promtool check config --syntax-only accepts docs/prometheus.yml', () => {
    const r = promtool('check', 'config', '--syntax-only', path('docs/prometheus.yml'));
    expect(r.out).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('reads only metrics the roles export', async () => {
    const rules = readFileSync(path('docs/alerts.yml'), 'utf8');
    const used = new Set([...rules.matchAll(/\b(pc2_[a-z_]+)/g)].map((m) => m[1]));
    const exported = new Set(superNodeMetrics(() => []).defs.map((d) => d.name));
    for (const m of (await createGatewayMetrics().registry.getMetricsAsJSON()) as {
      name: string;
    }[])
      exported.add(m.name);
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
    expect(used.size).toBeGreaterThanOrEqual(5);
  });
});
