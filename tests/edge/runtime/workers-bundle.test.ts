/** The Workers build: `wrangler deploy --dry-run` bundles the edge, and the bundle stays under 1 MiB. */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const MAX_BUNDLE_BYTES = 1024 * 1024;

describe('Workers bundle', () => {
  it('builds with wrangler deploy --dry-run to under 1 MiB', async () => {
    const outdir = await mkdtemp(join(tmpdir(), 'pc2-edge-bundle-'));
    try {
      await promisify(execFile)(
        'npx',
        ['--no-install', 'wrangler', 'deploy', '--dry-run', '--outdir', outdir],
        {
          env: {
            ...process.env,
            WRANGLER_SEND_METRICS: 'false',
            CI: 'true',
            CLOUDFLARE_CF_FETCH_ENABLED: 'false',
            WRANGLER_HIDE_BANNER: 'true',
          },
          timeout: 90_000,
        },
      );
      const files = (await readdir(outdir)).filter((f) => f.endsWith('.js'));
      expect(files.length).toBeGreaterThan(0);
      let total = 0;
      for (const f of files) total += (await stat(join(outdir, f))).size;
      expect(total).toBeGreaterThan(10_000);
      expect(total).toBeLessThan(MAX_BUNDLE_BYTES);
    } finally {
      await rm(outdir, { recursive: true, force: true });
    }
  }, 120_000);
});
