/**
 * A chunked body (RFC 9112 7.1) decoded as it streams by: the payload is handed on as views into the
 * bytes received (nothing is copied), extensions and trailers are skipped without being kept, and the
 * decoder knows where the body ends. A malformed body is an error value: the connection is dropped.
 */
import { err, ok, type Result, SharedError } from '../errors.ts';

/** Where the decoder is in the body (numbers: the hot loop switches on them). */
const State = {
  Size: 0,
  Extension: 1,
  SizeLf: 2,
  Data: 3,
  DataCr: 4,
  DataLf: 5,
  TrailerStart: 6,
  Trailer: 7,
  TrailerLf: 8,
  EndLf: 9,
  Done: 10,
} as const;
type State = (typeof State)[keyof typeof State];

const CR = 13;
const LF = 10;

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

export class ChunkedDecoder {
  #state: State = State.Size;
  #size = 0;
  #digits = 0;

  get done(): boolean {
    return this.#state === State.Done;
  }

  /**
   * Decodes `bytes`, passing each piece of payload to `data`; returns how many bytes belonged to the
   * body (bytes after its end are not the body's).
   */
  push(bytes: Uint8Array, data: (piece: Uint8Array) => void): Result<number, SharedError> {
    let i = 0;
    while (i < bytes.length && this.#state !== State.Done) {
      const c = bytes[i];
      switch (this.#state) {
        case State.Size: {
          const v = hexValue(c);
          if (v >= 0) {
            if (++this.#digits > 12) return bad('chunk size too large');
            this.#size = this.#size * 16 + v;
          } else if (this.#digits === 0) return bad('chunk size missing');
          else if (c === CR) this.#state = State.SizeLf;
          else if (c === 59 /* ; */ || c === 32 || c === 9) this.#state = State.Extension;
          else return bad('chunk size line');
          i++;
          break;
        }
        case State.Extension:
          if (c === CR) this.#state = State.SizeLf;
          else if (c === LF) return bad('bare LF in a chunk extension');
          i++;
          break;
        case State.SizeLf:
          if (c !== LF) return bad('chunk size line not ended by CRLF');
          this.#state = this.#size === 0 ? State.TrailerStart : State.Data;
          i++;
          break;
        case State.Data: {
          const take = Math.min(this.#size, bytes.length - i);
          data(bytes.subarray(i, i + take));
          this.#size -= take;
          i += take;
          if (this.#size === 0) this.#state = State.DataCr;
          break;
        }
        case State.DataCr:
          if (c !== CR) return bad('chunk not followed by CRLF');
          this.#state = State.DataLf;
          i++;
          break;
        case State.DataLf:
          if (c !== LF) return bad('chunk not followed by CRLF');
          this.#state = State.Size;
          this.#digits = 0;
          i++;
          break;
        case State.TrailerStart:
          this.#state = c === CR ? State.EndLf : State.Trailer;
          if (c === LF) return bad('bare LF in the trailer');
          i++;
          break;
        case State.Trailer:
          if (c === CR) this.#state = State.TrailerLf;
          else if (c === LF) return bad('bare LF in the trailer');
          i++;
          break;
        case State.TrailerLf:
          if (c !== LF) return bad('trailer line not ended by CRLF');
          this.#state = State.TrailerStart;
          i++;
          break;
        case State.EndLf:
          if (c !== LF) return bad('chunked body not ended by CRLF');
          this.#state = State.Done;
          i++;
          break;
      }
    }
    return ok(i);
  }
}

const bad = (message: string): Result<never, SharedError> =>
  err(new SharedError('BAD_HTTP', `bad chunked body: ${message}`));
