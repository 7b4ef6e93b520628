/**
 * A tunnel stream into the node's entry, inside the agent's process. Requests are read from the
 * stream's bytes and sent to the app on kept-alive sockets (app-sockets.ts); the app's answers go back
 * as they arrive, bodies untouched: no HTTP server or client in between, and no copy (each read of
 * the app's socket is sealed into DATA frames before the next read reuses its buffer). The entry's
 * rules are the same as on its node:http side (entry.ts): hop-by-hop fields dropped both ways, the
 * visitor's Host for the app, the node's own error header never taken from the app, a 502 "app not
 * answering" page, one request-log record per request.
 *
 * Only requests whose framing leaves no doubt take this way (shared/http/request-head.ts). Anything
 * else (HTTP/1.0, Expect, Upgrade, CONNECT, a head that does not parse) goes, with the rest of the
 * stream, to the entry's node:http server, which answers it as it always has.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { ChunkedDecoder } from '../shared/http/chunked.ts';
import { parseRequestHead, type RequestHead } from '../shared/http/request-head.ts';
import {
  type BodyFraming,
  headEnd,
  MAX_HEAD_BYTES,
  parseResponseHead,
} from '../shared/http/response-head.ts';
import { isHopByHop, rawConnectionTokens } from '../shared/hop-by-hop.ts';
import { NODE_ERROR_HEADER } from '../shared/records/api.ts';
import { appDownMessage, describeAppError } from './app-health.ts';
import type { AppReader, AppSocket, AppSockets } from './app-sockets.ts';
import type { RequestLog, RequestRecord } from './request-log.ts';

export interface EntryStreamHost {
  via: string;
  /** The app's Host is the visitor's (X-Forwarded-Host) rather than the one that arrived. */
  visitorHost: boolean;
  log: RequestLog;
  sockets: AppSockets;
  /** The app's origin, for the owner's messages. */
  appOrigin: string;
  /** A connection into the entry's node:http server (for what this stream does not take). */
  serve(): Duplex;
  /** The 502 page's HTML for `detail`. */
  appDownPage(detail: string): string;
}

type Phase = 'head' | 'body' | 'answer' | 'server' | 'done';

const latin1 = (text: string) => Buffer.from(text, 'latin1');
const noop = () => {};

/** The first value of a field, by lower-case name. */
function field(raw: readonly string[], name: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === name) return raw[i + 1];
  return undefined;
}

/** What only the node:http server handles: interim answers asked for, protocol switches, tunnels. */
function needsServer(head: RequestHead): boolean {
  const raw = head.fields.rawHeaders;
  return (
    head.method === 'CONNECT' ||
    field(raw, 'expect') !== undefined ||
    field(raw, 'upgrade') !== undefined ||
    head.fields.connection.includes('upgrade')
  );
}

export class EntryStream extends EventEmitter implements AppReader {
  readonly #host: EntryStreamHost;
  readonly #onData: (bytes: Uint8Array) => boolean;
  #phase: Phase = 'head';
  /** Stream bytes not yet taken: a head being gathered, or the next request. */
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #needDrain = false;
  #inputEnded = false;
  #paused = false;
  #destroyed = false;
  #server: Duplex | null = null;
  // The request in flight.
  #req: RequestHead | null = null;
  #appHead = '';
  #record: Omit<RequestRecord, 'status' | 'durationMs' | 'bytesIn' | 'bytesOut'> | null = null;
  #bodyLeft = 0;
  #bodyChunks: ChunkedDecoder | null = null;
  #reqDone = false;
  #app: AppSocket | null = null;
  // Its answer.
  #resHead: Uint8Array | null = null;
  #status = 0;
  #framing: BodyFraming = { kind: 'none' };
  #resLeft = 0;
  #resChunks: ChunkedDecoder | null = null;
  #resKeep = false;
  #sentAny = false;
  #bytesIn = 0;
  #bytesOut = 0;

