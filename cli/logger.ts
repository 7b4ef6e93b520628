/** Log lines for the long-running commands: `time level component: message {fields}` on stderr. */
import type { Logger } from '../shared/logger.ts';

export type CliLogger = Logger;

export function createLogger(
  component: string,
  options: { debug?: boolean; quiet?: boolean } = {},
): CliLogger {
  const line = (level: string, message: string, fields?: Record<string, unknown>) => {
    if (options.quiet && level !== 'error') return;
    const extra = fields && Object.keys(fields).length ? ' ' + JSON.stringify(fields) : '';
    process.stderr.write(`${new Date().toISOString()} ${level} ${component}: ${message}${extra}\n`);
  };
  return {
    info: (m, f) => line('info', m, f),
    warn: (m, f) => line('warn', m, f),
    error: (m, f) => line('error', m, f),
    debug: (m, f) => (options.debug ? line('debug', m, f) : undefined),
  };
}
