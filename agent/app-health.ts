/**
 * Is the node's app answering? A connect plus one cheap request (HEAD /): any HTTP answer, whatever
 * its status, means the app is up; a refused or reset connection, a host that is not found, or no
 * answer in time means it is down, described the way the owner reads it ("connection refused").
 */
import { request } from 'node:http';

export type AppHealth =
  | { up: true; status: number; checkedAt: number }
  | { up: false; detail: string; checkedAt: number };

const WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  ETIMEDOUT: 'connection timed out',
};

/** A socket error in the owner's words: "connection refused" rather than "connect ECONNREFUSED ...". */
export function describeAppError(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return (e.code && WORDS[e.code]) ?? e.message ?? String(error);
}

/** The line the owner sees when the app is down. */
export function appDownMessage(upstream: string, detail: string): string {
  return `app not answering at ${upstream} (${detail})`;
}

export function checkApp(
  upstream: URL,
  timeoutMs: number,
  now: () => number = Date.now,
): Promise<AppHealth> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (health: AppHealth) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(health);
    };
    const req = request({
      host: upstream.hostname.replace(/^\[|\]$/g, ''),
      port: Number(upstream.port || 80),
      method: 'HEAD',
      path: '/',
      agent: false,
      headers: { 'user-agent': 'pc2-agent (app check)' },
    });
    const timer = setTimeout(
      () => done({ up: false, detail: `no answer within ${timeoutMs / 1000} s`, checkedAt: now() }),
      timeoutMs,
    );
    req.on('response', (res) => {
      res.resume();
      done({ up: true, status: res.statusCode ?? 0, checkedAt: now() });
    });
    req.on('error', (e) => done({ up: false, detail: describeAppError(e), checkedAt: now() }));
    req.end();
  });
}
