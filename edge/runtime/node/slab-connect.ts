/**
 * Plain-HTTP connections to super nodes that read into pooled slabs (../../../shared/slab.ts) instead
 * of a fresh 64 KiB buffer per read, for the fast path's relayed responses: each GiB relayed was
 * 16,384 such buffers, and the full garbage collections their memory set off cost the gateway about
 * 0.7 CPU-s per GiB on V8's helper threads (docs/benchmarks.md).
 *
 * undici reads the socket through its readable side, so each read is pushed there as a view of the
 * slab. The views undici hands on as body chunks are held by the fast path until the client's socket
 * took them (`viewMemory`); the slab itself is held while pushed bytes still wait in the socket's
 * readable buffer (undici pauses with a response's rest put back there), and let go at the first read
 * that finds that buffer empty. Only the fast path may use these connections: anything else keeping
 * a body chunk (a web stream, say) would see it change under it once its slab is reused.
 *
 * node:net calls the buffer function without telling which socket it is for; it calls it right after
 * that socket's read callback (or, for a socket's first read, before any), so the socket of the last
 * callback is the one asking, and a first read goes into a shared scratch buffer and is copied.
 */
import net from 'node:net';
import { buildConnector } from 'undici';
import { type Slab, SlabPool, type ViewMemory } from '../../../shared/slab.ts';

const SLAB_BYTES = 256 * 1024;
const MIN_ROOM = 64 * 1024;
const slabs = new SlabPool(SLAB_BYTES, 16, (bytes) => Buffer.allocUnsafeSlow(bytes));
const scratch = Buffer.allocUnsafeSlow(MIN_ROOM);

interface Reads {
  slab: Slab | null;
  end: number;
  /** One entry per read pushed while the readable buffer was not empty yet. */
  held: Slab[];
}

const states = new WeakMap<net.Socket, Reads>();
/** The socket whose read callback ran last: the next buffer is for it. */
let asking: Reads | null = null;

function letGo(reads: Reads): void {
  for (const slab of reads.held.splice(0)) slab.release();
}

function nextBuffer(): Uint8Array {
  const reads = asking;
  asking = null;
  if (!reads) return scratch;
  if (!reads.slab || SLAB_BYTES - reads.end < MIN_ROOM) {
    reads.slab?.retire();
    reads.slab = slabs.take();
    reads.end = 0;
  }
  return reads.slab.bytes.subarray(reads.end);
}

function onRead(this: net.Socket, nread: number, buf: Uint8Array): boolean {
  let reads = states.get(this);
  if (!reads) {
    const created: Reads = { slab: null, end: 0, held: [] };
    states.set(this, (reads = created));
    this.once('close', () => {
      letGo(created);
      created.slab?.retire();
      created.slab = null;
    });
  }
  let more: boolean;
  if (buf === scratch) more = this.push(Buffer.from(scratch.subarray(0, nread)));
  else {
    // Everything pushed before was read: undici is done with those bytes (its body views hold their own).
    if (this.readableLength === 0) letGo(reads);
    const slab = reads.slab!;
    const chunk = Buffer.from(slab.bytes.buffer, slab.bytes.byteOffset + reads.end, nread);
    reads.end += nread;
    slab.retain();
    reads.held.push(slab);
    more = this.push(chunk);
  }
  // Set last: node:net asks for this socket's next buffer right after this returns.
  asking = reads;
  return more;
}

/** The slab a body chunk from such a connection lies in (undefined: the chunk is its own). */
export const viewMemory = (chunk: Uint8Array): ViewMemory | undefined => slabs.of(chunk);

export const slabStats = () => slabs.stats();

/** An undici `connect` function: http: with slab reads, https: as undici connects by default. */
export function slabConnector(timeoutMs: number): buildConnector.connector {
  const plain = buildConnector({
    timeout: timeoutMs,
    onread: { buffer: nextBuffer, callback: onRead },
  } as buildConnector.BuildOptions);
  const secure = buildConnector({ timeout: timeoutMs, allowH2: false });
  return (options, callback) =>
    options.protocol === 'https:' ? secure(options, callback) : plain(options, callback);
}
