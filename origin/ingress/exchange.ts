/**
 * One relayed HTTP request and its response, carried over one tunnel stream of the node.
 *
 * The ingress writes the request itself (the head it was given, then the body, chunked again if it
 * came chunked) and reads the response without node:http's client: the head is parsed strictly
 * (./response-head.ts), then the body goes to the edge's ServerResponse as views of the decrypted
 * DATA frames, with nothing copied on the way (Content-Length: as it comes; chunked: decoded by
 * ./chunked.ts; neither: until the node closes the stream). When both directions ended cleanly and
 * the node keeps the connection, the stream goes back to the node's pool for the next request.
 *
 * A kept-alive stream the node closed just as a request was written to it (its app's keep-alive timer
 * ran out) fails before any byte of an answer; a request without a body is then sent again on
 * another stream, as a browser retries a request on a reused connection that closed under it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StreamAddress, StreamReader, TunnelStream, ViewMemory } from '../tunnel/stream.ts';
import { TunnelError } from '../tunnel/errors.ts';
import { ChunkedDecoder } from '../../shared/http/chunked.ts';
import { downstreamResponseHeaders } from './headers.ts';
import type { NodeStreams, StreamTaker } from './node-streams.ts';
import {
  type BodyFraming,
  headEnd,
  MAX_HEAD_BYTES,
  parseResponseHead,
} from '../../shared/http/response-head.ts';

/** How the ingress answers when the relay itself fails (before any response byte went out). */
export type RelayFailure = (res: ServerResponse, error: Error) => void;

/** Attempts on kept-alive streams that closed before answering, before giving up with 502. */
const MAX_STALE_RETRIES = 3;

const PHASE = {
  /** Waiting for a stream. */
  Waiting: 0,
  /** Reading the response head (1xx heads included). */
  Head: 1,
  Body: 2,
  Done: 3,
} as const;
type Phase = (typeof PHASE)[keyof typeof PHASE];

