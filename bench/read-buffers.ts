/**
 * What node:net's read buffers cost a receiving process: 1 GiB over loopback read with `'data'`
 * events (a fresh 64 KiB buffer per read) and with `onread` into one reused buffer, the receiver in a
 * process of its own; prints its CPU seconds per thread (user/system), V8's helper threads apart.
 * `node --import tsx bench/read-buffers.ts [data|onread]` (both by default); RECEIVER_FLAGS passes
 * Node.js flags to the receiver (e.g. --trace-gc).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';

const TOTAL = 1 << 30;
const [, , role, mode, port] = process.argv;

/** CPU ms per thread name of this process: [user, system]. */
function threads(): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const t of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/\d+$/, '#');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = (out[name] ??= [0, 0]);
    v[0] += Number(f[11]) * 10;
    v[1] += Number(f[12]) * 10;
  }
  return out;
}

function receive(how: string, to: number): void {
  const before = threads();
  const start = performance.now();
  let got = 0;
  const count = (n: number) => {
    got += n;
    if (got < TOTAL) return;
    const after = threads();
    const cpu = Object.entries(after).map(([name, [u, s]]) => {
      const [u0, s0] = before[name] ?? [0, 0];
      return `${name} ${((u - u0) / 1000).toFixed(2)}/${((s - s0) / 1000).toFixed(2)}`;
    });
    const mibs = 1024 / ((performance.now() - start) / 1000);
    console.log(`${how}: ${mibs.toFixed(0)} MiB/s; CPU s user/system: ${cpu.join(', ')}`);
    process.exit(0);
  };
  const buffer = Buffer.allocUnsafe(64 * 1024);
  const socket = net.connect({
    port: to,
    host: '127.0.0.1',
    ...(how === 'onread' ? { onread: { buffer, callback: (n: number) => (count(n), true) } } : {}),
  });
  if (how === 'data') socket.on('data', (chunk: Buffer) => count(chunk.length));
}

async function send(how: string): Promise<void> {
  const block = Buffer.alloc(1 << 20, 7);
  const server = net.createServer((socket) => {
    let sent = 0;
    const pump = () => {
      while (sent < TOTAL) {
        sent += block.length;
        if (!socket.write(block)) return void socket.once('drain', pump);
      }
      socket.end();
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const to = (server.address() as AddressInfo).port;
  const flags = process.env.RECEIVER_FLAGS?.split(' ').filter(Boolean) ?? [];
  const args = [...flags, ...process.execArgv, process.argv[1], 'receive', how, String(to)];
  const child = spawn(process.execPath, args, { stdio: 'inherit' });
  await new Promise((resolve) => child.on('exit', resolve));
  server.close();
}

if (role === 'receive') receive(mode, Number(port));
else for (const how of role ? [role] : ['data', 'onread']) await send(how);
