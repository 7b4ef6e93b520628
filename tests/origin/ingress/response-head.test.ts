import { describe, expect, it } from 'vitest';
import { ChunkedDecoder } from '../../../shared/http/chunked.ts';
import { headEnd, parseResponseHead } from '../../../shared/http/response-head.ts';

const head = (text: string) => new TextEncoder().encode(text);
const parse = (text: string, method = 'GET') => parseResponseHead(head(text), method);

describe('response heads from a node (strict)', () => {
  it('finds the end of the head and reads status, headers and framing', () => {
    const bytes = head('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  b \r\n\r\nhello');
    const end = headEnd(bytes);
    expect(end).toBe(bytes.length - 5);
    const r = parseResponseHead(bytes.subarray(0, end), 'GET');
    expect(r.ok && r.value).toEqual({
      status: 200,
      reason: 'OK',
      rawHeaders: ['Content-Length', '5', 'X-A', 'b'],
      framing: { kind: 'length', bytes: 5 },
      keepAlive: true,
    });
  });

  it.each([
    ['chunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', { kind: 'chunked' }, true],
    ['no length: to the close', 'HTTP/1.1 200 OK\r\n\r\n', { kind: 'close' }, false],
    [
      'gzip, chunked',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n',
      { kind: 'chunked' },
      true,
    ],
    [
      'chunked not last: to the close',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n',
      { kind: 'close' },
      false,
    ],
    ['204', 'HTTP/1.1 204 No Content\r\n\r\n', { kind: 'none' }, true],
    [
      '304 with a length',
      'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n',
      { kind: 'none' },
      true,
    ],
    [
      'Connection: close',
      'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive, close\r\n\r\n',
      { kind: 'length', bytes: 0 },
      false,
    ],
    [
      'HTTP/1.0',
      'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n',
      { kind: 'length', bytes: 2 },
      false,
    ],
    [
      'same length twice',
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n',
      { kind: 'length', bytes: 3 },
      true,
    ],
  ])('%s', (_, text, framing, keepAlive) => {
    const r = parse(text);
    expect(r.ok && [r.value.framing, r.value.keepAlive]).toEqual([framing, keepAlive]);
  });

  it('a HEAD answer has no body whatever its headers say', () => {
    const r = parse('HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n', 'HEAD');
    expect(r.ok && r.value.framing).toEqual({ kind: 'none' });
  });

  it.each([
    [
      'both Transfer-Encoding and Content-Length',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n',
    ],
    ['differing lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n'],
    ['a length that is not a number', 'HTTP/1.1 200 OK\r\nContent-Length: 3x\r\n\r\n'],
    ['a negative length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'],
    ['chunked twice', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n'],
    ['obsolete line folding', 'HTTP/1.1 200 OK\r\nX-A: b\r\n c\r\n\r\n'],
    ['a space before the colon', 'HTTP/1.1 200 OK\r\nContent-Length : 3\r\n\r\n'],
    ['a bare LF inside', 'HTTP/1.1 200 OK\r\nX-A: b\nContent-Length: 3\r\n\r\n'],
    ['a NUL in a value', 'HTTP/1.1 200 OK\r\nX-A: b\u0000c\r\n\r\n'],
    ['HTTP/2 status line', 'HTTP/2 200 OK\r\n\r\n'],
    ['a two-digit status', 'HTTP/1.1 20 OK\r\n\r\n'],
    ['not HTTP at all', 'SSH-2.0-OpenSSH\r\n\r\n'],
  ])('refuses %s', (_, text) => {
    const r = parse(text);
    expect(!r.ok && r.error.code).toBe('BAD_HTTP');
  });
});

describe('chunked bodies from a node', () => {
  const body =
    '4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nTrailer: x\r\n\r\n';

  it('decodes whatever the split, without copying, and knows where the body ends', () => {
    for (let cut = 1; cut < body.length; cut++) {
      const decoder = new ChunkedDecoder();
      let out = '';
      const feed = (text: string) => {
        const r = decoder.push(head(text), (piece) => (out += new TextDecoder().decode(piece)));
        expect(r.ok).toBe(true);
      };
      feed(body.slice(0, cut));
      feed(body.slice(cut));
      expect(out).toBe('Wikipedia in\r\n\r\nchunks.');
      expect(decoder.done).toBe(true);
    }
  });

  it('counts only the body: what follows its end is not consumed', () => {
    const decoder = new ChunkedDecoder();
    const r = decoder.push(head('0\r\n\r\nHTTP/1.1 200'), () => {});
    expect(r.ok && r.value).toBe(5);
    expect(decoder.done).toBe(true);
  });

  it.each([
    ['a size that is not hex', 'zz\r\n'],
    ['no CRLF after the data', '2\r\nabX'],
    ['a size line ended by a bare LF', '2\nab\r\n'],
    ['a size too large', 'fffffffffffff\r\n'],
  ])('refuses %s', (_, text) => {
    const r = new ChunkedDecoder().push(head(text), () => {});
    expect(!r.ok && r.error.code).toBe('BAD_HTTP');
  });
});
