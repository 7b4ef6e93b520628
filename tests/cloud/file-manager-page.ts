/**
 * One Chromium page on a test cloud for the file manager's browser tests, with the steps they share:
 * find a row, open its actions menu, read a file back, take a screenshot into $CLOUD_UI_SCREENSHOTS
 * (`npm run screenshots:cloud` sets it to docs/images; otherwise a directory removed at the end).
 */
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import { injectWallet, launchChromium, type WalletLog } from './browser.ts';
import type { Session, TestCloud, Wallet } from './helpers.ts';

export interface FileManagerPage {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** What the injected wallet was asked, in order. */
  walletLog: WalletLog[];
  /** Errors thrown in the page, expected to stay empty. */
  errors: string[];
  shot(name: string, p?: Page): Promise<void>;
  row(name: string): Locator;
  menu(name: string, action: string): Promise<void>;
  content(path: string): Promise<{ status: number; body: Buffer }>;
  /** Checks that every screenshot has a picture in it, closes the browser. */
  close(): Promise<void>;
}

export async function openFileManager(
  c: TestCloud,
  who: { wallet: Wallet } | { cookie: string },
): Promise<FileManagerPage> {
  const shots = process.env.CLOUD_UI_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'pc2-shots-'));
  mkdirSync(shots, { recursive: true });
  const taken: string[] = [];
  const errors: string[] = [];
  const browser = await launchChromium();
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
  });
  let walletLog: WalletLog[] = [];
  if ('wallet' in who) walletLog = await injectWallet(context, who.wallet);
  else {
    const [name, value] = who.cookie.split('=');
    await context.addCookies([{ name, value, url: c.url }]);
  }
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (e) => errors.push(e.message));
  const row = (name: string): Locator =>
    page.locator('.files-body .item', { has: page.locator(`.name-btn[data-name="${name}"]`) });
  return {
    browser,
    context,
    page,
    walletLog,
    errors,
    row,
    async shot(name, p = page) {
      const path = join(shots, `cloud-${name}.png`);
      // Notifications of earlier steps would cover the picture.
      await p.evaluate(() => document.querySelectorAll('.toast').forEach((t) => t.remove()));
      await p.screenshot({ path });
      taken.push(path);
    },
    async menu(name, action) {
      await row(name)
        .getByRole('button', { name: `Actions for ${name}` })
        .click();
      await page.getByRole('menuitem', { name: action }).click();
    },
    async content(path) {
      const r = await page.request.get(
        `${c.url}/api/files/content?path=${encodeURIComponent(path)}`,
      );
      return { status: r.status(), body: await r.body() };
    },
    async close() {
      await browser.close();
      for (const path of taken) expect(statSync(path).size, path).toBeGreaterThan(10_000);
      if (!process.env.CLOUD_UI_SCREENSHOTS) rmSync(shots, { recursive: true, force: true });
    },
  };
}

/** Stores a file over WebDAV as the session's wallet. */
export async function put(who: Session, path: string, data: Uint8Array): Promise<void> {
  const res = await who.fetch(`/dav${path}`, { method: 'PUT', body: new Uint8Array(data) });
  expect(res.status, `PUT ${path}`).toBe(201);
}
