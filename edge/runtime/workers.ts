/**
 * The edge on Cloudflare Workers. Configuration comes from the Worker's vars (PC2_EDGE_ZONE,
 * PC2_EDGE_REGISTRAR_KEYS, PC2_EDGE_SUPER_NODES) and the secret PC2_EDGE_KEY; WebSockets are bridged
 * with a WebSocketPair to an upstream opened by fetch with `Upgrade: websocket`.
 */
import { Edge } from '../app.ts';
import { edgeConfigFromEnv } from '../env-config.ts';
import { EdgeError } from '../errors.ts';
import { RELAY_ERROR_HEADER, tryNextUpstream } from '../failover.ts';
import { errorResponse } from '../pages.ts';
import type { UpstreamCandidate } from '../forward.ts';

/** The parts of the Workers runtime used here (no @cloudflare/workers-types dependency). */
interface WorkersWebSocket {
  accept(): void;
  send(data: string | ArrayBuffer): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'message', listener: (event: { data: string | ArrayBuffer }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', listener: () => void): void;
}
declare const WebSocketPair: { new (): { 0: WorkersWebSocket; 1: WorkersWebSocket } };

function closeCode(code: number): number {
  // 1005/1006/1015 are reported, never sent.
  return code >= 1000 && code < 5000 && code !== 1005 && code !== 1006 && code !== 1015 ? code : 1011;
}

function join(a: WorkersWebSocket, b: WorkersWebSocket): void {
  a.addEventListener('message', (e) => {
    try {
      b.send(e.data);
    } catch {
      a.close(1011, 'peer gone');
    }
  });
  a.addEventListener('close', (e) => {
    try {
      b.close(closeCode(e.code), e.reason);
    } catch {
      // already closed
    }
  });
  a.addEventListener('error', () => {
    try {
      b.close(1011, 'peer error');
    } catch {
      // already closed
    }
  });
}

async function bridgeWebSocket(request: Request, candidates: UpstreamCandidate[]): Promise<Response> {
  const failures: string[] = [];
  for (let i = 0; i < candidates.length; i++) {
    const headers = new Headers(candidates[i].headers);
    headers.set('upgrade', 'websocket');
    let res: Response & { webSocket?: WorkersWebSocket | null };
    try {
      res = await fetch(candidates[i].url, { method: request.method, headers });
    } catch (e) {
      failures.push(`${candidates[i].label}: ${(e as Error).message}`);
      continue;
    }
    const upstream = res.webSocket;
    if (!upstream) {
      if (tryNextUpstream(res.status, res.headers.get(RELAY_ERROR_HEADER), i === candidates.length - 1)) continue;
      return res;
    }
    const pair = new WebSocketPair();
    const client = pair[0];
    const server = pair[1];
    server.accept();
    upstream.accept();
    join(server, upstream);
    join(upstream, server);
    const out = new Headers();
    const protocol = res.headers.get('sec-websocket-protocol');
    if (protocol) out.set('sec-websocket-protocol', protocol);
    return new Response(null, { status: 101, headers: out, webSocket: client } as ResponseInit);
  }
  throw new EdgeError('UPSTREAM_UNAVAILABLE', `no upstream took the WebSocket (${failures.join('; ')})`);
}

let current: { env: object; edge: Edge } | undefined;

function edgeFor(env: Record<string, unknown>): Edge {
  if (current?.env !== env) current = { env, edge: new Edge(edgeConfigFromEnv(env), { webSocket: bridgeWebSocket }) };
  return current.edge;
}

export default {
  fetch(request: Request, env: Record<string, unknown>): Response | Promise<Response> {
    let edge: Edge;
    try {
      edge = edgeFor(env);
    } catch (e) {
      const error = e instanceof EdgeError ? e : new EdgeError('INVALID_CONFIG', (e as Error).message);
      return errorResponse(error, new URL(request.url).host, false);
    }
    // Behind Cloudflare, CF-Connecting-IP is the client's address and cannot be forged.
    return edge.app.fetch(request, { clientIp: request.headers.get('cf-connecting-ip') ?? undefined });
  },
};
