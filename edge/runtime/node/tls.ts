/**
 * The gateway's wildcard certificate, read from files and swapped into the running server when the
 * files change: new handshakes use the new pair, open connections are left alone.
 */
import { readFile, stat } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContextOptions } from 'node:tls';

export const TLS_MIN_VERSION = 'TLSv1.3' as const;

export interface CertificateFiles {
  certFile: string;
  keyFile: string;
}

export async function readCertificate(files: CertificateFiles): Promise<SecureContextOptions> {
  const [cert, key] = await Promise.all([readFile(files.certFile), readFile(files.keyFile)]);
  const options: SecureContextOptions = { cert, key, minVersion: TLS_MIN_VERSION };
  // Throws for a mismatched or unreadable pair, before the server ever sees it.
  createSecureContext(options);
  return options;
}

/** When the leaf certificate of a pair expires, ms (null when it cannot be read). */
export function certificateNotAfter(options: SecureContextOptions): number | null {
  try {
    return Date.parse(new X509Certificate(options.cert as Buffer).validTo);
  } catch {
    return null;
  }
}

async function fingerprint(files: CertificateFiles): Promise<string> {
  const [c, k] = await Promise.all([stat(files.certFile), stat(files.keyFile)]);
  return `${c.ino}:${c.size}:${c.mtimeMs}/${k.ino}:${k.size}:${k.mtimeMs}`;
}

export interface CertificateWatcher {
  stop(): void;
  /** Number of successful reloads so far. */
  readonly reloads: number;
}

/**
 * Polls the files every `intervalMs` and calls `apply` with a validated pair when they changed.
 * A half-written or mismatched pair is skipped and retried on the next poll.
 */
export async function watchCertificate(
  files: CertificateFiles,
  intervalMs: number,
  apply: (options: SecureContextOptions) => void,
  onError: (error: Error) => void,
): Promise<CertificateWatcher> {
  let last = await fingerprint(files);
  let reloads = 0;
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const now = await fingerprint(files);
      if (now !== last) {
        apply(await readCertificate(files));
        last = now;
        reloads++;
      }
    } catch (e) {
      onError(e as Error);
    } finally {
      busy = false;
    }
  }, intervalMs);
  timer.unref();
  return {
    stop: () => clearInterval(timer),
    get reloads() {
      return reloads;
    },
  };
}
