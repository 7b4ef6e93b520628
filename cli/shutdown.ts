/**
 * How every long-running command ends: it runs until SIGINT (Ctrl-C) or SIGTERM (systemctl stop),
 * then runs `stop` once and exits: 130 after Ctrl-C (128 + SIGINT, the shell's convention, and what
 * `npx pc2` and `npm start` exit with after Ctrl-C anyway, since npm ends itself that way), 0 after
 * SIGTERM (a clean stop is success to a service manager). A second signal while stopping exits at
 * once with 130; a stop that takes over 10 s exits 1.
 */
import { EXIT } from './errors.ts';

export const STOP_TIMEOUT_MS = 10_000;
export const EXIT_INTERRUPTED = EXIT.INTERRUPTED;

export function onShutdown(
  stop: () => Promise<void>,
  /** Where "stopping" is said (a status screen writes it above its frame). */
  say: (line: string) => void = (line) => process.stderr.write(`\n${line}\n`),
): Promise<never> {
  return new Promise<never>(() => {
    // Nothing else may be holding the process open (a direct-mode node has no socket of its own).
    const alive = setInterval(() => {}, 1 << 30);
    let stopping = false;
    const handler = (signal: NodeJS.Signals) => {
      if (stopping) process.exit(EXIT_INTERRUPTED);
      stopping = true;
      say(`${signal}: stopping...`);
      setTimeout(() => {
        process.stderr.write(`still stopping after ${STOP_TIMEOUT_MS / 1000} s: giving up\n`);
        process.exit(EXIT.ERROR);
      }, STOP_TIMEOUT_MS).unref();
      stop().then(
        () => {
          clearInterval(alive);
          process.exit(signal === 'SIGINT' ? EXIT_INTERRUPTED : EXIT.OK);
        },
        (e) => {
          process.stderr.write(`error while stopping: ${(e as Error).message}\n`);
          process.exit(EXIT.ERROR);
        },
      );
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}
