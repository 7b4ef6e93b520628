/**
 * The ceiling for resolves on this machine at this moment: bare node:http answering a constant JSON
 * body of a resolve's size, no routing, no lookups. Prints `listening <url>`; a `stats` line on stdin
 * prints `stats {"cpuUs":N}` (this process's CPU time so far).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';

const body = JSON.stringify({ name: 'bench-0', binding: 'x'.repeat(560), route: null });
const server = createServer((_req, res) => {
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
});
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line !== 'stats') return;
  const cpu = process.cpuUsage();
  process.stdout.write(`stats ${JSON.stringify({ cpuUs: cpu.user + cpu.system })}\n`);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
