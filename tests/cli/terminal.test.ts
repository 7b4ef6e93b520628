/**
 * pc2 on a real terminal (a pseudo-terminal from util-linux `script`), stopped the way a person
 * stops it: Ctrl-C typed into the terminal, which the terminal turns into SIGINT for the whole
 * foreground process group. The status screen redraws in place, its last frame says STOPPED, and
 * the exit code is 130 whether pc2 runs as cli/pc2.js, through `npx pc2` or through `npm start`.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyPair } from '../../shared/keys.ts';
import { PC2, REPO } from '../helpers/cli.ts';
import { startSuperNodes } from '../helpers/devnet-parts.ts';
import { keyFile, reservePort, tempDir } from '../helpers/processes.ts';
import { startUpstream } from '../helpers/upstream.ts';

/** Runs `command` on a pseudo-terminal; types Ctrl-C once `ready` shows; resolves with the screen bytes and the exit code. */
function onTerminal(
  command: string,
  ready: RegExp,
  timeoutMs = 60_000,
): Promise<{ out: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd: REPO,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, COLUMNS: '100', LINES: '40' },
    });
    let out = '';
    let typed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ${ready} in time:\n${out}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      out += d;
      if (!typed && ready.test(out)) {
        typed = true;
        // A moment for another frame or two, then Ctrl-C.
        setTimeout(() => child.stdin.write('\x03'), 1500);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ out, code });
    });
  });
}

/** What a terminal shows after `out`: cursor up (ESC[nA), carriage return, clear to end (ESC[J), newlines. */
function screen(out: string): string[] {
  const lines: string[] = [''];
  let row = 0;
  const text = out.replace(/\r\n/g, '\n');
  for (let i = 0; i < text.length; i++) {
    const esc = /^\x1b\[(\d*)([AJ])/.exec(text.slice(i, i + 8));
    if (esc) {
      if (esc[2] === 'A') row = Math.max(0, row - Number(esc[1] || 1));
      else lines.splice(row + 1), (lines[row] = '');
      i += esc[0].length - 1;
      continue;
    }
    const c = text[i];
    if (c === '\r') lines[row] = '';
    else if (c === '\n') {
      row++;
      if (lines.length <= row) lines.push('');
    } else lines[row] += c;
  }
  return lines;
}

let cluster: Awaited<ReturnType<typeof startSuperNodes>>;
let app: Awaited<ReturnType<typeof startUpstream>>;
beforeAll(async () => {
  cluster = await startSuperNodes(1, [KeyPair.generate()]);
  app = await startUpstream('gus');
}, 60_000);
afterAll(async () => {
  await app?.close();
  await cluster?.close();
});

describe('pc2 on a terminal, stopped with Ctrl-C', () => {
  it('pc2 node redraws its status in place, ends on a STOPPED frame, exits 130', {
    timeout: 90_000,
  }, async () => {
    const key = await keyFile(tempDir('pc2-tty-'), 'gus');
    const port = await reservePort();
    const { out, code } = await onTerminal(
      `"${PC2}" node --name gus --supernode ${cluster.nodes[0].url} --key ${key.path} --upstream ${app.url} --mode direct --public-url http://127.0.0.1:${port} --listen 127.0.0.1:${port} --inspector off --app-check-seconds 0.2`,
      /gus {2}ONLINE/,
    );
    expect(code).toBe(130);
    expect(out).toMatch(/\x1b\[\d+A\r\x1b\[J/);
    const shown = screen(out);
    // One frame on screen, not a stack of them: the heading once, and it says STOPPED.
    const headings = shown.filter((l) => /^gus {2}/.test(l));
    expect(headings).toEqual(['gus  STOPPED  http://gus.localhost:8080']);
    expect(shown.join('\n')).toMatch(
      /mode direct {3}published \d\d:\d\d:\d\dZ {3}lease until \d\d:\d\d:\d\dZ/,
    );
    expect(shown.join('\n')).toContain(`app answering at ${app.url}`);
    expect(shown.join('\n')).toContain(`${cluster.nodes[0].url}  registry up, tunnel not used`);
    // No line wider than the terminal (a wrapped line is how frames used to stack).
    expect(Math.max(...shown.map((l) => l.length))).toBeLessThan(100);
  });

  it('npx pc2 and npm start exit 130 after Ctrl-C too', { timeout: 120_000 }, async () => {
    const [a, b] = [await reservePort(), await reservePort()];
    const viaNpx = await onTerminal(
      `npx --no-install pc2 devnet --port ${a}`,
      /Ctrl-C stops everything/,
    );
    expect(viaNpx.code).toBe(130);
    expect(viaNpx.out).toContain('SIGINT: stopping');
    const viaNpm = await onTerminal(`npm start -- --port ${b}`, /Ctrl-C stops everything/);
    expect(viaNpm.code).toBe(130);
    expect(viaNpm.out).toContain('SIGINT: stopping');
  });
});
