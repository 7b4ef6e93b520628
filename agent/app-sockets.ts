/**
 * Kept-alive sockets from the node's entry to its app, for the entry's streams (entry-stream.ts).
 * Every socket reads into one buffer of the process (node:net `onread`): its owner hands each read on
 * (sealed into DATA frames) before returning, so nothing is allocated per read; a socket whose owner
 * cannot take more returns false, which pauses it.
 */
import { connect, type Socket } from 'node:net';

/** Who reads a socket while a request is on it. */
export interface AppReader {
  /** Bytes from the app (valid only during the call); false pauses the socket. */
  fromApp(bytes: Uint8Array): boolean;
  /** The app closed or broke the connection. */
  appGone(error: Error | null): void;
}

export interface AppSocket {
  readonly socket: Socket;
  owner: AppReader | null;
  /** Taken from the idle ones (it carried a request before). */
  reused: boolean;
}

const READ_BYTES = 256 * 1024;
let readBuffer: Buffer | null = null;

export class AppSockets {
  readonly #target: { host: string; port: number };
  readonly #idle = new Set<AppSocket>();
  readonly #maxIdle: number;

  constructor(target: { host: string; port: number }, maxIdle = 64) {
    this.#target = target;
    this.#maxIdle = maxIdle;
  }

  /** An idle socket, else a new one (connecting: writes wait for the connection). */
  take(owner: AppReader): AppSocket {
    for (const app of this.#idle) {
      this.#idle.delete(app);
      if (app.socket.destroyed || !app.socket.writable) continue;
      app.owner = owner;
      app.reused = true;
      app.socket.resume();
      return app;
    }
    const buffer = (readBuffer ??= Buffer.allocUnsafe(READ_BYTES));
    const app: AppSocket = { socket: null as unknown as Socket, owner, reused: false };
    const socket = connect({
      ...this.#target,
      noDelay: true,
      onread: {
        buffer,
        callback: (bytes: number, buf: Uint8Array) => {
          if (app.owner) return app.owner.fromApp(buf.subarray(0, bytes));
          // An idle socket has nothing to say: whatever it sends is not an answer to anything.
          socket.destroy();
          return false;
        },
      },
    });
    (app as { socket: Socket }).socket = socket;
    socket.on('error', (e) => this.#gone(app, e));
    socket.on('end', () => this.#gone(app, null));
    socket.on('close', () => this.#gone(app, null));
    return app;
  }

  /** Back to the idle ones (its request and answer complete), or closed when there are enough. */
  give(app: AppSocket): void {
    app.owner = null;
    if (this.#idle.size >= this.#maxIdle || app.socket.destroyed) app.socket.destroy();
    else this.#idle.add(app);
  }

  close(): void {
    for (const app of this.#idle) app.socket.destroy();
    this.#idle.clear();
  }

  #gone(app: AppSocket, error: Error | null): void {
    this.#idle.delete(app);
    const owner = app.owner;
    app.owner = null;
    app.socket.destroy();
    owner?.appGone(error);
  }
}
