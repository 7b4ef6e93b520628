import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSqlite, ownedCloud, raw, type TestCloud } from './helpers.ts';

/** One raw HTTP/1.1 exchange (node:http would frame the body itself); resolves with the status. */
function send(port: number, head: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(`${head}\r\n\r\n${body}`));
    let got = '';
    s.on('data', (d) => {
      got += d;
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
      if (m) {
        s.destroy();
        resolve(Number(m[1]));
      }
    });
    s.on('error', reject);
  });
}

/** Proxies (the node's gateway among them) forward a bodiless MKCOL with an empty chunked body. */
describe.skipIf(!hasSqlite)('MKCOL and its body', () => {
  let c: TestCloud;
  let basic: string;
  beforeAll(async () => {
    ({ c, basic } = await ownedCloud());
  });
  afterAll(() => c.stop());

  const head = (path: string) =>
    `MKCOL ${path} HTTP/1.1\r\nHost: 127.0.0.1:${c.port}\r\nAuthorization: ${basic}\r\nTransfer-Encoding: chunked`;

  it('takes an empty chunked body as none, refuses a real one (415) and keeps serving', async () => {
    expect(await send(c.port, head('/dav/empty-chunked'), '0\r\n\r\n')).toBe(201);
    expect(await send(c.port, head('/dav/with-body'), '3\r\nabc\r\n0\r\n\r\n')).toBe(415);
    const list = await raw(c, 'PROPFIND', '/dav/', { authorization: basic, depth: '1' });
    expect(list.status).toBe(207);
    expect(list.body).toContain('/dav/empty-chunked/');
    expect(list.body).not.toContain('with-body');
  });
});
