/**
 * The world the edge talks to, on loopback: super nodes that speak the registry + relay-ingress
 * contract of shared/records/api.ts (resolve answers signed with signBinding/signRoute; ingress
 * checks the edge token with verifyEdgeToken), and a directly reachable node.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Id } from '../../shared/id.ts';
import { KeyPair } from '../../shared/keys.ts';
import {
  type ErrorBody,
  INGRESS_HEADERS,
  NODE_ERROR_HEADER,
  registryPaths,
  type ResolveResponse,
} from '../../shared/records/api.ts';
import { verifyEdgeToken } from '../../shared/records/edge-token.ts';
import { serveNode } from './upstream.ts';
import { reservePort } from '../helpers/ports.ts';
import { acceptEchoSocket } from '../helpers/websocket.ts';

export function listen(server: http.Server): Promise<number> {
  track(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

const openSockets = new WeakMap<http.Server, Set<import('node:net').Socket>>();

/** Tracks every socket, upgraded ones included (closeAllConnections does not see those). */
function track(server: http.Server): http.Server {
  const sockets = new Set<import('node:net').Socket>();
  openSockets.set(server, sockets);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return server;
}

export function close(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
    for (const socket of openSockets.get(server) ?? []) socket.destroy();
  });
}

/** A loopback port nothing listens on (it was free a moment ago). */
/**
 * A port nothing listens on. Taken below the ephemeral range: a freed ephemeral port can be handed to
 * a port-0 listener of another test running in parallel, and then it is not dead any more.
 */
export const deadPort = (): Promise<number> => reservePort();

function sendError(res: http.ServerResponse, status: number, code: string, message: string): void {
  const body: ErrorBody = { error: { code, message } };
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export class FakeSuperNode {
  readonly key = KeyPair.generate();
  readonly server: http.Server;
  /** Names this super node's registry answers: name -> response. */
  records: Map<string, ResolveResponse>;
  /** Ids of nodes whose tunnel is "not here": the ingress answers 502 for them. */
  readonly absentNodes = new Set<string>();
  /** Ids of nodes whose app is down: their agent answers 502 APP_NOT_ANSWERING (agent/entry.ts). */
  readonly appDownNodes = new Set<string>();
  readonly edgeKeys: Id[];
  resolveCount = 0;
  ingressCount = 0;
  url = '';

  constructor(label: string, records: Map<string, ResolveResponse>, edgeKeys: Id[]) {
    this.records = records;
    this.edgeKeys = edgeKeys;
    this.server = http.createServer((req, res) => void this.#handle(label, req, res));
    this.server.on('upgrade', (req, socket, head) => void this.#upgrade(label, req, socket, head));
  }

  get id(): Id {
    return this.key.id;
  }

  async start(): Promise<this> {
    this.url = `http://127.0.0.1:${await listen(this.server)}`;
    return this;
  }

  /** Ingress check: a valid token from a configured edge, for this super node and the named node. */
  async #admit(
    req: http.IncomingMessage,
  ): Promise<
    { ok: true; node: string } | { ok: false; status: number; code: string; message: string }
  > {
    const nodeId = req.headers[INGRESS_HEADERS.nodeId];
    const verified = await verifyEdgeToken(
      req.headers[INGRESS_HEADERS.edgeToken],
      this.edgeKeys,
      this.id,
      Date.now(),
    );
    if (!verified.ok)
      return { ok: false, status: 401, code: verified.error.code, message: verified.error.message };
    if (verified.value.node.toString() !== nodeId)
      return {
        ok: false,
        status: 401,
        code: 'INVALID_TOKEN',
        message: 'token is for another node',
      };
    if (this.absentNodes.has(nodeId))
      return {
        ok: false,
        status: 502,
        code: 'NODE_NOT_CONNECTED',
        message: 'no tunnel to that node here',
      };
    return { ok: true, node: nodeId };
  }

  async #handle(label: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.headers[INGRESS_HEADERS.nodeId] === undefined) {
      req.resume();
      if (path === registryPaths.health) {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ ok: true, superNode: label }));
        return;
      }
      const m = /^\/api\/v1\/names\/([^/]+)$/.exec(path);
      if (!m) return sendError(res, 404, 'NOT_FOUND', `no route ${path}`);
      this.resolveCount++;
      const record = this.records.get(decodeURIComponent(m[1]));
      if (!record) return sendError(res, 404, 'UNKNOWN_NAME', 'no such name');
      res
        .writeHead(200, { 'content-type': 'application/json', 'x-super-node': label })
        .end(JSON.stringify(record));
      return;
    }
    this.ingressCount++;
    const admitted = await this.#admit(req);
    if (!admitted.ok) {
      req.resume();
      return sendError(res, admitted.status, admitted.code, admitted.message);
    }
    // The ingress strips its own headers before the request reaches the node.
    delete req.headers[INGRESS_HEADERS.nodeId];
    delete req.headers[INGRESS_HEADERS.edgeToken];
    if (this.appDownNodes.has(admitted.node)) {
      req.resume();
      res
        .writeHead(502, { 'content-type': 'text/html', [NODE_ERROR_HEADER]: 'APP_NOT_ANSWERING' })
        .end('<p>app not answering</p>');
      return;
    }
    serveNode(req, res, `relay:${label}`);
  }

  async #upgrade(
    label: string,
    req: http.IncomingMessage,
    socket: Duplex,
    head: Buffer,
  ): Promise<void> {
    socket.on('error', () => socket.destroy());
    const admitted = await this.#admit(req);
    if (!admitted.ok) {
      socket.end(
        `HTTP/1.1 ${admitted.status} No\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`,
      );
      return;
    }
    acceptEchoSocket(req, socket, head, `relay:${label}:`);
  }

  close(): Promise<void> {
    return close(this.server);
  }
}

/** A node reachable directly (a public IP in production). */
export class DirectNode {
  readonly server = http.createServer((req, res) => serveNode(req, res, 'direct'));
  url = '';
  constructor() {
    this.server.on('upgrade', (req, socket, head) =>
      acceptEchoSocket(req, socket, head, 'direct:'),
    );
  }
  async start(): Promise<this> {
    this.url = `http://127.0.0.1:${await listen(this.server)}`;
    return this;
  }
  close(): Promise<void> {
    return close(this.server);
  }
}
