/**
 * The file manager in Debian's Chromium: wallet sign-in (owner code), uploads by button and by drag
 * and drop over tus (progress seen, a cut connection resumed), folders, rename, move, delete and
 * restore, a password share opened signed out, versions, list and grid, phone width, sign-out.
 * Previews are in file-manager-preview.test.ts, settings and the apps' entries in
 * file-manager-settings.test.ts.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeHexMessage, hasChromium, NO_CHROMIUM } from './browser.ts';
import { type FileManagerPage, openFileManager } from './file-manager-page.ts';
import { hasSqlite, SKIP_REASON, startCloud, wallet, type TestCloud } from './helpers.ts';
import { pdf, png } from './media.ts';

if (hasSqlite && !hasChromium) console.warn(`tests/cloud/file-manager skipped: ${NO_CHROMIUM}`);

const sha = (b: Buffer | Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe.skipIf(!hasSqlite || !hasChromium)(
  `file manager in Chromium${hasSqlite ? '' : ` (${SKIP_REASON})`}`,
  () => {
    const owner = wallet(0x5eed);
    let c: TestCloud;
    let fm: FileManagerPage;
    let context: BrowserContext;
    let page: Page;
    const files = {
      photo: png(640, 420),
      report: pdf('Quarterly report'),
      notes: Buffer.from('Meeting notes\n- ship the file manager\n- write the docs\n'),
      big: Buffer.alloc(3 * 1024 * 1024 + 12345, 7),
      page: Buffer.from('<!doctype html><h1>Uploaded page</h1>'),
    };
    const shot = (name: string, p?: Page) => fm.shot(name, p);
    const row = (name: string) => fm.row(name);
    const menu = (name: string, action: string) => fm.menu(name, action);
    const content = (path: string) => fm.content(path);

    beforeAll(async () => {
      c = await startCloud();
      fm = await openFileManager(c, { wallet: owner });
      ({ context, page } = fm);
    });
    afterAll(async () => {
      await fm?.close();
      await c?.stop();
    });

    it('signs the first owner in with the wallet and the one-time owner code', async () => {
      await page.goto(`${c.url}/`);
      const button = page.getByRole('button', { name: 'Sign in with your wallet' });
      await expect.poll(() => button.isEnabled()).toBe(true);
      await shot('signin');
      // Without the code the node refuses: it has no owner yet.
      await button.click();
      await page.getByText('the owner code is needed').waitFor();
      await page.getByLabel('Owner code').fill(c.cloud.ownerCode()!);
      await button.click();
      await page.locator('.topbar .address').waitFor();
      expect(await page.locator('.topbar .address').getAttribute('title')).toBe(owner.address);
      const me = await (await page.request.get(`${c.url}/api/me`)).json();
      expect(me).toMatchObject({ address: owner.address, role: 'owner', via: 'session' });
      expect(c.cloud.ownerCode()).toBeNull();
      // The wallet signed a real EIP-4361 message for this node, with the EIP-55 form of its address.
      const signed = fm.walletLog
        .filter((l) => l.method === 'personal_sign')
        .map((l) => decodeHexMessage(l.params[0] as string));
      expect(signed).toHaveLength(2);
      expect(signed[1]).toMatch(
        new RegExp(
          `^${new URL(c.url).host} wants you to sign in with your Ethereum account:\n${owner.address}\n`,
        ),
      );
      expect(signed[1]).toContain(`URI: ${c.url}/`);
    });

    it('uploads by button and by drag and drop over tus, with progress, and resumes a cut connection', async () => {
      for (const folder of ['/Documents', '/Photos'])
        expect(
          (
            await page.request.post(`${c.url}/api/files/mkdir`, {
              data: { path: folder },
              headers: { origin: c.url },
            })
          ).status(),
        ).toBe(201);
      await page.reload();
      // Slow uploads down in the browser's network stack so progress can be watched.
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: 1_500_000,
      });
      await page.evaluate(() => {
        const seen: number[] = ((window as any).__progress = []);
        new MutationObserver((records) => {
          for (const r of records) {
            const v = (r.target as Element).getAttribute?.('aria-valuenow');
            if (v !== null && v !== undefined && (r.target as Element).closest('.upload'))
              seen.push(Number(v));
          }
        }).observe(document.body, {
          subtree: true,
          attributes: true,
          attributeFilter: ['aria-valuenow'],
        });
      });
      // The node cuts the first PATCH of backup.zip after 1 MB, as a dropped connection would.
      let cut = '';
      const cutter = (req: import('node:http').IncomingMessage): void => {
        if (
          req.method !== 'PATCH' ||
          cut ||
          Number(req.headers['content-length']) < files.big.length
        )
          return;
        let seen = 0;
        req.on('data', (d: Buffer) => {
          seen += d.length;
          if (seen > 1_000_000 && !cut) {
            cut = req.url!;
            req.socket.destroy();
          }
        });
      };
      c.server.prependListener('request', cutter);
      const tus: { method: string; url: string; offset?: string }[] = [];
      page.on(
        'request',
        (r) =>
          r.url().includes('/tus/') &&
          tus.push({ method: r.method(), url: r.url(), offset: r.headers()['upload-offset'] }),
      );

      const chooser = page.waitForEvent('filechooser');
      await page.getByRole('button', { name: 'Upload', exact: true }).click();
      await (await chooser).setFiles([
        { name: 'backup.zip', mimeType: 'application/octet-stream', buffer: files.big },
        { name: 'notes.txt', mimeType: 'text/plain', buffer: files.notes },
        { name: 'report.pdf', mimeType: 'application/pdf', buffer: files.report },
        { name: 'page.html', mimeType: 'text/html', buffer: files.page },
      ]);
      await page.waitForFunction(() =>
        ((window as any).__progress as number[]).some((v) => v >= 40 && v < 100),
      );
      await shot('upload');
      await expect
        .poll(() => page.locator('.upload[data-status="done"]').count(), { timeout: 20_000 })
        .toBe(4);
      c.server.off('request', cutter);
      expect(cut).toMatch(/^\/tus\/[0-9a-f]{32}$/);

      const progress = (await page.evaluate(() => (window as any).__progress)) as number[];
      expect(progress.some((v) => v > 0 && v < 100)).toBe(true);
      // After the cut: a HEAD for the offset the node kept, and the rest sent from there, same upload.
      const big = tus.filter((t) => t.url === c.url + cut);
      expect(big.map((t) => t.method)).toEqual(['PATCH', 'HEAD', 'PATCH']);
      expect(Number(big[2].offset)).toBeGreaterThan(0);
      expect(tus.filter((t) => t.method === 'POST')).toHaveLength(4);
      expect(sha((await content('/backup.zip')).body)).toBe(sha(files.big));
      expect((await content('/report.pdf')).body.equals(files.report)).toBe(true);

      // Drag and drop: the overlay shows while files are over the view, the drop uploads them.
      const drop = await page.evaluateHandle((b64: string) => {
        const dt = new DataTransfer();
        dt.items.add(
          new File([Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0))], 'photo.png', {
            type: 'image/png',
          }),
        );
        return dt;
      }, files.photo.toString('base64'));
      const view = page.locator('.files-view');
      await view.dispatchEvent('dragenter', { dataTransfer: drop });
      await view.dispatchEvent('dragover', { dataTransfer: drop });
      await page.locator('.drop-overlay').waitFor({ state: 'visible' });
      await view.dispatchEvent('drop', { dataTransfer: drop });
      await row('photo.png').waitFor();
      expect((await content('/photo.png')).body.equals(files.photo)).toBe(true);
      expect(await page.locator('.drop-overlay').isHidden()).toBe(true);
      await cdp.detach();
    });

    it('creates a folder, renames, moves, deletes and restores from the trash', async () => {
      await page.getByRole('button', { name: 'New folder' }).click();
      await page.getByLabel('Folder name').fill('Projects');
      await page.getByRole('button', { name: 'Create' }).click();
      await row('Projects').waitFor();

      await menu('notes.txt', 'Rename…');
      const name = page.getByLabel('New name');
      // The name is selected without its extension, ready to type over.
      expect(
        await name.evaluate((i: HTMLInputElement) =>
          i.value.slice(i.selectionStart!, i.selectionEnd!),
        ),
      ).toBe('notes');
      await name.fill('meeting-notes.txt');
      await page.getByRole('button', { name: 'Rename', exact: true }).click();
      await row('meeting-notes.txt').waitFor();
      expect(await row('notes.txt').count()).toBe(0);

      // The actions menu by keyboard: focus on its first item, arrows move, Escape returns to the button.
      const actions = row('meeting-notes.txt').getByRole('button', {
        name: 'Actions for meeting-notes.txt',
      });
      await actions.focus();
      await page.keyboard.press('Enter');
      await expect
        .poll(() => page.evaluate(() => document.activeElement?.textContent))
        .toBe('Preview');
      await page.keyboard.press('ArrowDown');
      await expect
        .poll(() => page.evaluate(() => document.activeElement?.textContent))
        .toBe('Download');
      await page.keyboard.press('Escape');
      await expect.poll(() => page.getByRole('menu').count()).toBe(0);
      expect(await actions.evaluate((b) => b === document.activeElement)).toBe(true);
      await menu('meeting-notes.txt', 'Move…');
      const picker = page.getByRole('dialog');
      await picker.locator('.folder-item', { hasText: 'Projects' }).click();
      await picker.locator('[aria-current="location"]', { hasText: 'Projects' }).waitFor();
      await picker.getByRole('button', { name: 'Move here' }).click();
      await expect.poll(() => row('meeting-notes.txt').count()).toBe(0);
      await row('Projects').locator('.name-btn').click();
      await page.locator('.crumbs [aria-current="page"]', { hasText: 'Projects' }).waitFor();
      await row('meeting-notes.txt').waitFor();
      expect((await content('/Projects/meeting-notes.txt')).body.equals(files.notes)).toBe(true);

      // Delete goes to the trash (the Delete key on a focused entry does the same as the menu).
      await row('meeting-notes.txt').locator('.name-btn').focus();
      await page.keyboard.press('Delete');
      await page.locator('.toast', { hasText: 'to the trash' }).waitFor();
      await expect.poll(() => row('meeting-notes.txt').count()).toBe(0);
      expect((await content('/Projects/meeting-notes.txt')).status).toBe(404);
      await page.getByRole('link', { name: 'Trash' }).click();
      const trashed = page.locator('tr', { hasText: 'meeting-notes.txt' });
      await trashed.getByText('from /Projects').waitFor();
      await shot('trash');
      await trashed.getByRole('button', { name: 'Restore /Projects/meeting-notes.txt' }).click();
      await page
        .locator('.toast', { hasText: 'Restored to /Projects/meeting-notes.txt' })
        .waitFor();
      await page.getByText('The trash is empty').waitFor();
      expect((await content('/Projects/meeting-notes.txt')).body.equals(files.notes)).toBe(true);
    });

    it('shares a file with a password: a signed-out visitor downloads it, a wrong password is refused, a revoked link stops', async () => {
      await page.getByRole('link', { name: 'Files' }).click();
      await menu('report.pdf', 'Share…');
      const dialog = page.getByRole('dialog', { name: 'Share “report.pdf”' });
      expect(await dialog.getByLabel('Upload only (folders)').isDisabled()).toBe(true);
      await dialog.getByLabel('Password (optional)').fill('open sesame');
      await dialog.getByLabel('Link expires').selectOption('7');
      await dialog.getByRole('button', { name: 'Create link' }).click();
      const link = await dialog.getByLabel('Share link').inputValue();
      expect(link).toMatch(new RegExp(`^${c.url}/s/[A-Za-z0-9_-]{43}$`));
      await dialog.locator('.share-item', { hasText: 'password' }).waitFor();
      await shot('share');
      await dialog.getByRole('button', { name: 'Close' }).click();

      // A visitor: a fresh browser context, no wallet, no session.
      const visitor = await fm.browser.newContext({
        viewport: { width: 1024, height: 720 },
        acceptDownloads: true,
      });
      const v = await visitor.newPage();
      v.setDefaultTimeout(10_000);
      v.on('pageerror', (e) => fm.errors.push(e.message));
      const opened = await v.goto(link);
      expect(opened!.status()).toBe(200);
      expect((await opened!.allHeaders())['referrer-policy']).toBe('no-referrer');
      await v.getByRole('heading', { name: 'This link is protected' }).waitFor();
      await v.getByLabel('Password').fill('not it');
      await v.getByRole('button', { name: 'Open' }).click();
      await v.getByText('That password is not right.').waitFor();
      expect((await v.request.get(`${link}?download=1`)).status()).toBe(401);
      await v.getByLabel('Password').fill('open sesame');
      await v.getByRole('button', { name: 'Open' }).click();
      await v.getByRole('heading', { name: 'report.pdf' }).waitFor();
      await shot('share-visitor', v);
      const downloading = v.waitForEvent('download');
      await v.getByRole('link', { name: 'Download' }).click();
      const saved = await downloading;
      expect(saved.suggestedFilename()).toBe('report.pdf');
      expect(readFileSync((await saved.path())!).equals(files.report)).toBe(true);

      // Revoked from the Shared links view: the link answers 404 and the page says so.
      await page.getByRole('link', { name: 'Shared links' }).click();
      await page.getByRole('button', { name: 'Revoke the link to /report.pdf' }).click();
      await page.getByText('No shared links').waitFor();
      expect((await v.reload())!.status()).toBe(404);
      await v.getByRole('heading', { name: 'This link does not work' }).waitFor();

      // An upload-only folder link: the visitor adds a file and sees nothing of what is there.
      const inbox = await (
        await page.request.post(`${c.url}/api/shares`, {
          data: { path: '/Projects', mode: 'upload' },
          headers: { origin: c.url },
        })
      ).json();
      await v.goto(inbox.url);
      await v.getByRole('heading', { name: 'Send files to “Projects”' }).waitFor();
      const picking = v.waitForEvent('filechooser');
      await v.getByRole('button', { name: 'Choose files' }).click();
      await (await picking).setFiles({
        name: 'from-visitor.txt',
        mimeType: 'text/plain',
        buffer: Buffer.from('hello from outside'),
      });
      await v.locator('.upload-note', { hasText: 'Uploaded' }).waitFor();
      expect(await v.locator('body').innerText()).not.toContain('meeting-notes');
      expect((await content('/Projects/from-visitor.txt')).body.toString()).toBe(
        'hello from outside',
      );
      await visitor.close();
    });

    it('keeps versions on overwrite and restores one; list and grid views', async () => {
      await page.getByRole('link', { name: 'Files' }).click();
      const chooser = page.waitForEvent('filechooser');
      await page.getByRole('button', { name: 'Upload', exact: true }).click();
      await (await chooser).setFiles([
        {
          name: 'page.html',
          mimeType: 'text/html',
          buffer: Buffer.from('<h1>second edition</h1>'),
        },
      ]);
      // Replacing an existing file asks first.
      await page
        .getByRole('dialog', { name: 'Replace existing files?' })
        .getByRole('button', { name: 'Replace' })
        .click();
      await expect
        .poll(async () => (await content('/page.html')).body.toString())
        .toBe('<h1>second edition</h1>');
      await menu('page.html', 'Versions…');
      const versions = page.getByRole('dialog', { name: 'Versions of “page.html”' });
      await versions.getByRole('cell', { name: 'Version 1' }).waitFor();
      await versions.getByRole('button', { name: 'Restore' }).click();
      await page.locator('.toast', { hasText: 'Restored the version of' }).waitFor();
      expect((await content('/page.html')).body.equals(files.page)).toBe(true);
      // The replaced content is a version now, in turn.
      const kept = await (await page.request.get(`${c.url}/api/versions?path=%2Fpage.html`)).json();
      expect(kept.versions.map((x: { size: number }) => x.size)).toContain(
        '<h1>second edition</h1>'.length,
      );
      await versions.getByRole('button', { name: 'Close' }).click();

      await page.getByRole('button', { name: 'Grid view' }).click();
      await page.locator('.files-grid .card').first().waitFor();
      const thumb = page
        .locator('.files-grid .card', { has: page.locator('[data-name="photo.png"]') })
        .locator('img');
      await expect
        .poll(() => thumb.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth))
        .toBe(640);
      await page.getByRole('button', { name: 'Close the upload list' }).click();
      await page.locator('.uploads').waitFor({ state: 'hidden' });
      await shot('grid');
      await page.getByRole('button', { name: 'List view' }).click();
      await page.locator('.files-table').waitFor();
      // Select two entries: the selection bar offers bulk actions.
      await row('backup.zip').getByRole('checkbox').check();
      await row('photo.png').getByRole('checkbox').check();
      await page.getByText('2 selected').waitFor();
      await shot('files');
      await page.getByRole('button', { name: 'Clear' }).click();
    });

    it('works at phone width, every control has a name, and signs out', async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.getByRole('button', { name: 'Sections' }).click();
      await page
        .getByRole('navigation', { name: 'Sections' })
        .getByRole('link', { name: 'Files' })
        .click();
      await row('photo.png').waitFor();
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
        390,
      );
      // The drawer closes once a section is chosen.
      await expect
        .poll(() => page.locator('.sidebar').evaluate((el) => el.getBoundingClientRect().right))
        .toBeLessThanOrEqual(0);
      await shot('phone');
      const sections = page.getByRole('button', { name: 'Sections' });
      await sections.click();
      expect(await sections.getAttribute('aria-expanded')).toBe('true');
      await page.keyboard.press('Escape');
      expect(await sections.getAttribute('aria-expanded')).toBe('false');
      // In Chromium's accessibility tree every button, link and field has a name, icon-only ones too.
      const tree = await page.locator('body').ariaSnapshot();
      expect(tree).toContain('button "Upload"');
      expect(
        tree
          .split('\n')
          .filter((l) =>
            /^\s*- (button|link|textbox|checkbox|combobox|menuitem)(\s*\[[^\]]*\])?:?$/.test(l),
          ),
      ).toEqual([]);
      await page.setViewportSize({ width: 1280, height: 800 });

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('button', { name: 'Sign in with your wallet' }).waitFor();
      expect((await page.request.get(`${c.url}/api/me`)).status()).toBe(401);
      // Signed in again with the wallet alone: the node has its owner now, no code is asked.
      expect(await page.getByLabel('Owner code').count()).toBe(0);
      expect(fm.errors).toEqual([]);
    });
  },
);
