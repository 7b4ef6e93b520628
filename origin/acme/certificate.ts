/**
 * The zone certificate as files and as facts: reading a chain's validity and names, checking that a
 * key belongs to it, writing it where the gateway reads it (mode 0600, replaced atomically).
 */
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../zone/atomic-file.ts';

export interface CertificateFacts {
  notBefore: number;
  notAfter: number;
  /** DNS names of the leaf (subjectAltName). */
  names: string[];
  serial: string;
}

export interface InstalledCertificate extends CertificateFacts {
  chain: string;
  key: string;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const PEM_KEY =
  /-----BEGIN (?:EC |RSA )?PRIVATE KEY-----[\s\S]+?-----END (?:EC |RSA )?PRIVATE KEY-----/;

/** Validity and names of the chain's leaf; throws for something that is not a certificate. */
export function certificateFacts(chain: string): CertificateFacts {
  const pems = chain.match(PEM_CERT);
  if (!pems) throw new Error('no certificate in the chain');
  const leaf = new X509Certificate(pems[0]);
  const names = (leaf.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((n) => n.startsWith('DNS:'))
    .map((n) => n.slice(4).toLowerCase());
  return {
    notBefore: Date.parse(leaf.validFrom),
    notAfter: Date.parse(leaf.validTo),
    names,
    serial: leaf.serialNumber,
  };
}

/** The names the zone certificate must cover. */
export const zoneNames = (zone: string) => [zone, `*.${zone}`];

/** Why `key` + `chain` is not a usable zone certificate now (null: it is). */
export function certificateProblem(
  chain: string,
  key: string,
  zone: string,
  now: number,
): string | null {
  let facts: CertificateFacts;
  try {
    facts = certificateFacts(chain);
  } catch (e) {
    return (e as Error).message;
  }
  const missing = zoneNames(zone).filter((n) => !facts.names.includes(n));
  if (missing.length > 0) return `the certificate does not cover ${missing.join(', ')}`;
  if (facts.notAfter <= now) return 'the certificate has expired';
  try {
    const leaf = new X509Certificate(chain.match(PEM_CERT)![0]);
    const fromKey = createPublicKey(createPrivateKey(key)).export({ type: 'spki', format: 'der' });
    if (!leaf.publicKey.export({ type: 'spki', format: 'der' }).equals(fromKey))
      return 'the key does not belong to the certificate';
  } catch (e) {
    return `unreadable key: ${(e as Error).message}`;
  }
  return null;
}

export interface CertificatePaths {
  /** Chain (PEM), leaf first. May be the same file as keyFile: then one file holds the key and the chain. */
  certFile: string;
  keyFile: string;
}

/**
 * Writes the pair. One file (the default) is replaced in a single rename, so a reader never sees a
 * key and a chain that do not match; two files are written key first, and a reader that catches the
 * moment between finds a mismatched pair, which the gateway skips until its next poll.
 */
export async function writeCertificate(
  paths: CertificatePaths,
  chain: string,
  key: string,
): Promise<void> {
  const keyPem = key.match(PEM_KEY)?.[0] ?? key.trim();
  if (paths.certFile === paths.keyFile) {
    await writeFileAtomic(paths.certFile, `${keyPem}\n${chain.trim()}\n`, 0o600);
    return;
  }
  await writeFileAtomic(paths.keyFile, `${keyPem}\n`, 0o600);
  await writeFileAtomic(paths.certFile, `${chain.trim()}\n`, 0o600);
}

/** The pair on disk, if there is a readable one. */
export async function readCertificate(
  paths: CertificatePaths,
): Promise<InstalledCertificate | null> {
  try {
    const [certText, keyText] = await Promise.all([
      readFile(paths.certFile, 'utf8'),
      readFile(paths.keyFile, 'utf8'),
    ]);
    const chain = (certText.match(PEM_CERT) ?? []).join('\n');
    const key = keyText.match(PEM_KEY)?.[0];
    if (!chain || !key) return null;
    return { ...certificateFacts(chain), chain, key };
  } catch {
    return null;
  }
}
