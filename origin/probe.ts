/**
 * Reachability probe: the node agent asks a super node to connect back to the endpoint it wants to
 * advertise. Only a node whose endpoint answers from the outside gets direct mode; the rest are
 * relayed. The probe is a fetch the super node makes on someone else's behalf, so it is fenced: only
 * http(s), only targets the SSRF guard allows, no redirects, a short timeout, the body never read.
 */
import { Hono } from 'hono';
import { probePath, type ProbeResponse } from '../shared/records/api.ts';

export const PROBE_PATH = probePath;

export interface ProbeOptions {
  /** The SSRF guard: may this URL be fetched at all? */
  isAllowedTarget: (url: URL) => boolean | Promise<boolean>;
  /** Give up on the endpoint after this long. Default 3000. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export async function probeEndpoint(
  endpoint: string,
  options: ProbeOptions,
): Promise<ProbeResponse> {
  const doFetch = options.fetch ?? fetch;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 3000);
  try {
    const response = await doFetch(endpoint, {
      method: 'GET',
      redirect: 'manual',
      signal: controller.signal,
      headers: { 'user-agent': 'pc2-probe' },
    });
    await response.body?.cancel();
    return { reachable: true, status: response.status };
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    return {
      reachable: false,
      error: controller.signal.aborted ? 'timeout' : (cause ?? (e as Error).message),
    };
  } finally {
    clearTimeout(timer);
  }
}

export function createProbeApp(options: ProbeOptions): Hono {
  const app = new Hono();
  app.post(PROBE_PATH, async (c) => {
    const body = (await c.req.json().catch(() => null)) as { endpoint?: unknown } | null;
    const endpoint = body?.endpoint;
    let url: URL;
    try {
      if (typeof endpoint !== 'string') throw new Error();
      url = new URL(endpoint);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error();
    } catch {
      return c.json(
        { error: { code: 'INVALID_ENDPOINT', message: 'endpoint must be an http(s) URL' } },
        400,
      );
    }
    if (!(await options.isAllowedTarget(url))) {
      return c.json(
        { error: { code: 'ENDPOINT_NOT_PUBLIC', message: 'endpoint is not a public address' } },
        422,
      );
    }
    return c.json(await probeEndpoint(url.toString(), options));
  });
  return app;
}