  constructor(host: EntryStreamHost, onData: (bytes: Uint8Array) => boolean) {
    super();
    this.#host = host;
    this.#onData = onData;
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** Bytes from the visitor's side (a DATA frame's payload, valid during the call). */
  write(data: Uint8Array): boolean {
    if (this.#phase === 'server') return this.#server!.write(data);
    if (this.#phase === 'done' || data.length === 0) return true;
    if (this.#phase === 'body') return this.#requestBody(data);
    this.#keep(data);
    if (this.#phase === 'head') this.#nextRequest();
    if (this.#pendingBytes <= MAX_HEAD_BYTES) return true;
    this.#needDrain = true;
    return false;
  }

  /** The visitor's side is done sending (DISCONNECT); `callback` once this side is done with it. */
  end(callback?: () => void): void {
    this.#inputEnded = true;
    if (this.#phase === 'server') this.#server!.end();
    else if (this.#phase === 'head') this.#finish();
    // A body cut short cannot become a request.
    else if (this.#phase === 'body') this.destroy();
    if (callback) process.nextTick(callback);
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    if (this.#record) this.#log('the visitor went away');
    this.#phase = 'done';
    this.#app?.socket.destroy();
    this.#app = null;
    this.#server?.destroy();
    process.nextTick(() => this.emit('close'));
  }

  pause(): void {
    this.#paused = true;
    this.#app?.socket.pause();
    this.#server?.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#app?.socket.resume();
    this.#server?.resume();
  }

  // The visitor's side.

  #keep(data: Uint8Array): void {
    this.#pending.push(data.slice());
    this.#pendingBytes += data.length;
  }

  #takePending(): Uint8Array {
    const bytes =
      this.#pending.length === 1 ? this.#pending[0] : Buffer.concat(this.#pending as Buffer[]);
    this.#pending = [];
    this.#pendingBytes = 0;
    if (this.#needDrain) {
      this.#needDrain = false;
      process.nextTick(() => this.emit('drain'));
    }
    return bytes;
  }

  /** A whole head in the pending bytes starts the next request. */
  #nextRequest(): void {
    if (this.#pendingBytes === 0) {
      if (this.#inputEnded) this.#finish();
      return;
    }
    if (this.#pending.length > 1) this.#pending = [Buffer.concat(this.#pending)];
    const bytes = this.#pending[0];
    const end = headEnd(bytes);
    if (end < 0) {
      if (bytes.length > MAX_HEAD_BYTES) this.#toServer();
      return;
    }
    const parsed = parseRequestHead(bytes.subarray(0, end));
    if (!parsed.ok || needsServer(parsed.value)) return this.#toServer();
    this.#takePending();
    this.#start(parsed.value);
    const rest = bytes.subarray(end);
    if (this.#phase === 'body' && rest.length) this.#requestBody(rest);
    else if (rest.length) this.#keep(rest);
  }

  #start(req: RequestHead): void {
    const raw = req.fields.rawHeaders;
    this.#req = req;
    this.#record = {
      id: this.#host.log.nextId(),
      time: Date.now(),
      method: req.method,
      path: req.target,
      host: field(raw, 'x-forwarded-host') ?? field(raw, 'host') ?? '',
      via: this.#host.via,
      client: field(raw, 'x-forwarded-for')?.split(',')[0]?.trim() || undefined,
      userAgent: field(raw, 'user-agent'),
    };
    const visitor = this.#host.visitorHost ? field(raw, 'x-forwarded-host') : undefined;
    const listed = rawConnectionTokens(raw);
    let head = `${req.method} ${req.target} HTTP/1.1\r\n`;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i].toLowerCase();
      if ((name === 'host' && visitor) || isHopByHop(name, listed)) continue;
      head += `${raw[i]}: ${raw[i + 1]}\r\n`;
    }
    if (visitor) head += `Host: ${visitor}\r\n`;
    if (req.body.kind === 'chunked') head += 'Transfer-Encoding: chunked\r\n';
    this.#appHead = `${head}\r\n`;
    this.#bodyChunks = req.body.kind === 'chunked' ? new ChunkedDecoder() : null;
    this.#bodyLeft = req.body.kind === 'length' ? req.body.bytes : 0;
    this.#reqDone = req.body.kind === 'length' && req.body.bytes === 0;
    this.#phase = this.#reqDone ? 'answer' : 'body';
    this.#resHead = null;
    this.#status = 0;
    this.#sentAny = false;
    this.#bytesIn = this.#bytesOut = 0;
    this.#openApp();
  }

  #openApp(): void {
    this.#app = this.#host.sockets.take(this);
    if (this.#paused) this.#app.socket.pause();
    this.#app.socket.write(this.#appHead, 'latin1');
  }

  /** Request body bytes, passed on up to the body's end; what follows is the next request's. */
  #requestBody(data: Uint8Array): boolean {
    let take = data.length;
    if (this.#bodyChunks) {
      const used = this.#bodyChunks.push(data, noop);
      if (!used.ok) {
        this.destroy();
        return true;
      }
      take = used.value;
      this.#reqDone = this.#bodyChunks.done;
    } else {
      take = Math.min(take, this.#bodyLeft);
      this.#bodyLeft -= take;
      this.#reqDone = this.#bodyLeft === 0;
    }
    this.#bytesIn += take;
    const app = this.#app;
    const flowing = app ? app.socket.write(data.subarray(0, take)) : true;
    if (this.#reqDone) {
      this.#phase = 'answer';
      if (take < data.length) this.#keep(data.subarray(take));
    }
    if (flowing || !app) return true;
    app.socket.once('drain', () => this.emit('drain'));
    return false;
  }

  // The app's side.

  fromApp(bytes: Uint8Array): boolean {
    if (this.#phase === 'done') return false;
    if (this.#status === 0) return this.#answerHead(bytes);
    return this.#answerBody(bytes);
  }

  #answerHead(bytes: Uint8Array): boolean {
    let all = bytes;
    if (this.#resHead) all = Buffer.concat([this.#resHead, bytes]);
    const end = headEnd(all);
    if (end < 0) {
      if (all.length > MAX_HEAD_BYTES) return this.#appFailed(new Error('answer head too large'));
      this.#resHead = all === bytes ? bytes.slice() : all;
      return true;
    }
    this.#resHead = null;
    const parsed = parseResponseHead(all.subarray(0, end), this.#req!.method);
    if (!parsed.ok) return this.#appFailed(parsed.error);
    const head = parsed.value;
    // Interim answers stay here: nothing this way asked for one (Expect goes to the server).
    if (head.status < 200) {
      if (head.status === 101) return this.#appFailed(new Error('101 to a request for no upgrade'));
      return end < all.length ? this.#answerHead(all.subarray(end)) : true;
    }
    this.#status = head.status;
    this.#framing = head.framing;
    this.#resKeep = head.keepAlive;
    this.#resLeft = head.framing.kind === 'length' ? head.framing.bytes : 0;
    this.#resChunks = head.framing.kind === 'chunked' ? new ChunkedDecoder() : null;
    const listed = rawConnectionTokens(head.rawHeaders);
    const raw = head.rawHeaders;
    let text = `HTTP/1.1 ${head.status} ${head.reason}\r\n`;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i].toLowerCase();
      if (isHopByHop(name, listed) || name === NODE_ERROR_HEADER) continue;
      text += `${raw[i]}: ${raw[i + 1]}\r\n`;
    }
    if (head.framing.kind === 'chunked') text += 'Transfer-Encoding: chunked\r\n';
    if (head.framing.kind === 'close') text += 'Connection: close\r\n';
    this.#sentAny = true;
    let flowing = this.#onData(latin1(`${text}\r\n`));
    if (head.framing.kind === 'none' || (head.framing.kind === 'length' && this.#resLeft === 0)) {
      this.#answered(end < all.length);
      return flowing;
    }
    if (end < all.length) flowing = this.#answerBody(all.subarray(end)) && flowing;
    return flowing;
  }

  #answerBody(bytes: Uint8Array): boolean {
    let take = bytes.length;
    let done = false;
    if (this.#resChunks) {
      const used = this.#resChunks.push(bytes, noop);
      if (!used.ok) return this.#appFailed(used.error);
      take = used.value;
      done = this.#resChunks.done;
    } else if (this.#framing.kind === 'length') {
      take = Math.min(take, this.#resLeft);
      this.#resLeft -= take;
      done = this.#resLeft === 0;
    }
    this.#bytesOut += take;
    const flowing = this.#onData(bytes.subarray(0, take));
    if (done) this.#answered(take < bytes.length);
    return flowing;
  }

  appGone(error: Error | null): void {
    if (this.#phase === 'done' || !this.#app) return;
    // A close-framed answer ends with the app's close.
    if (!error && this.#status !== 0 && this.#framing.kind === 'close') {
      this.#app = null;
      return this.#answered(true);
    }
    this.#appFailed(error ?? new Error('the app closed the connection'));
  }

  /** The app failed: a 502 page if nothing was sent yet (once more on a fresh socket if that may help). */
  #appFailed(error: Error): false {
    const app = this.#app;
    this.#app = null;
    if (app) {
      app.owner = null;
      app.socket.destroy();
    }
    // A kept-alive socket the app had closed: the request, with no body sent, goes on a new one.
    if (app?.reused && !this.#sentAny && this.#resHead === null && this.#bytesIn === 0) {
      this.#openApp();
      return false;
    }
    const detail = describeAppError(error);
    if (this.#sentAny) {
      this.#log(`the app broke off: ${detail}`);
      this.destroy();
      return false;
    }
    const body = this.#host.appDownPage(detail);
    const bytes = Buffer.byteLength(body);
    this.#onData(
      latin1(
        `HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: ${bytes}\r\ncache-control: no-store\r\n${NODE_ERROR_HEADER}: APP_NOT_ANSWERING\r\n\r\n`,
      ),
    );
    this.#onData(Buffer.from(body));
    this.#status = 502;
    this.#bytesOut = bytes;
    this.#log(appDownMessage(this.#host.appOrigin, detail));
    // The rest of a request body cannot be told from the next request: the stream ends here.
    if (this.#reqDone) this.#next();
    else this.#finish();
    return false;
  }

  /** The answer is complete: the socket back to the idle ones if it can carry another request. */
  #answered(overrun: boolean): void {
    this.#log(undefined);
    const app = this.#app;
    this.#app = null;
    if (app) {
      if (this.#reqDone && this.#resKeep && !overrun) this.#host.sockets.give(app);
      else {
        app.owner = null;
        app.socket.destroy();
      }
    }
    if (!this.#reqDone || !this.#req!.keepAlive || this.#framing.kind === 'close') this.#finish();
    else this.#next();
  }

  #next(): void {
    this.#req = null;
    this.#phase = 'head';
    queueMicrotask(() => {
      if (this.#phase === 'head') this.#nextRequest();
    });
  }

  #log(error: string | undefined): void {
    const record = this.#record;
    if (!record) return;
    this.#record = null;
    this.#host.log.add({
      ...record,
      status: this.#status,
      durationMs: Date.now() - record.time,
      bytesIn: this.#bytesIn,
      bytesOut: this.#bytesOut,
      ...(error ? { error } : {}),
    });
  }

  /** This side is done: the stream ends (DISCONNECT) once the tunnel has sent what it has. */
  #finish(): void {
    if (this.#phase === 'done') return;
    this.#phase = 'done';
    process.nextTick(() => this.emit('end'));
  }

  /** What this stream does not take goes, from here on, to the node:http server. */
  #toServer(): void {
    const server = this.#host.serve();
    this.#server = server;
    this.#phase = 'server';
    server.on('data', (chunk: Uint8Array) => {
      if (!this.#onData(chunk)) server.pause();
    });
    server.on('drain', () => this.emit('drain'));
    server.on('end', () => {
      this.#phase = 'done';
      this.emit('end');
    });
    server.on('close', () => this.destroy());
    server.on('error', noop);
    if (this.#paused) server.pause();
    server.write(this.#takePending());
    if (this.#inputEnded) server.end();
  }
}
