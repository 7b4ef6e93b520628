/**
 * `pc2`: the one command of the project. Each subcommand parses its own flags into one validated
 * options object and hands it to the library that does the work.
 */
import pkg from '../package.json' with { type: 'json' };
import { CliError, EXIT } from './errors.ts';

const USAGE = `pc2 <command> [options]

Commands:
  id new|show|restore   this node's identity key (Ed25519, did:boson) and recovery phrase
  node                  put this machine's PC2 app online under <name>.<zone>
  name list|release|transfer|accept
                        the names this key owns, signed by the key
  status [name]         what the network says about a name: binding, route, lease (--json)
  supernode             run a super node (registry, relay ingress, Active Proxy); --gateway adds the edge
  gateway               run the Node.js gateway (edge) alone
  service install node|supernode|gateway
                        write a hardened systemd unit and its config file (--dry-run prints them)
  devnet                run the whole network on loopback (what \`npm start\` runs)
  --version             this pc2's version and the runtime it runs on

Run \`pc2 <command> --help\` for the options of a command. Every command takes --log-level and
--log-format. Exit codes: 0 done (or stopped by SIGTERM), 1 error, 2 bad usage, 3 the name is not yours to
use, 4 no super node reachable, 130 stopped by Ctrl-C.`;

// Loaded on demand: `pc2 id` should not have to load the gateway and the super node.
const commands: Record<string, () => Promise<(args: string[]) => Promise<void>>> = {
  id: async () => (await import('./id.ts')).runId,
  node: async () => (await import('./node.ts')).runNode,
  name: async () => (await import('./name.ts')).runName,
  status: async () => (await import('./status.ts')).runStatus,
  supernode: async () => (await import('./supernode.ts')).runSupernode,
  gateway: async () => (await import('./gateway.ts')).runGateway,
  service: async () => (await import('./service.ts')).runService,
  devnet: async () => (await import('./devnet.ts')).runDevnet,
};

/** The runtime as a bug report needs it: the Node.js release (or Deno's, under `deno run`). */
function runtime(): string {
  const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
  return deno ? `Deno ${deno.version.deno}` : `Node.js ${process.version}`;
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return;
  }
  if (command === '--version' || command === '-v' || command === 'version') {
    console.log(`pc2 ${pkg.version} on ${runtime()} (${process.platform}-${process.arch})`);
    return;
  }
  const load = commands[command];
  if (!load) throw new CliError(`unknown command "${command}"\n\n${USAGE}`, EXIT.USAGE);
  await (await load())(rest);
}

// A reader that went away (`pc2 id new | head -2`) ends the output, not the program with a trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(EXIT.OK);
    throw e;
  });
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof CliError) {
    process.stderr.write(`pc2: ${e.message}\n`);
    process.exit(e.exitCode);
  }
  process.stderr.write(`pc2: unexpected error: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(EXIT.ERROR);
});
