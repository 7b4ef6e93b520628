/**
 * The network map at the apex in Debian's Chromium, on every runtime that serves the apex: the
 * Node.js gateway, the Deno gateway (Deno.serve) and the Workers build under `wrangler dev`. Two
 * real super nodes (one with an hour of traffic history on disk, as after a restart), alice relayed
 * and listed, bob relayed and not listed, real relayed requests; the plots must be drawn with data.
 * The Node.js page is saved as docs/images/network-map.png with UPDATE_SCREENSHOTS=1.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUpstream } from '../helpers/upstream.ts';
import { NodeAgent } from '../../agent/node-agent.ts';
import { type DevSuperNode, startSuperNodes } from '../../cli/devnet.ts';
import { type Gateway, startGateway } from '../../edge/runtime/node/server.ts';
import { KeyPair } from '../../shared/keys.ts';
import { startWranglerDev, type WranglerDev } from '../edge/runtime/wrangler-dev.ts';
import { hasChromium, launchChromium } from '../helpers/chromium.ts';
import { reservePort } from '../helpers/ports.ts';
import { type Proc, startProcess } from '../helpers/processes.ts';

const DENO = fileURLToPath(new URL('../../node_modules/.bin/deno', import.meta.url));
// The committed picture is remade with UPDATE_SCREENSHOTS=1; other runs leave the tree untouched.
const SCREENSHOT = process.env.UPDATE_SCREENSHOTS
  ? fileURLToPath(new URL('../../docs/images/network-map.png', import.meta.url))
  : join(tmpdir(), `pc2-network-map-${process.pid}.png`);
if (!hasChromium) console.warn('tests/e2e/network-map skipped: Debian chromium is not installed');

/** An hour of past traffic in a super node's data directory, as a super node that ran would leave. */
function seedHistory(dataDir: string, now: number): void {
  const minute = Math.floor(now / 60_000) * 60;
  const quarter = Math.floor(now / 900_000) * 900;
  const bucket = (start: number, i: number, seconds: number) => ({
    start,
    seconds,
    values: {
      bytesToNodes: 40_000 + 30_000 * Math.sin(i / 5) ** 2,
      bytesFromNodes: 900_000 + 600_000 * Math.cos(i / 7) ** 2,
      relayRequests: 120 + 60 * Math.sin(i / 4) ** 2,
      apiRequests: 30 + 10 * Math.cos(i / 3) ** 2,
    },
  });
  const hour = Array.from({ length: 40 }, (_, i) => bucket(minute - (40 - i) * 60, i, 60));
  const day = Array.from({ length: 30 }, (_, i) => bucket(quarter - (30 - i) * 900, i, 900));
  mkdirSync(join(dataDir, 'network'), { recursive: true });
  writeFileSync(join(dataDir, 'network', 'traffic.json'), JSON.stringify({ v: 1, hour, day }));
}

