/**
 * The file manager's previews in Debian's Chromium: images, PDF, HTML (framed with no script), text,
 * audio and video played by the browser and sought over Range requests, a kind with no preview.
 */
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, NO_CHROMIUM } from './browser.ts';
import { type FileManagerPage, openFileManager, put } from './file-manager-page.ts';
import { hasSqlite, ownedCloud, type Session, type TestCloud } from './helpers.ts';
import { encodeVp8, pdf, png, wav, webm } from './media.ts';

if (hasSqlite && !hasChromium)
  console.warn(`tests/cloud/file-manager-preview skipped: ${NO_CHROMIUM}`);

describe.skipIf(!hasSqlite || !hasChromium)('file manager previews in Chromium', () => {
  let c: TestCloud;
  let owner: Session;
  let fm: FileManagerPage;
  let page: Page;
  const notes = Buffer.from('Meeting notes\n- ship the file manager\n- write the docs\n');
  const preview = () => page.locator('dialog.preview');
  const open = (name: string) => fm.row(name).locator('.name-btn').click();
  /** Where the player landed after it was sent to `seconds`. */
  const seek = (player: Locator, seconds: number): Promise<number> =>
    player.evaluate(
      (m: HTMLMediaElement, to: number) =>
        new Promise<number>((resolve) => {
          m.addEventListener('seeked', () => resolve(m.currentTime), { once: true });
          m.currentTime = to;
        }),
      seconds,
    );
  /** Byte offsets the page asked for with Range, per file name. */
  const ranges = new Map<string, number[]>();

  beforeAll(async () => {
    ({ c, owner } = await ownedCloud());
    for (const folder of ['/Documents', '/Photos'])
      expect((await owner.api('POST', '/api/files/mkdir', { path: folder })).status).toBe(201);
    await put(owner, '/photo.png', png(640, 420));
    await put(owner, '/report.pdf', pdf('Quarterly report'));
    await put(owner, '/readme.txt', notes);
    await put(owner, '/tone.wav', wav(12));
    await put(owner, '/backup.zip', Buffer.alloc(4096, 7));
    await put(
      owner,
      '/page.html',
      Buffer.from(
        '<!doctype html><h1>Uploaded page</h1><script>parent.document.title = "pwned"; document.body.append("script ran")</script>',
      ),
    );
    fm = await openFileManager(c, { cookie: owner.cookie });
    page = fm.page;
    page.on('request', (r) => {
      const range = /^bytes=(\d+)-/.exec(r.headers().range ?? '');
      const name = new URL(r.url()).searchParams.get('path')?.split('/').pop();
      if (range && name) ranges.set(name, [...(ranges.get(name) ?? []), Number(range[1])]);
    });
    await page.goto(`${c.url}/`);
    await fm.row('photo.png').waitFor();
  });
  afterAll(async () => {
    await fm?.close();
    await c?.stop();
  });

  it('shows images, PDF from a sandboxed response, HTML with no script, text; walks by keyboard', async () => {
    await open('photo.png');
    const img = preview().locator('img.preview-image');
    await expect
      .poll(() => img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth))
      .toBe(640);
    await fm.shot('preview');
    await preview().getByRole('button', { name: 'Close' }).click();

    const framedPdf = page.waitForResponse(
      (r) => r.url().includes('path=%2Freport.pdf') && r.request().resourceType() === 'document',
    );
    await open('report.pdf');
    const pdfHeaders = await (await framedPdf).allHeaders();
    expect(pdfHeaders['content-type']).toBe('application/pdf');
    expect(pdfHeaders['content-security-policy']).toMatch(/^sandbox;/);
    await preview().locator('iframe.preview-frame').waitFor();
    // The files before it in the folder, by keyboard: text read as text, then the HTML page.
    await preview().locator('.preview-bar').click();
    await page.keyboard.press('ArrowLeft');
    await preview().locator('h2', { hasText: 'readme.txt' }).waitFor();
    expect(await preview().locator('pre').textContent()).toBe(notes.toString());
    await page.keyboard.press('ArrowLeft');
    await preview().locator('h2', { hasText: 'photo.png' }).waitFor();
    await page.keyboard.press('ArrowLeft');
    await preview().locator('h2', { hasText: 'page.html' }).waitFor();
    const framed = preview().locator('iframe.preview-frame');
    expect(await framed.getAttribute('sandbox')).toBe('');
    const frame = await (await framed.elementHandle())!.contentFrame();
    await frame!.getByText('Uploaded page').waitFor();
    expect(await frame!.locator('body').innerText()).not.toContain('script ran');
    expect(await page.title()).not.toBe('pwned');
    // Opened in a tab instead, the same HTML is an attachment, never a page of the node.
    const direct = await page.request.get(`${c.url}/api/files/content?path=%2Fpage.html&preview=1`);
    expect(direct.headers()['content-disposition']).toMatch(/^attachment/);
    // A kind with no preview says so and offers the download.
    await page.keyboard.press('ArrowLeft');
    await preview().locator('h2', { hasText: 'backup.zip' }).waitFor();
    await preview().getByText('There is no preview for this kind of file.').waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => preview().count()).toBe(0);
  });

  it('plays audio and seeks to 10 s of 12 over Range requests', async () => {
    await open('tone.wav');
    const audio = preview().locator('audio');
    const seekableTo = () =>
      audio.evaluate((a: HTMLAudioElement) => (a.seekable.length > 0 ? a.seekable.end(0) : 0));
    await expect.poll(seekableTo).toBeCloseTo(12, 0);
    expect(await seek(audio, 10)).toBeCloseTo(10, 0);
    expect(ranges.get('tone.wav')?.length).toBeGreaterThan(0);
    await page.keyboard.press('Escape');
  });

  it('plays a WebM video and seeks to 10 s of 12 by asking for a later range of it', async () => {
    const clip = webm(await encodeVp8(page, 12, 320, 240), 320, 240, 12_000);
    expect(clip.length).toBeGreaterThan(1_000_000);
    await put(owner, '/clip.webm', clip);
    await page.reload();
    await open('clip.webm');
    const video = preview().locator('video');
    await expect
      .poll(() => video.evaluate((v: HTMLVideoElement) => (v.readyState >= 1 ? v.duration : 0)))
      .toBeCloseTo(12, 0);
    expect(await video.evaluate((v: HTMLVideoElement) => [v.videoWidth, v.videoHeight])).toEqual([
      320, 240,
    ]);
    const asked = ranges.get('clip.webm')?.length ?? 0;
    expect(await seek(video, 10)).toBeCloseTo(10, 0);
    await expect
      .poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState))
      .toBeGreaterThanOrEqual(2);
    // The player went to the cluster the cues point at, past the part it had read.
    expect(
      ranges
        .get('clip.webm')!
        .slice(asked)
        .some((at) => at > clip.length / 2),
    ).toBe(true);
    await page.keyboard.press('Escape');
  });

  it('throws nothing in the page', () => {
    expect(fm.errors).toEqual([]);
  });
});
