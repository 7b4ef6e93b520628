import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { openKey, sealKey, sealToAll } from '../../origin/acme/bundle.ts';
import {
  certificateProblem,
  readCertificate,
  writeCertificate,
} from '../../origin/acme/certificate.ts';
import { KeyPair } from '../../shared/keys.ts';

const dir = mkdtempSync(join(tmpdir(), 'pc2-acme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function selfSigned(name: string, sans: string): { chain: string; key: string } {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.pem`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
      '-addext',
      `subjectAltName=${sans}`,
    ],
    { stdio: 'ignore' },
  );
  return { chain: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

const good = selfSigned('good', 'DNS:ela.test,DNS:*.ela.test');
const apexOnly = selfSigned('apex', 'DNS:ela.test');
const other = selfSigned('other', 'DNS:ela.test,DNS:*.ela.test');

describe('the zone certificate', () => {
  it('is usable only for the zone and its wildcard, with its own key, before it expires', () => {
    const now = Date.now();
    expect(certificateProblem(good.chain, good.key, 'ela.test', now)).toBeNull();
    expect(certificateProblem(apexOnly.chain, apexOnly.key, 'ela.test', now)).toMatch(
      /does not cover \*\.ela\.test/,
    );
    expect(certificateProblem(good.chain, other.key, 'ela.test', now)).toMatch(
      /key does not belong/,
    );
    expect(certificateProblem(good.chain, good.key, 'ela.test', now + 3 * 86_400_000)).toMatch(
      /expired/,
    );
    expect(certificateProblem('junk', good.key, 'ela.test', now)).toMatch(/no certificate/);
  });

  it('is written 0600; as one file (key and chain) that TLS reads as both, or as two', async () => {
    const one = join(dir, 'out', 'certificate.pem');
    await writeCertificate({ certFile: one, keyFile: one }, good.chain, good.key);
    expect(statSync(one).mode & 0o777).toBe(0o600);
    const both = readFileSync(one);
    expect(() => createSecureContext({ cert: both, key: both })).not.toThrow();
    expect((await readCertificate({ certFile: one, keyFile: one }))?.names).toEqual([
      'ela.test',
      '*.ela.test',
    ]);
    writeFileSync(one, 'replaced\n'); // a reader never sees a mix: the next write replaces the file whole
    await writeCertificate({ certFile: one, keyFile: one }, other.chain, other.key);
    expect(statSync(one).mode & 0o777).toBe(0o600);
    expect(
      certificateProblem(
        readFileSync(one, 'utf8'),
        readFileSync(one, 'utf8'),
        'ela.test',
        Date.now(),
      ),
    ).toBeNull();
    const pair = {
      certFile: join(dir, 'out', 'fullchain.pem'),
      keyFile: join(dir, 'out', 'privkey.pem'),
    };
    await writeCertificate(pair, good.chain, good.key);
    expect([statSync(pair.certFile).mode & 0o777, statSync(pair.keyFile).mode & 0o777]).toEqual([
      0o600, 0o600,
    ]);
    expect(readFileSync(pair.certFile, 'utf8')).not.toContain('PRIVATE KEY');
  });

  it('travels with its key sealed to each super node: only the recipient opens it, and only from the sealer', () => {
    const orderer = KeyPair.generate();
    const peer = KeyPair.generate();
    const stranger = KeyPair.generate();
    const keys = sealToAll(good.key, orderer, [orderer.id, peer.id]);
    expect(Object.keys(keys).sort()).toEqual([orderer.id.toString(), peer.id.toString()].sort());
    expect(keys[peer.id.toString()]).not.toContain('PRIVATE');
    expect(openKey(keys[peer.id.toString()], peer, orderer.id)).toBe(good.key);
    expect(openKey(keys[orderer.id.toString()], orderer, orderer.id)).toBe(good.key);
    expect(openKey(keys[peer.id.toString()], stranger, orderer.id)).toBeNull();
    expect(openKey(sealKey(good.key, stranger, peer.id), peer, orderer.id)).toBeNull(); // sealed by someone else
    const tampered =
      keys[peer.id.toString()].slice(0, -3) +
      (keys[peer.id.toString()].endsWith('AAA') ? 'BBB' : 'AAA');
    expect(openKey(tampered, peer, orderer.id)).toBeNull();
    expect(openKey(undefined, peer, orderer.id)).toBeNull();
    expect(openKey('', peer, orderer.id)).toBeNull();
  });
});
