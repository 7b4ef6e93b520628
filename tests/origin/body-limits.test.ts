/**
 * Every route of the super node's HTTP API (registry, probe, DHT, zone), and the stand-alone registry
 * server: a body over the route's limit gets 413 BODY_TOO_LARGE, before a byte of it is read when
 * Content-Length says so, and as soon as the count passes the limit when it streams in chunked; one
 * at the limit gets past the check (to the route's own answer). GET and HEAD take no body at all.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_DHT_BODY_BYTES } from '../../origin/dht/http-api.ts';
import { MAX_PROBE_BODY_BYTES } from '../../origin/probe.ts';
import { MAX_PUSH_BODY_BYTES } from '../../origin/registry/index.ts';
import { MAX_WRITE_BODY_BYTES } from '../../origin/registry/write-ops.ts';
import { SuperNode } from '../../origin/supernode.ts';
import { MAX_PUBLISH_BYTES, MAX_PUSH_BYTES as MAX_ZONE_PUSH_BYTES } from '../../origin/zone/api.ts';
import { KeyPair } from '../../shared/keys.ts';
import { tempDir } from '../helpers/processes.ts';
import { startRegistry } from './registry/helpers.ts';

const id = KeyPair.generate().id.toString();
/** [method, path, the most the route takes] */
const ROUTES: [string, string, number][] = [
  ['GET', '/api/v1/health', 0],
  ['GET', '/api/v1/registrar', 0],
  ['GET', '/api/v1/supernode', 0],
  ['GET', '/api/v1/names/alice', 0],
  ['GET', '/api/v1/names/alice/available', 0],
  ['GET', `/api/v1/owners/${id}/names`, 0],
  ['GET', '/api/v1/replication/changes?since=0&limit=1', 0],
  ['GET', `/api/v1/dht/values/${id}`, 0],
  ['GET', `/api/v1/nodes/${id}/route`, 0],
  ['GET', '/api/v1/zone', 0],
  ['HEAD', '/api/v1/health', 0],
  ['POST', '/api/v1/names/alice/claim', MAX_WRITE_BODY_BYTES],
  ['PUT', '/api/v1/names/alice/route', MAX_WRITE_BODY_BYTES],
  ['POST', '/api/v1/names/alice/release', MAX_WRITE_BODY_BYTES],
  ['POST', '/api/v1/names/alice/transfer', MAX_WRITE_BODY_BYTES],
  ['POST', '/api/v1/names/alice/accept', MAX_WRITE_BODY_BYTES],
  ['POST', '/api/v1/probe', MAX_PROBE_BODY_BYTES],
  ['PUT', `/api/v1/dht/values/${id}`, MAX_DHT_BODY_BYTES],
  ['PUT', '/api/v1/zone/challenges/alice', MAX_PUBLISH_BYTES],
  ['POST', '/api/v1/zone/push', MAX_ZONE_PUSH_BYTES],
  ['POST', '/api/v1/replication/push', MAX_PUSH_BODY_BYTES],
];

let node: SuperNode;
let base: string;

beforeAll(async () => {
  node = new SuperNode({
    key: KeyPair.generate(),
    dataDir: tempDir('pc2-body-limits-'),
    zone: 'ela.test',
    edgeKeys: [],
    host: '127.0.0.1',
    apiPort: 0,
    tunnelPort: 0,
    dht: { port: 0 },
    zoneDns: {
      dns: { host: '127.0.0.1', port: 0 },
      gatewayAddresses: ['192.0.2.1'],
      rateLimit: false,
    },
  });
  base = (await node.start()).apiUrl;
}, 30_000);
afterAll(() => node?.stop());

/** One request; `body` is written as is (chunked without a Content-Length header). */
function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: (req: http.ClientRequest) => void,
): Promise<{ status: number; code?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false, timeout: 5000 });
    req.on('timeout', () => req.destroy(new Error('no answer in time')));
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let code: string | undefined;
        try {
          code = JSON.parse(text).error?.code;
        } catch {}
        resolve({ status: res.statusCode ?? 0, code });
      });
    });
    if (body) body(req);
    else req.end();
  });
}

describe('body limits, route by route', () => {
  it.each(ROUTES)('%s %s: at most %i bytes', async (method, path, max) => {
    // Declared too large: answered at once, nothing of the body sent.
    const declared = await send(
      base + path,
      method,
      {
        'content-length': String(max + 1_000_000),
      },
      (req) => req.flushHeaders(),
    );
    // (A HEAD answer has no body to carry the code.)
    const refused = { status: 413, code: method === 'HEAD' ? undefined : 'BODY_TOO_LARGE' };
    // A push is refused for its missing authorization, checked before the body, unless it is over
    // what the whole API port takes (refused before routing).
    const unauthenticated = { status: 401, code: 'UNAUTHENTICATED' };
    const push = path.endsWith('/push');
    expect(declared).toEqual(
      push && max + 1_000_000 <= MAX_PUSH_BODY_BYTES ? unauthenticated : refused,
    );
    // Chunked, one byte too many: refused as it streams (HEAD and GET at the first byte).
    const chunked = await send(base + path, method, { 'transfer-encoding': 'chunked' }, (req) => {
      const chunk = Buffer.alloc(Math.min(64 * 1024, max + 1), 0x20);
      let left = max + 1;
      const pump = () => {
        while (left > 0) {
          const n = Math.min(chunk.length, left);
          left -= n;
          if (!req.write(chunk.subarray(0, n))) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    }).catch(() => refused /* the server closed mid-upload */);
    expect(chunked).toEqual(push ? unauthenticated : refused);
    if (max > 0) {
      // At the limit the route itself answers (whatever it thinks of the content).
      const at = await send(base + path, method, { 'content-length': String(max) }, (req) =>
        req.end(Buffer.alloc(max, 0x20)),
      );
      expect(at.status).not.toBe(413);
    }
  });

  it('the stand-alone registry server refuses the same way', async () => {
    const registry = await startRegistry();
    try {
      for (const [method, path, max] of ROUTES.filter(
        ([, p]) => p.includes('/names/') || p.includes('replication'),
      )) {
        const res = await send(
          registry.url + path,
          method,
          {
            'content-length': String(max + 1_000_000),
          },
          (req) => req.flushHeaders(),
        );
        expect(res, `${method} ${path}`).toEqual({ status: 413, code: 'BODY_TOO_LARGE' });
      }
    } finally {
      await registry.close();
    }
  });
});
