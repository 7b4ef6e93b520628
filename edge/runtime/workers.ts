/**
 * The edge on Cloudflare Workers. Configuration comes from the Worker's vars (PC2_EDGE_ZONE,
 * PC2_EDGE_REGISTRAR_KEYS, PC2_EDGE_SUPER_NODES) and the secret PC2_EDGE_KEY; WebSockets are bridged
 * with a WebSocketPair to a target opened by fetch with `Upgrade: websocket`.
 */
import { Edge, type NodeRoute } from '../app.ts';
import { edgeConfigFromEnv } from '../env-config.ts';
import { EdgeError } from '../errors.ts';
import { NODE_ERROR_HEADER, nodeError, RELAY_ERROR_HEADER, tryNextTarget } from '../failover.ts';
import { targetHeaders, targetUrl, unavailable } from '../forward.ts';
import { errorResponse } from '../pages.ts';

/** The parts of the Workers runtime used here (no @cloudflare/workers-types dependency). */
interface WorkersWebSocket {
  accept(): void;
  send(data: string | ArrayBuffer): void;
  close(code?: number, reason?: string): void;
  addEventListener(
    type: 'message',
    listener: (event: { data: string | ArrayBuffer }) => void,
  ): void;
  addEventListener(
    type: 'close',
    listener: (event: { code: number; reason: string }) => void,
  ): void;
  addEventListener(type: 'error', listener: () => void): void;
}
declare const WebSocketPair: { new (): { 0: WorkersWebSocket; 1: WorkersWebSocket } };

function closeCode(code: number): number {
  // 1005/1006/1015 are reported, never sent.
  return code >= 1000 && code < 5000 && code !== 1005 && code !== 1006 && code !== 1015
    ? code
    : 1011;
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

async function bridgeWebSocket(
  request: Request,
  route: NodeRoute,
  forwarded: Headers,
): Promise<Response> {
  const failures: string[] = [];
  for (let i = 0; i < route.targets.length; i++) {
    const target = route.targets[i];
    const headers = new Headers(targetHeaders(target, forwarded));
    headers.set('upgrade', 'websocket');
    let res: Response & { webSocket?: WorkersWebSocket | null };
    try {
      res = await fetch(targetUrl(target, request.url), { method: request.method, headers });
    } catch (e) {
      failures.push(`${target.label}: ${(e as Error).message}`);
      continue;
    }
    const toTarget = res.webSocket;
    if (!toTarget) {
      const appDown = nodeError(res.status, res.headers.get(NODE_ERROR_HEADER), route.name);
      if (appDown) throw appDown;
      const relayError = res.headers.get(RELAY_ERROR_HEADER);
      if (tryNextTarget(res.status, relayError, i === route.targets.length - 1)) {
        failures.push(`${target.label}: HTTP ${res.status}${relayError ? ` ${relayError}` : ''}`);
        continue;
      }
      return res;
    }
    const pair = new WebSocketPair();
    const client = pair[0];
    const server = pair[1];
    server.accept();
    toTarget.accept();
    join(server, toTarget);
    join(toTarget, server);
    const out = new Headers();
    const protocol = res.headers.get('sec-websocket-protocol');
    if (protocol) out.set('sec-websocket-protocol', protocol);
    return new Response(null, { status: 101, headers: out, webSocket: client } as ResponseInit);
  }
  throw unavailable(route, failures);
}

let current: { env: object; edge: Edge } | undefined;

function edgeFor(env: Record<string, unknown>): Edge {
  if (current?.env !== env)
    current = { env, edge: new Edge(edgeConfigFromEnv(env), { webSocket: bridgeWebSocket }) };
  return current.edge;
}

export default {
  fetch(request: Request, env: Record<string, unknown>): Response | Promise<Response> {
    let edge: Edge;
    try {
      edge = edgeFor(env);
    } catch (e) {
      const error =
        e instanceof EdgeError ? e : new EdgeError('INVALID_CONFIG', (e as Error).message);
      return errorResponse(error, new URL(request.url).host, false);
    }
    // Behind Cloudflare, CF-Connecting-IP is the client's address and cannot be forged.
    return edge.app.fetch(request, {
      clientIp: request.headers.get('cf-connecting-ip') ?? undefined,
    });
  },
};
