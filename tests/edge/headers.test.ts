/** The Node.js fast path's request header rules over raw lists: the same as forwardedRequestHeaders. */
import { describe, expect, it } from 'vitest';
import { forwardedRawHeaders, forwardedRequestHeaders } from '../../edge/headers.ts';

describe('forwardedRawHeaders', () => {
  const raw = [
    'Host',
    'alice.localhost',
    'Connection',
    'keep-alive, X-Private-Hop',
    'X-Private-Hop',
    'secret',
    'Keep-Alive',
    'timeout=5',
    'TE',
    'trailers',
    'X-PC2-Edge-Token',
    'forged',
    'x-pc2-node-id',
    'forged',
    'X-Forwarded-For',
    '6.6.6.6',
    'Forwarded',
    'for=6.6.6.6',
    'Accept',
    'text/html',
    'Cookie',
    'a=1',
    'Cookie',
    'b=2',
  ];
  const info = { clientIp: '127.0.0.1', host: 'alice.localhost', proto: 'https' };

  it('drops hop-by-hop, Connection-listed and edge-owned fields, sets X-Forwarded-*, keeps repeated fields apart', () => {
    expect(forwardedRawHeaders(raw, info)).toEqual([
      'accept',
      'text/html',
      'cookie',
      'a=1',
      'cookie',
      'b=2',
      'x-forwarded-for',
      '127.0.0.1',
      'x-forwarded-host',
      'alice.localhost',
      'x-forwarded-proto',
      'https',
    ]);
  });

  it('keeps the same fields as the Headers-based rule', () => {
    const incoming = new Headers();
    for (let i = 0; i < raw.length; i += 2) incoming.append(raw[i], raw[i + 1]);
    const names = (list: string[]) => [...new Set(list.filter((_, i) => i % 2 === 0))].sort();
    const viaHeaders: string[] = [];
    forwardedRequestHeaders(incoming, info).forEach((v, k) => viaHeaders.push(k, v));
    expect(names(forwardedRawHeaders(raw, info))).toEqual(names(viaHeaders));
  });

  it('leaves X-Forwarded-For out when the client address is unknown', () => {
    expect(forwardedRawHeaders(['accept', '*/*'], { host: 'a.localhost', proto: 'http' })).toEqual([
      'accept',
      '*/*',
      'x-forwarded-host',
      'a.localhost',
      'x-forwarded-proto',
      'http',
    ]);
  });
});
