import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Upstream } from './fixtures/openai-upstream.ts';
import { hasSqlite, ownedCloud, type Session, type TestCloud } from './helpers.ts';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn('tests/cloud/chat-page skipped: Debian chromium is not installed');

/** The chat page and the Run panel in Debian's Chromium, signed in with a session cookie. */
describe.skipIf(!hasSqlite || !hasChromium)('the chat page and the Run panel in Chromium', () => {
  const up = new Upstream();
  let c: TestCloud;
  let owner: Session;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    await up.start();
    ({ c, owner } = await ownedCloud({
      chat: { backend: 'openai', url: up.url, apiKey: 'sk-secret', model: 'upstream-model' },
    }));
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
    const context = await browser.newContext();
    const [name, value] = owner.cookie.split('=');
    await context.addCookies([{ name, value, url: c.url }]);
    page = await context.newPage();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await c?.stop();
    up.server?.close();
  });

  it('streams a reply rendered as escaped Markdown, and keeps the conversation', async () => {
    up.words = [
      'Hello',
      ' **there**',
      '\n\n<img src=x onerror="window.pwned=1">',
      ' [link](javascript:window.pwned=2)',
    ];
    await page.goto(`${c.url}/chat`);
    await page.getByText('upstream-model (openai)').waitFor();
    expect(await page.content()).not.toContain('sk-secret');
    await page.fill('#input', 'Say hello');
    await page.press('#input', 'Enter');
    const reply = page.locator('.message.assistant').last();
    await reply.locator('strong', { hasText: 'there' }).waitFor();
    await expect.poll(() => reply.textContent()).toContain('<img src=x onerror="window.pwned=1">');
    expect(await reply.locator('img').count()).toBe(0);
    expect(await reply.locator('a').count()).toBe(0);
    expect(
      await page.evaluate(() => (window as unknown as { pwned?: number }).pwned),
    ).toBeUndefined();
    await page.reload();
    await page.locator('#conversations li', { hasText: 'Say hello' }).waitFor();
    await page.locator('.message.user', { hasText: 'Say hello' }).waitFor();
  }, 60_000);

  it('stops a reply with the stop button; the partial reply is kept as stopped', async () => {
    up.words = ['Once upon', ' a time'];
    up.hold = true;
    const closed = up.closedEarly;
    await page.fill('#input', 'Tell a long story');
    await page.press('#input', 'Enter');
    await page.locator('.message.assistant', { hasText: 'Once upon' }).last().waitFor();
    await page.click('#stop');
    await page.locator('.message.assistant .stopped').last().waitFor();
    await expect.poll(() => up.closedEarly).toBe(closed + 1);
    up.hold = false;
    up.release();
    const list = (await owner.api('GET', '/api/chat/conversations')).json.conversations;
    await expect
      .poll(async () =>
        (await owner.api('GET', `/api/chat/conversations/${list[0].id}`)).json.messages.at(-1),
      )
      .toMatchObject({ role: 'assistant', content: 'Once upon', stopped: true });
  }, 60_000);

  it('runs a WASM module from the Run panel with its output live', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc2-wat-'));
    try {
      execFileSync('wat2wasm', [
        join(import.meta.dirname, 'fixtures/wasm/hello.wat'),
        '-o',
        join(dir, 'hello.wasm'),
      ]);
      await owner.fetch('/dav/hello.wasm', {
        method: 'PUT',
        body: new Uint8Array(readFileSync(join(dir, 'hello.wasm'))),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await page.goto(`${c.url}/apps/run?module=/hello.wasm`);
    await page.fill('#args', 'from\nchromium');
    await page.fill('#stdin', 'typed <b>input</b>');
    await page.click('#run');
    await page.locator('#status', { hasText: 'exited with code 0' }).waitFor();
    expect(await page.locator('#output').textContent()).toBe(
      'hello from chromium\ntyped <b>input</b>',
    );
    expect(await page.locator('#output b').count()).toBe(0);
  }, 60_000);
});
