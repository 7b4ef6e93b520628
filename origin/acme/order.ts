/**
 * One ACME order (RFC 8555) by DNS-01 with acme-client: the zone's apex and wildcard (the super nodes'
 * certificate), or one node's `<name>.<zone>` (a private name; the CLI hands this function to the
 * node agent, so the tree has one ACME client and one process-wide acme-client configuration). Each
 * challenge value is published by the caller (replicated zone records); the CA is asked to validate
 * only once `waitServed` says the zone's name servers answer it.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import * as acme from 'acme-client';
import { Agent as UndiciAgent, request } from 'undici';
import type { AcmeOrderRequest, CertificatePair } from '../../shared/acme-order.ts';
import { writeFileAtomic } from '../zone/atomic-file.ts';

export type OrderOptions = AcmeOrderRequest;

let roots: string[] | undefined;

/**
 * Trust for the directory's HTTPS (the system roots plus `caFile`, a test CA), a timeout, and no
 * retries inside acme-client: it would wait out a Retry-After of hours within one request and
 * retries an unreachable CA for over a minute; a failed order is retried by the manager's backoff.
 */
export function configureHttp(caFile: string | undefined, timeoutMs: number): void {
  roots = caFile ? [...rootCertificates, readFileSync(caFile, 'utf8')] : undefined;
  acme.axios.defaults.httpsAgent = new Agent({ ca: roots, keepAlive: false });
  acme.axios.defaults.timeout = timeoutMs;
  (acme.axios.defaults as { acmeSettings?: { retryMaxAttempts: number } })
    .acmeSettings!.retryMaxAttempts = 0;
}

/** Fails with the network's own words when the directory cannot be fetched (acme-client loses them). */
async function checkDirectory(url: string, timeoutMs: number): Promise<void> {
  const dispatcher = new UndiciAgent({ connect: { ca: roots, timeout: timeoutMs } });
  try {
    const res = await request(url, {
      dispatcher,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    await res.body.dump();
    if (res.statusCode !== 200)
      throw new Error(`the ACME directory ${url} answered ${res.statusCode}`);
  } catch (e) {
    const err = e as Error & { code?: string };
    throw new Error(`the ACME directory ${url} is unreachable: ${err.code ?? err.message}`);
  } finally {
    await dispatcher.close();
  }
}

async function accountKey(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    const key = await acme.crypto.createPrivateEcdsaKey();
    await writeFileAtomic(file, key, 0o600);
    return key;
  }
}

export async function orderCertificate(o: OrderOptions): Promise<CertificatePair> {
  acme.setLogger((message) => o.logger.debug(`acme: ${message}`));
  await checkDirectory(o.directoryUrl, acme.axios.defaults.timeout ?? 30_000);
  const client = new acme.Client({
    directoryUrl: o.directoryUrl,
    accountKey: await accountKey(o.accountKeyFile),
    backoffAttempts: 12,
    backoffMin: 1_000,
    backoffMax: 10_000,
  });
  // Look the account up first: acme-client registers an existing account with an update that
  // carries only the terms flag, which some CAs (pebble) refuse as an empty update.
  const contact = o.email ? [`mailto:${o.email}`] : undefined;
  await client
    .createAccount({ onlyReturnExisting: true })
    .catch(() => client.createAccount({ termsOfServiceAgreed: o.termsOfServiceAgreed, contact }));
  const [key, csr] = await acme.crypto.createCsr(
    { commonName: o.names[0], altNames: o.names },
    await acme.crypto.createPrivateEcdsaKey(),
  );
  // The apex and the wildcard are validated at the same name: both values are served together.
  const values = new Set<string>();
  let serial = Promise.resolve();
  const update = (change: () => void) =>
    (serial = serial.then(async () => {
      change();
      await o.publish([...values]);
    }));
  const chain = await client.auto({
    csr,
    email: o.email,
    termsOfServiceAgreed: o.termsOfServiceAgreed,
    challengePriority: ['dns-01'],
    // acme-client's own check asks the system resolver; waitServed asks every name server of the zone.
    skipChallengeVerification: true,
    challengeCreateFn: async (_authz, challenge, value) => {
      if (challenge.type !== 'dns-01')
        throw new Error(`the CA offered ${challenge.type}, only dns-01 is supported`);
      await update(() => values.add(value));
      await o.waitServed(value);
    },
    challengeRemoveFn: async (_authz, _challenge, value) => {
      await update(() => values.delete(value));
    },
  });
  return { chain, key: key.toString() };
}

/** acme-client reports a request that got no response as a TypeError about `config`. */
export function orderError(e: unknown): string {
  const message = (e as Error)?.message ?? String(e);
  return /reading 'config'/.test(message) ? 'the CA stopped answering during the order' : message;
}
