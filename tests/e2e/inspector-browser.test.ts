/**
 * The inspector of `pc2 node` in a real browser (Debian's Chromium through playwright-core, never a
 * downloaded one): the node's state, requests appearing live as visitors arrive through a real
 * gateway and super nodes, a click on a request showing its details, Clear, the app going down shown
 * as it happens; and a screenshot (docs/images/inspector.png with UPDATE_SCREENSHOTS=1).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/cli.ts';
import { type GatewayNetwork, startGatewayNetwork } from '../helpers/gateway-network.ts';
import { keyFile, pc2, type Proc, reservePort, tempDir } from '../helpers/processes.ts';
import { startUpstream } from '../helpers/upstream.ts';

const CHROMIUM = '/usr/bin/chromium';
// The committed picture is remade with UPDATE_SCREENSHOTS=1; other runs leave the tree untouched.
const SCREENSHOT = process.env.UPDATE_SCREENSHOTS
  ? `${REPO}docs/images/inspector.png`
  : join(tmpdir(), `pc2-inspector-${process.pid}.png`);

let net: GatewayNetwork;
let app: Awaited<ReturnType<typeof startUpstream>> | null;
let node: Proc;
let browser: Browser;
let page: Page;
let inspector: string;
let appPort: number;

async function visit(path: string, init: { method?: 'GET' | 'POST'; body?: string } = {}) {
  const res = await request(`http://127.0.0.1:${net.gatewayPort}${path}`, {
    method: init.method ?? 'GET',
    body: init.body,
    headers: { host: `ivy.localhost:${net.gatewayPort}`, 'user-agent': 'inspector-test' },
  });
  await res.body.dump();
  return res.statusCode;
}

beforeAll(async () => {
  net = await startGatewayNetwork();
  app = await startUpstream('ivy');
  appPort = app.port;
  const port = await reservePort();
  inspector = `http://127.0.0.1:${port}`;
  node = pc2([
    'node',
    '--name',
    'ivy',
    ...net.superNodes.flatMap((n) => ['--supernode', n.url]),
    '--key',
    (await keyFile(tempDir('pc2-insp-'), 'ivy')).path,
    '--mode',
    'relay',
    '--upstream',
    app.url,
    '--inspector',
    `127.0.0.1:${port}`,
    '--app-check-seconds',
    '0.3',
  ]);
  await node.waitFor(/"state":"online"[^\n]*tunnel=up[^\n]*tunnel=up/, 60_000);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await node?.kill('SIGTERM');
  await app?.close();
  await net?.close();
}, 60_000);

describe('the inspector page in Chromium', () => {
  it.skipIf(!existsSync(CHROMIUM))(
    'shows the state and the requests live; clicks select and clear',
    {
      timeout: 90_000,
    },
    async () => {
      await page.goto(inspector);
      await expect.poll(() => page.textContent('#state')).toBe('ONLINE');
      expect(await page.textContent('#name')).toBe('ivy');
      expect(await page.textContent('#mode')).toBe('relay');
      expect(await page.locator('#supernodes .sn').count()).toBe(2);
      expect(await page.textContent('#supernodes')).toContain('tunnel up');
      expect(await page.isVisible('#none')).toBe(true);

      // Live: visitors' requests show up without a reload, newest first.
      expect(await visit('/')).toBe(200);
      await page.waitForSelector('#requests tr');
      expect(await visit('/headers')).toBe(200);
      expect(await visit('/upload', { method: 'POST', body: 'x'.repeat(5000) })).toBe(200);
      expect(await visit('/status/404')).toBe(404);
      await expect.poll(() => page.locator('#requests tr').count()).toBe(4);
      const first = page.locator('#requests tr').first();
      expect(await first.locator('td').nth(1).textContent()).toBe('GET');
      expect(await first.locator('td').nth(2).textContent()).toBe('/status/404');
      expect(await first.locator('td').nth(3).textContent()).toBe('404');
      expect(await first.locator('td').nth(7).textContent()).toMatch(/^relay 127\.0\.0\.1:\d+$/);
      const upload = page.locator('#requests tr', { hasText: '/upload' });
      expect(await upload.locator('td').nth(5).textContent()).toBe('4.9 kB');

      // A click shows the request's details.
      await upload.click();
      await expect.poll(() => page.isVisible('#detail')).toBe(true);
      const detail = JSON.parse((await page.textContent('#detailText'))!);
      expect(detail).toMatchObject({
        method: 'POST',
        path: '/upload',
        status: 200,
        bytesIn: 5000,
        userAgent: 'inspector-test',
      });
      expect(detail.host).toBe(`ivy.localhost:${net.gatewayPort}`);

      // Clear empties the list here and on the node.
      await page.click('#clear');
      await expect.poll(() => page.locator('#requests tr').count()).toBe(0);
      const state = (await (await fetch(`${inspector}/api/state`)).json()) as {
        requests: unknown[];
      };
      expect(state.requests).toEqual([]);

      // The app goes away: the page says so by itself, and the visitor's 502 is listed.
      await app!.close();
      app = null;
      await expect
        .poll(() => page.textContent('#app'), { timeout: 10_000 })
        .toMatch(/^not answering at http:\/\/127\.0\.0\.1:\d+ \(connection refused\)$/);
      expect(await visit('/photos/2026/summer.jpg')).toBe(502);
      await expect.poll(() => page.locator('#requests tr').count()).toBe(1);
      expect(await page.locator('#requests tr td').nth(3).textContent()).toBe('502');
    },
  );

  it.skipIf(!existsSync(CHROMIUM))(
    'looks right: docs/images/inspector.png',
    { timeout: 60_000 },
    async () => {
      // The app back, a few more requests, a selected one: the page as an owner sees it.
      app = await startUpstream('ivy', '127.0.0.1', appPort);
      await expect
        .poll(() => page.textContent('#app'), { timeout: 10_000 })
        .toMatch(/^answering at/);
      for (const path of ['/', '/index.html', '/api/files?dir=%2Fphotos', '/favicon.ico'])
        await visit(path);
      await expect.poll(() => page.locator('#requests tr').count()).toBe(5);
      await page.locator('#requests tr').nth(1).click();
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(existsSync(SCREENSHOT)).toBe(true);
    },
  );
});
