/**
 * A user-facing CLI failure: printed as `pc2: <message>`, exits with `exitCode`. The exit codes are
 * the same for every command and documented in docs/node-guide.md ("Exit codes").
 */
export const EXIT = {
  /** Done, or stopped by SIGTERM. */
  OK: 0,
  /** Anything else that went wrong (a file that cannot be read or written, a refused request, ...). */
  ERROR: 1,
  /** Bad usage: unknown command or option, a value out of range, a bad name or URL. */
  USAGE: 2,
  /** The name is not this key's to use: taken, held, reserved, or owned by another key. */
  NAME: 3,
  /** No super node could be reached. */
  UNREACHABLE: 4,
  /** Stopped by Ctrl-C (SIGINT): 128 + 2, as shells and npm report it. */
  INTERRUPTED: 130,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.ERROR,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
