/** Test helpers for the personal cloud: a running cloud in a temp dir, wallets, sign-in, requests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import * as Address from 'ox/Address';
import * as Hex from 'ox/Hex';
import * as PersonalMessage from 'ox/PersonalMessage';
import * as Secp256k1 from 'ox/Secp256k1';
import * as Signature from 'ox/Signature';
import * as Siwe from 'ox/Siwe';
import { listenCloud, type RunningCloud } from '../../cloud/runtime/listen.ts';
import type { CloudOptions } from '../../cloud/index.ts';
import { sqliteAvailable } from '../../cloud/runtime/sqlite.ts';

/** node:sqlite arrives with Node.js 22.13; until the project runs on Node 26 (issue 19) the cloud tests skip. */
export const hasSqlite = sqliteAvailable();
export const SKIP_REASON = `the personal cloud needs node:sqlite (Node.js >= 22.13); this is ${process.version}`;
if (!hasSqlite) console.warn(`tests/cloud skipped: ${SKIP_REASON}`);

export interface TestCloud extends RunningCloud {
  dir: string;
  stop(): Promise<void>;
}

export async function startCloud(
  options: Partial<Omit<CloudOptions, 'dataDir'>> & { dataDir?: string } = {},
): Promise<TestCloud> {
  const dir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'pc2-cloud-'));
  const running = await listenCloud({ sweepIntervalMs: 0, ...options, dataDir: dir });
  return {
    ...running,
    dir,
    stop: async () => {
      await running.close();
      if (!options.dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Wallet {
  privateKey: `0x${string}`;
  address: string;
  signMessage(message: string): string;
}

export function wallet(seed: number): Wallet {
  const privateKey = `0x${seed.toString(16).padStart(64, '0')}` as `0x${string}`;
  const address = Address.checksum(Address.fromPublicKey(Secp256k1.getPublicKey({ privateKey })));
  return {
    privateKey,
    address,
    signMessage: (message) =>
      Signature.toHex(
        Secp256k1.sign({
          payload: PersonalMessage.getSignPayload(Hex.fromString(message)),
          privateKey,
        }),
      ),
  };
}

export function siweMessage(
  w: Wallet,
  o: { domain: string; uri: string; nonce: string; issuedAt?: Date; expirationTime?: Date },
): string {
  return Siwe.createMessage({
    address: w.address as `0x${string}`,
    chainId: 1,
    domain: o.domain,
    nonce: o.nonce,
    uri: o.uri,
    version: '1',
    issuedAt: o.issuedAt instanceof Date ? o.issuedAt : new Date(),
    expirationTime: o.expirationTime instanceof Date ? o.expirationTime : undefined,
    statement: 'Sign in to your PC2 personal cloud.',
  });
}

export interface Session {
  cookie: string;
  address: string;
  /** A JSON API call with the session cookie and the node's Origin. */
  api(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: any; headers: Headers }>;
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

export async function signIn(c: { url: string }, w: Wallet, ownerCode?: string): Promise<Session> {
  const nonce = (await (await fetch(`${c.url}/api/auth/nonce`)).json()) as {
    nonce: string;
    domain: string;
    uri: string;
  };
  const message = siweMessage(w, { domain: nonce.domain, uri: nonce.uri, nonce: nonce.nonce });
  const res = await fetch(`${c.url}/api/auth/signin`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: c.url },
    body: JSON.stringify({ message, signature: w.signMessage(message), ownerCode }),
  });
  const json = await res.json();
  if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${JSON.stringify(json)}`);
  const cookie = res.headers.get('set-cookie')!.split(';')[0];
  return sessionFor(c, cookie, json.address);
}

export function sessionFor(c: { url: string }, cookie: string, address: string): Session {
  const doFetch = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${c.url}${path}`, {
      ...init,
      headers: { cookie, origin: c.url, ...(init.headers as Record<string, string>) },
    });
  return {
    cookie,
    address,
    fetch: doFetch,
    api: async (method, path, body) => {
      const res = await doFetch(path, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return {
        status: res.status,
        json: text ? JSON.parse(text) : undefined,
        headers: res.headers,
      };
    },
  };
}

/** Starts a cloud, claims it as owner with wallet(1), and makes an app password for WebDAV. */
export async function ownedCloud(
  options: Parameters<typeof startCloud>[0] = {},
): Promise<{ c: TestCloud; owner: Session; appPassword: string; basic: string }> {
  const c = await startCloud(options);
  const owner = await signIn(c, wallet(1), c.cloud.ownerCode()!);
  const created = await owner.api('POST', '/api/app-passwords', { label: 'tests' });
  const appPassword = created.json.password as string;
  const basic = 'Basic ' + Buffer.from(`${owner.address}:${appPassword}`).toString('base64');
  return { c, owner, appPassword, basic };
}

/** A request whose path goes out byte for byte (fetch and URL parsers would resolve "..", "%2e%2e"). */
export function raw(
  c: { port: number },
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  // Non-ASCII must be percent-encoded on the wire; everything else is sent untouched.
  const wire = path.replace(/[^\x21-\x7e]/g, (ch) => encodeURIComponent(ch));
  // Node sends DELETE/OPTIONS bodies without framing unless told the length.
  if (body !== undefined)
    headers = { ...headers, 'content-length': String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: c.port, method, path: wire, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
