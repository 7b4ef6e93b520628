/**
 * The owner's commands as processes against real super nodes (in this process, replicating to each
 * other): `pc2 name list|transfer|accept|release`, `pc2 status`, and the exit codes they and
 * `pc2 node` document (2 usage, 3 the name is not this key's, 4 no super node reachable).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../agent/registry-client.ts';
import { KeyPair } from '../../shared/keys.ts';
import { runCli } from '../helpers/cli.ts';
import { type RunningSuperNode, startSuperNodes } from '../helpers/devnet-parts.ts';
import { keyFile, type KeyFile, tempDir } from '../helpers/processes.ts';

let cluster: Awaited<ReturnType<typeof startSuperNodes>>;
let sn: RunningSuperNode[];
let alice: KeyFile;
let bob: KeyFile;
const sns = () => sn.flatMap((s) => ['--supernode', s.url]);
/** A command as the owner of `key` runs it against both super nodes. */
const as = (key: KeyFile, ...args: string[]) => runCli([...args, '--key', key.path, ...sns()]);

beforeAll(async () => {
  cluster = await startSuperNodes(2, [KeyPair.generate()]);
  sn = cluster.nodes;
  const dir = tempDir('pc2-owner-');
  alice = await keyFile(dir, 'alice');
  bob = await keyFile(dir, 'bob');
  const client = new RegistryClient({ url: sn[0].url, key: alice.key });
  await client.claim('alice-home');
  await client.claim('alice-blog');
  await client.publishRoute({
    name: 'alice-home',
    mode: 'direct',
    endpoint: 'http://127.0.0.1:9',
    ttlMs: 60_000,
  });
}, 60_000);

afterAll(() => cluster?.close());

describe('pc2 name and pc2 status', () => {
  it('lists the names of a key; status says binding, registrar, route, lease (text and --json)', {
    timeout: 60_000,
  }, async () => {
    const list = await as(alice, 'name', 'list');
    expect(list).toMatchObject({ code: 0, stdout: 'alice-blog\nalice-home\n' });
    const json = await runCli(['status', 'alice-home', '--json', ...sns()]);
    expect(json.code).toBe(0);
    const s = JSON.parse(json.stdout);
    expect(s).toMatchObject({
      name: 'alice-home',
      state: 'online',
      binding: {
        owner: alice.key.id.toString(),
        registrar: sn[0].key.id.toString(),
        registrarUrl: sn[0].url,
      },
      route: { mode: 'direct', endpoint: 'http://127.0.0.1:9', relays: [] },
    });
    expect(s.route.expiresAt - s.route.issuedAt).toBe(60_000);
    expect(s.superNodes.map((x: { answered: boolean }) => x.answered)).toEqual([true, true]);
    const text = await as(alice, 'status');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/alice-blog {2}offline\n[\s\S]*route {5}none published/);
    expect(text.stdout).toMatch(/alice-home {2}online\n {2}binding {3}owner \S+ \(this key\)/);
    expect(text.stdout).toContain('direct to http://127.0.0.1:9');
    const unknown = await runCli(['status', 'nobody-home', '--json', ...sns()]);
    expect(JSON.parse(unknown.stdout)).toMatchObject({ state: 'unknown', binding: null });
  });

  it("refuses another key (exit 3), transfers with the new key's acceptance, releases with --yes", {
    timeout: 60_000,
  }, async () => {
    const stolen = await as(bob, 'name', 'release', 'alice-blog', '--yes');
    expect(stolen.code).toBe(3);
    expect(stolen.stderr).toMatch(/pc2: "alice-blog" belongs to another/);
    const grab = await as(
      bob,
      'name',
      'transfer',
      'alice-blog',
      '--to',
      KeyPair.generate().id.toString(),
    );
    expect(grab.code).toBe(3);

    const offer = await as(alice, 'name', 'transfer', 'alice-blog', '--to', bob.key.id.toString());
    expect(offer.code).toBe(0);
    expect(offer.stdout).toContain(`pc2 name accept alice-blog --from ${alice.key.id}`);
    const accepted = await as(
      bob,
      'name',
      'accept',
      'alice-blog',
      '--from',
      alice.key.id.toString(),
    );
    expect(accepted).toMatchObject({ code: 0 });
    expect((await as(bob, 'name', 'list')).stdout).toBe('alice-blog\n');
    expect((await as(alice, 'name', 'list')).stdout).toBe('alice-home\n');

    // Not on a terminal, a release must be meant: --yes.
    const unconfirmed = await as(bob, 'name', 'release', 'alice-blog');
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('--yes');
    const released = await as(bob, 'name', 'release', 'alice-blog', '--yes');
    expect(released.code).toBe(0);
    expect((await as(bob, 'name', 'list')).stdout).toMatch(/^no names/);
    const status = await runCli(['status', 'alice-blog', '--json', ...sns()]);
    expect(JSON.parse(status.stdout).state).toBe('unknown');
  });
});

describe('exit codes, as documented', () => {
  it('2 for bad usage, 3 for a name that is not ours, 4 when no super node answers', {
    timeout: 60_000,
  }, async () => {
    const node = (args: string[]) =>
      runCli(['node', '--key', bob.path, '--inspector', 'off', ...args]);
    const cases: [string[], number, RegExp][] = [
      [['--name', 'ab', ...sns()], 2, /--name: expected a valid name/],
      [['--name', 'Alice', ...sns()], 2, /valid name/],
      [['--name', 'www', ...sns()], 2, /reserved/],
      [
        ['--name', 'bob-home', '--supernode', 'sn1.example'],
        2,
        /--supernode: expected each item a URL/,
      ],
      [['--name', 'bob-home', '--lease-seconds', '0', ...sns()], 2, /from 10 to 86400/],
      [['--name', 'bob-home', '--lease-seconds=-5', ...sns()], 2, /from 10 to 86400/],
      [['--name', 'bob-home', '--upstream', 'https://x', ...sns()], 2, /http:\/\/ URL/],
      [['--name', 'bob-home', '--mode', 'direct', ...sns()], 2, /needs --public-url/],
      [['--name', 'bob-home', '--inspector', '0.0.0.0:4040', ...sns()], 2, /--inspector-public/],
      [['--name', 'bob-home', '--app-check-seconds', '0', ...sns()], 2, /from 0.1 to 3600/],
      [['--name', 'alice-home', ...sns()], 3, /cannot claim "alice-home"/],
      [['--name', 'bob-home', '--supernode', 'http://127.0.0.1:1'], 4, /no super node answered/],
    ];
    const results = await Promise.all(cases.map(([args]) => node(args)));
    results.forEach((r, i) => {
      const [args, code, message] = cases[i];
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
    const others = await Promise.all([
      runCli(['status', 'x_y', ...sns()]),
      runCli(['name', 'frob', ...sns()]),
      as(alice, 'name', 'transfer', 'alice-home'),
      runCli(['status', 'alice-home', '--supernode', 'http://127.0.0.1:1']),
      runCli(['status', 'alice-home', '--log-level', 'chatty', ...sns()]),
    ]);
    expect(others.map((r) => r.code)).toEqual([2, 2, 2, 4, 2]);
  });
});