describe.skipIf(!hasChromium)('the network map in Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc2-map-'));
  const stoppers: (() => Promise<unknown>)[] = [];
  let superNodes: DevSuperNode[];
  let gateway: Gateway;
  let browser: Browser;
  let env: Record<string, string>;

  beforeAll(async () => {
    const keys = [KeyPair.generate(), KeyPair.generate()];
    const edgeKey = KeyPair.generate();
    seedHistory(join(dir, 'supernode-0'), Date.now());
    superNodes = await startSuperNodes(keys, edgeKey, {
      dir,
      publicUrlTemplate: 'http://{name}.localhost:1',
    });
    stoppers.push(...superNodes.map((s) => () => s.node.stop()));
    const config = {
      zone: 'localhost',
      registrarKeys: keys.map((k) => k.id.toString()),
      edgeKey: edgeKey.bosonPrivateKeyBase58(),
      superNodes: superNodes.map(({ id, url }) => ({ id, url })),
    };
    env = {
      PC2_EDGE_ZONE: 'localhost',
      PC2_EDGE_REGISTRAR_KEYS: config.registrarKeys.join(','),
      PC2_EDGE_KEY: config.edgeKey,
      PC2_EDGE_SUPER_NODES: superNodes.map((s) => `${s.id}=${s.url}`).join(','),
    };
    gateway = await startGateway({ config, hostname: '127.0.0.1', httpPort: 0 });
    stoppers.push(() => gateway.close());
    for (const [name, listOnMap] of [
      ['alice', true],
      ['bob', false],
    ] as const) {
      const site = await startUpstream(name);
      stoppers.push(() => site.close());
      const agent = new NodeAgent({
        key: KeyPair.generate(),
        name,
        upstream: site.url,
        superNodes: superNodes.map((s) => s.url),
        mode: 'relay',
        listOnMap,
      });
      stoppers.push(() => agent.stop());
      await agent.start();
      for (let i = 0; i < 100 && !agent.status().online; i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(agent.status().online).toBe(true);
    }
    // Real relayed traffic for the current bucket.
    for (let i = 0; i < 20; i++) {
      const res = await request(`http://127.0.0.1:${gateway.ports.http}/`, {
        headers: { host: `${i % 2 ? 'alice' : 'bob'}.localhost` },
      });
      expect(res.statusCode).toBe(200);
      await res.body.text();
    }
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    for (const stop of stoppers.reverse()) await stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  /** Opens the map at `origin` and checks what a visitor sees. */
  async function checkMap(origin: string, screenshot?: string): Promise<void> {
    const page = await browser.newPage({ viewport: { width: 1100, height: 1250 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    try {
      await page.goto(`${origin}/network`);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
      const summary = await page.textContent('#summary');
      expect(summary).toContain('2 nodes online (0 direct, 2 relayed)');
      expect(summary).toContain('2 of 2 super nodes up');
      const rows = await page.$$eval('#supernodes tbody tr', (trs) =>
        trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
      );
      expect(rows.map((r) => r.slice(0, 3))).toEqual([
        ['primary', 'loopback', 'up'],
        ['secondary', 'loopback', 'up'],
      ]);
      for (const row of rows) expect(row[4]).toMatch(/^pc2 \d/);
      const listed = await page.$$eval('#listed a', (as) =>
        as.map((a) => [a.textContent, a.getAttribute('href')]),
      );
      expect(listed).toEqual([['alice', `${origin.replace('//localhost', '//alice.localhost')}`]]);
      // Every plot drawn, with its series' colours on the canvas (not just axes).
      const drawn = await page.$$eval('.plot', (plots) =>
        plots.map((plot) => {
          const canvas = plot.querySelector('canvas')!;
          const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
          const colours = [
            [42, 111, 219],
            [217, 130, 43],
            [42, 157, 87],
            [138, 79, 216],
          ];
          let coloured = 0;
          for (let i = 0; i < data.length; i += 4) {
            if (data[i + 3] < 128) continue;
            if (
              colours.some(
                ([r, g, b]) =>
                  Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) <
                  60,
              )
            )
              coloured++;
          }
          return { id: plot.id, points: Number(plot.dataset.points), coloured };
        }),
      );
      expect(drawn.map((d) => d.id)).toEqual([
        'traffic-hour',
        'traffic-day',
        'requests-hour',
        'requests-day',
      ]);
      for (const d of drawn) {
        expect(d.points, d.id).toBeGreaterThanOrEqual(2);
        expect(d.coloured, d.id).toBeGreaterThan(100);
      }
      expect(problems).toEqual([]);
      if (screenshot) {
        mkdirSync(join(screenshot, '..'), { recursive: true });
        await page.screenshot({ path: screenshot, fullPage: true });
      }
    } finally {
      await page.close();
    }
  }

  it('on the Node.js gateway', async () => {
    await checkMap(`http://localhost:${gateway.ports.http}`, SCREENSHOT);
  }, 60_000);

  it('serves network.json with both super nodes and the history kept on disk', async () => {
    const res = await request(`http://127.0.0.1:${gateway.ports.http}/network.json`, {
      headers: { host: 'localhost' },
    });
    const map = (await res.body.json()) as { superNodes: { up: boolean }[]; hour: { t: number[] } };
    expect(map.superNodes.map((s) => s.up)).toEqual([true, true]);
    expect(map.hour.t.length).toBeGreaterThanOrEqual(40);
  });

  it('on the Deno gateway', async () => {
    const port = await reservePort();
    const deno: Proc = startProcess(
      DENO,
      ['run', '--allow-net', '--allow-read', '--allow-env', '--quiet', 'edge/runtime/deno.ts'],
      {
        env: {
          ...env,
          DENO_NO_UPDATE_CHECK: '1',
          PC2_EDGE_HOSTNAME: '127.0.0.1',
          PC2_EDGE_PORT: String(port),
        },
      },
    );
    try {
      await deno.waitFor(/pc2 edge listening/, 60_000);
      await checkMap(`http://localhost:${port}`);
    } finally {
      await deno.kill('SIGKILL');
    }
  }, 120_000);

  it('on Workers (wrangler dev)', async () => {
    let wrangler: WranglerDev | undefined;
    try {
      wrangler = await startWranglerDev(env, 'localhost');
      await checkMap(wrangler.baseUrl.replace('127.0.0.1', 'localhost'));
    } finally {
      await wrangler?.close();
    }
  }, 150_000);
});
