import { describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };

interface Globals {
  Deno?: { version: { deno: string } };
  navigator?: { userAgent?: string };
  process?: { version: string; versions: Record<string, string> };
  PC2_EXPECTED_RUNTIME?: string;
}
const g = globalThis as Globals;

/** Which runtime these portable tests are running in right now. */
function currentRuntime(): string {
  if (g.navigator?.userAgent === 'Cloudflare-Workers') return 'workerd';
  if (g.Deno) return 'deno';
  return 'node';
}

/** The Node.js release package.json pins (one node-<platform> package per platform, one version). */
const pinnedNode = [...new Set(Object.values(pkg.optionalDependencies))];
const major = (version: string) => Number(/^v(\d+)\.\d+\.\d+$/.exec(version)?.[1]);

describe('runtime', () => {
  it('runs in the runtime its runner set out to test', () => {
    expect(currentRuntime()).toBe(g.PC2_EXPECTED_RUNTIME ?? 'node');
  });

  it('pins one Node.js release for every platform', () => {
    expect(pinnedNode).toHaveLength(1);
    expect(major(`v${pinnedNode[0]}`)).toBe(26);
  });

  // What `process.version` means differs by runtime; each runner checks the one that is true for it.
  const checks: Record<string, () => void> = {
    // vitest's workers: the pinned Node itself, not whatever `node` the machine has.
    node: () => expect(g.process!.version).toBe(`v${pinnedNode[0]}`),
    // nodejs_compat: a fixed Node API level of this workerd release, not a Node.js process (no V8
    // version of Node's to report). Moves only with a deliberate workerd bump.
    workerd: () => {
      expect(g.process!.version).toBe('v22.19.0');
      expect(g.process!.versions.node).toBe('22.19.0');
      expect(g.process!.versions.v8).toBe('');
    },
    // The pinned Deno, whose Node compatibility layer reports the same Node major as our own.
    deno: () => {
      expect(g.Deno!.version.deno).toBe(pkg.devDependencies.deno);
      expect(major(g.process!.version)).toBe(major(`v${pinnedNode[0]}`));
    },
  };

  it('reports the version of that runtime the project pins', () => {
    checks[currentRuntime()]();
  });
});
