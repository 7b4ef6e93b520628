/**
 * The file manager's settings (app passwords, members), its quota bar, and the entries other parts
 * add to it (Run on a .wasm file, Chat in the sidebar) in Debian's Chromium, signed in with a
 * session cookie.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, NO_CHROMIUM } from './browser.ts';
import { type FileManagerPage, openFileManager, put } from './file-manager-page.ts';
import { hasSqlite, ownedCloud, type Session, type TestCloud, wallet } from './helpers.ts';
import { pdf } from './media.ts';

const QUOTA = 4 * 1024 ** 2;

if (hasSqlite && !hasChromium)
  console.warn(`tests/cloud/file-manager-settings skipped: ${NO_CHROMIUM}`);

describe.skipIf(!hasSqlite || !hasChromium)(
  'file manager settings, quota and apps in Chromium',
  () => {
    let c: TestCloud;
    let owner: Session;
    let fm: FileManagerPage;
    let context: BrowserContext;
    let page: Page;
    const shot = (name: string) => fm.shot(name);
    const row = (name: string) => fm.row(name);
    const menu = (name: string, action: string) => fm.menu(name, action);

    beforeAll(async () => {
      ({ c, owner } = await ownedCloud());
      expect((await owner.api('POST', '/api/files/mkdir', { path: '/Projects' })).status).toBe(201);
      await put(owner, '/report.pdf', pdf('Quarterly report'));
      await put(owner, '/Projects/meeting-notes.txt', Buffer.from('Meeting notes\n'));
      fm = await openFileManager(c, { cookie: owner.cookie });
      ({ context, page } = fm);
      await page.goto(`${c.url}/`);
      await row('report.pdf').waitFor();
    });
    afterAll(async () => {
      await fm?.close();
      await c?.stop();
    });

    it('settings: an app password that WebDAV accepts, members for the owner', async () => {
      await page.getByRole('link', { name: 'Settings' }).click();
      await page.getByRole('button', { name: 'New app password' }).click();
      await page.getByLabel('Label').fill('laptop rclone');
      await page.getByRole('button', { name: 'Create', exact: true }).click();
      const made = page.getByRole('dialog', { name: 'Your new app password' });
      const password = await made.getByRole('textbox', { name: 'App password' }).inputValue();
      expect(password).toMatch(/^pc2a/);
      await made.getByRole('button', { name: 'Done' }).click();
      const basic = 'Basic ' + Buffer.from(`${owner.address}:${password}`).toString('base64');
      const dav = await fetch(`${c.url}/dav/`, {
        method: 'PROPFIND',
        headers: { authorization: basic, depth: '1' },
      });
      expect(dav.status).toBe(207);
      expect(await dav.text()).toContain('report.pdf');
      await page.getByRole('cell', { name: 'laptop rclone', exact: true }).waitFor();

      const member = wallet(0xbeef);
      await page.getByLabel('Wallet address').fill(member.address.toLowerCase());
      await page.getByLabel('Quota (GiB)').fill('2');
      await page.getByRole('button', { name: 'Add member' }).click();
      await page.getByRole('cell', { name: member.address, exact: true }).waitFor();
      const members = await (await page.request.get(`${c.url}/api/members`)).json();
      expect(
        members.members.find((m: { address: string }) => m.address === member.address),
      ).toMatchObject({ role: 'member', quotaBytes: 2 * 2 ** 30 });
      await page.setViewportSize({ width: 1280, height: 1060 });
      await shot('settings');
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.getByLabel('Wallet address').fill('0x1234');
      await page.getByRole('button', { name: 'Add member' }).click();
      await page.getByText('A wallet address is 0x followed by 40 hex digits').waitFor();
    });

    it('offers Run on a .wasm file (the Run panel) and a link to the chat page', async () => {
      await page.getByRole('link', { name: 'Files' }).click();
      const wasm = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
      const put = await page.request.put(`${c.url}/dav/Projects/hello.wasm`, {
        data: wasm,
        headers: { origin: c.url },
      });
      expect(put.status()).toBe(201);
      await row('Projects').locator('.name-btn').click();
      await row('hello.wasm').waitFor();
      const opened = context.waitForEvent('page');
      await menu('hello.wasm', 'Run');
      const panel = await opened;
      await panel.waitForLoadState();
      expect(new URL(panel.url()).pathname).toBe('/apps/run');
      expect(await panel.locator('#module').inputValue()).toBe('/Projects/hello.wasm');
      expect(await panel.locator('#dir').inputValue()).toBe('/Projects');
      await panel.close();
      // Only .wasm files have it.
      await row('meeting-notes.txt')
        .getByRole('button', { name: 'Actions for meeting-notes.txt' })
        .click();
      expect(await page.getByRole('menuitem', { name: 'Run' }).count()).toBe(0);
      await page.keyboard.press('Escape');
      expect(await page.getByRole('link', { name: 'Chat' }).getAttribute('href')).toBe('/chat');
    });

    it('shows the storage used, warns near full, and an upload that does not fit fails at once', async () => {
      // The owner gives their own wallet 4 MiB, as to any member.
      const set = await owner.api('PATCH', `/api/members/${owner.address}`, { quotaBytes: QUOTA });
      expect(set.json.quota).toMatchObject({ quota: QUOTA });
      await page.goto(`${c.url}/#/files/`);
      await page.reload();
      const bar = page.getByRole('progressbar', { name: 'Storage used' });
      const text = page.locator('.quota-text');
      const used = async (): Promise<number> => (await owner.api('GET', '/api/quota')).json.used;
      await expect.poll(() => text.textContent()).toMatch(/ of 4\.0 MiB used$/);
      const tusPosts: string[] = [];
      page.on(
        'request',
        (r) => r.url().includes('/tus') && r.method() === 'POST' && tusPosts.push(r.url()),
      );
      const upload = async (name: string, size: number): Promise<void> => {
        const chooser = page.waitForEvent('filechooser');
        await page.getByRole('button', { name: 'Upload', exact: true }).click();
        await (await chooser).setFiles([
          { name, mimeType: 'application/octet-stream', buffer: Buffer.alloc(size, 1) },
        ]);
      };

      await upload('disk.img', Math.round(QUOTA * 0.93));
      // The panel folds once everything went through.
      await page.locator('.upload[data-status="done"]').waitFor({ state: 'attached' });
      const pct = Math.round(((await used()) / QUOTA) * 100);
      expect(pct).toBeGreaterThanOrEqual(90);
      await expect.poll(() => bar.getAttribute('aria-valuenow')).toBe(String(pct));
      expect(await bar.getAttribute('class')).toContain('warn');
      expect(await text.textContent()).toBe(`3.7 MiB of 4.0 MiB used`);

      // The node answers 507 to the upload's creation; it is not tried again, the reason is shown.
      await upload('more.img', 512 * 1024);
      const failed = page.locator('.upload[data-status="failed"]');
      await failed.waitFor();
      expect(await failed.textContent()).toContain('out of space');
      expect(tusPosts).toHaveLength(2);
      await page
        .getByRole('navigation', { name: 'Sections' })
        .getByRole('link', { name: 'Files' })
        .click();
    });

    it('throws nothing in the page', () => {
      expect(fm.errors).toEqual([]);
    });
  },
);