export class Exchange implements StreamTaker, StreamReader {
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #pool: NodeStreams;
  readonly #address: StreamAddress;
  readonly #head: string;
  readonly #hasBody: boolean;
  readonly #chunkedRequest: boolean;
  readonly #expectsContinue: boolean;
  readonly #fail: RelayFailure;
  #stream: TunnelStream | null = null;
  #reused = false;
  #phase: Phase = PHASE.Waiting;
  #pending: Uint8Array | null = null;
  #framing: BodyFraming = { kind: 'none' };
  #remaining = 0;
  #chunked: ChunkedDecoder | null = null;
  #keepAlive = false;
  /** Bytes came after the end of the response: the stream is out of step. */
  #overrun = false;
  #answered = false;
  #requestEnded = false;
  #bodyStarted = false;
  #blocked = false;
  #staleRetries = 0;
  /** The pooled memory of the bytes being handled (null: they are ours). */
  #memory: ViewMemory | null = null;

  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    pool: NodeStreams,
    address: StreamAddress,
    requestHead: string,
    fail: RelayFailure,
  ) {
    this.#req = req;
    this.#res = res;
    this.#pool = pool;
    this.#address = address;
    this.#head = requestHead;
    this.#fail = fail;
    this.#chunkedRequest = req.headers['transfer-encoding'] !== undefined;
    this.#expectsContinue = /100-continue/i.test(req.headers.expect ?? '');
    const length = req.headers['content-length'];
    this.#hasBody = this.#chunkedRequest || (length !== undefined && length !== '0');
    res.on('close', this.#onClientClose);
    if (this.#hasBody) {
      req.on('data', this.#onRequestData);
      req.on('end', this.#onRequestEnd);
      req.pause();
    } else this.#requestEnded = true;
  }

  start(): void {
    this.#pool.acquire(this.#address, this);
  }

  // ---- StreamTaker ----

  take(error: Error | null, stream?: TunnelStream, reused = false): void {
    if (error || !stream) return this.#relayFailed(error ?? new Error('no stream'));
    if (this.#phase === PHASE.Done) {
      // The edge went away while the request waited: the stream was not written to.
      this.#pool.release(stream, true);
      return;
    }
    this.#stream = stream;
    this.#reused = reused;
    this.#phase = PHASE.Head;
    stream.setReader(this);
    stream.write(this.#head, 'latin1');
    if (this.#hasBody) {
      this.#bodyStarted = true;
      this.#req.resume();
    }
  }

  // ---- request body ----

  readonly #onRequestData = (chunk: Buffer): void => {
    const stream = this.#stream;
    if (!stream || this.#phase === PHASE.Done) return;
    let ok: boolean;
    if (this.#chunkedRequest) {
      stream.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      stream.write(chunk);
      ok = stream.write('\r\n', 'latin1');
    } else ok = stream.write(chunk);
    if (!ok) {
      this.#req.pause();
      stream.once('drain', this.#resumeRequest);
    }
  };

  readonly #resumeRequest = (): void => {
    this.#req.resume();
  };

  readonly #onRequestEnd = (): void => {
    if (this.#chunkedRequest) this.#stream?.write('0\r\n\r\n', 'latin1');
    this.#requestEnded = true;
  };

  // ---- StreamReader: the response ----

  data(chunk: Uint8Array, memory: ViewMemory | null = null): boolean {
    this.#answered = true;
    this.#memory = memory;
    try {
      if (this.#phase === PHASE.Head) return this.#readHead(chunk);
      if (this.#phase === PHASE.Body) return this.#readBody(chunk);
      if (chunk.length > 0) this.#overrun = true;
      return true;
    } finally {
      this.#memory = null;
    }
  }

  end(): void {
    if (this.#phase === PHASE.Body && this.#framing.kind === 'close') return this.#finish();
    if (this.#phase === PHASE.Done) return;
    this.#streamFailed(new TunnelError('CONNECTION_LOST', 'the node closed the stream mid-answer'));
  }

  error(error: Error): void {
    if (this.#phase === PHASE.Done) return;
    this.#streamFailed(error);
  }

  // ---- response head ----

  #readHead(chunk: Uint8Array): boolean {
    let bytes = chunk;
    let from = 0;
    if (this.#pending) {
      from = this.#pending.length;
      bytes = Buffer.concat([this.#pending, chunk]);
      this.#pending = null;
    }
    for (;;) {
      const end = headEnd(bytes, Math.max(0, from - 3));
      if (end < 0) {
        if (bytes.length > MAX_HEAD_BYTES)
          return this.#badResponse(
            new TunnelError('BAD_RESPONSE', 'response head larger than 64 KiB'),
          );
        // The head continues in the next frame: keep a copy (the frame's bytes are not ours to hold).
        this.#pending = Buffer.from(bytes);
        return true;
      }
      const parsed = parseResponseHead(bytes.subarray(0, end), this.#req.method ?? 'GET');
      if (!parsed.ok) return this.#badResponse(fromNode(parsed.error));
      const head = parsed.value;
      bytes = bytes.subarray(end);
      from = 0;
      if (head.status < 200) {
        if (head.status === 101) {
          return this.#badResponse(
            new TunnelError('BAD_RESPONSE', '101 to a request that asked for no upgrade'),
          );
        }
        // 100 is the node's go-ahead for a body the edge holds back; other interim answers stay here.
        if (head.status === 100 && this.#expectsContinue) this.#res.writeContinue();
        continue;
      }
      this.#framing = head.framing;
      this.#keepAlive = head.keepAlive;
      this.#res.writeHead(head.status, head.reason, downstreamResponseHeaders(head.rawHeaders));
      if (head.framing.kind === 'none') {
        if (bytes.length > 0) this.#overrun = true;
        this.#finish();
        return true;
      }
      // Long-lived responses (SSE, streaming) get their headers out before the first body byte.
      if (head.framing.kind !== 'length') this.#res.flushHeaders();
      else this.#remaining = head.framing.bytes;
      if (head.framing.kind === 'chunked') this.#chunked = new ChunkedDecoder();
      this.#phase = PHASE.Body;
      if (head.framing.kind === 'length' && head.framing.bytes === 0) {
        if (bytes.length > 0) this.#overrun = true;
        this.#finish();
        return true;
      }
      return bytes.length > 0 ? this.#readBody(bytes) : true;
    }
  }

  // ---- response body ----

  #readBody(chunk: Uint8Array): boolean {
    const framing = this.#framing;
    if (framing.kind === 'length') {
      const take = Math.min(this.#remaining, chunk.length);
      this.#remaining -= take;
      if (take < chunk.length) this.#overrun = true;
      this.#write(take === chunk.length ? chunk : chunk.subarray(0, take));
      if (this.#remaining === 0) this.#finish();
    } else if (framing.kind === 'chunked') {
      const decoder = this.#chunked!;
      const used = decoder.push(chunk, this.#writePiece);
      if (!used.ok) return this.#badResponse(fromNode(used.error));
      if (decoder.done) {
        if (used.value < chunk.length) this.#overrun = true;
        this.#finish();
      }
    } else this.#write(chunk);
    // Paused only while the stream is still ours: a finished exchange gave it back, running.
    return !this.#blocked || this.#phase === PHASE.Done;
  }

  readonly #writePiece = (piece: Uint8Array): void => this.#write(piece);

  #write(bytes: Uint8Array): void {
    if (bytes.length === 0 || this.#res.destroyed) return;
    const memory = this.#memory;
    // A view into pooled memory stays retained until the socket has taken its bytes.
    memory?.retain();
    if (!this.#res.write(bytes, memory?.release) && !this.#blocked) {
      this.#blocked = true;
      this.#res.once('drain', this.#onDrain);
    }
  }

  readonly #onDrain = (): void => {
    this.#blocked = false;
    this.#stream?.resumeReading();
  };

  // ---- the end ----

  #finish(): void {
    this.#phase = PHASE.Done;
    this.#res.end();
    // A node that answered before the whole request body reached it cannot take the next request
    // on this stream (the rest of the body is still on its way): the stream goes.
    if (this.#requestEnded) this.#giveBack();
    else this.#drop();
  }

  #giveBack(): void {
    const stream = this.#stream!;
    this.#stream = null;
    stream.removeListener('drain', this.#resumeRequest);
    // The tunnel connection may be paused for our full response buffer: the next request's answer
    // must be read all the same (ours waits in the response's buffer).
    stream.resumeReading();
    this.#pool.release(stream, this.#keepAlive && !this.#overrun);
  }

  /** The response is malformed: 502 if nothing was sent yet, else a cut response; the stream goes. */
  #badResponse(error: TunnelError): boolean {
    this.#phase = PHASE.Done;
    this.#drop();
    if (!this.#res.headersSent) this.#fail(this.#res, error);
    else this.#res.destroy(error);
    return true;
  }

  #streamFailed(error: Error): void {
    const stream = this.#stream;
    // A reused stream that closed before any answer, for a request that can be sent again.
    if (
      stream &&
      this.#reused &&
      !this.#answered &&
      !this.#bodyStarted &&
      this.#staleRetries < MAX_STALE_RETRIES
    ) {
      this.#staleRetries++;
      this.#stream = null;
      this.#pool.release(stream, false);
      this.#phase = PHASE.Waiting;
      this.#pool.acquire(this.#address, this);
      return;
    }
    this.#phase = PHASE.Done;
    this.#drop();
    if (!this.#res.headersSent) this.#relayFailed(error);
    else this.#res.destroy(error);
  }

  #relayFailed(error: Error): void {
    this.#phase = PHASE.Done;
    if (!this.#res.headersSent && !this.#res.destroyed) this.#fail(this.#res, error);
  }

  /** Gives the stream up for good (aborted: whatever is in flight is dropped). */
  #drop(): void {
    const stream = this.#stream;
    if (!stream) return;
    this.#stream = null;
    stream.removeListener('drain', this.#resumeRequest);
    this.#pool.release(stream, false);
  }

  readonly #onClientClose = (): void => {
    if (this.#phase === PHASE.Done && this.#res.writableFinished) return;
    // The edge went away before the response was complete.
    this.#phase = PHASE.Done;
    this.#drop();
  };
}

/** A malformed answer of the node's app, as the ingress reports it. */
const fromNode = (e: Error) =>
  new TunnelError('BAD_RESPONSE', `bad response from the node (${e.message})`);
