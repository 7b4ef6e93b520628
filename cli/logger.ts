/**
 * Log lines for every command, on standard error: `time level component: message {fields}`, or with
 * `--log-format json` one JSON object per line ({time, level, component, msg, ...fields}).
 * `--log-level` drops the less severe ones.
 */
import type { Logger } from '../shared/logger.ts';
import type { LogFormat, LogLevel } from './options.ts';

export type CliLogger = Logger;

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface LogSettings {
  level?: LogLevel;
  format?: LogFormat;
  /** Where lines go. Default standard error. */
  write?: (line: string) => void;
}

export function createLogger(component: string, settings: LogSettings = {}): CliLogger {
  const min = RANK[settings.level ?? 'info'];
  const write = settings.write ?? ((line: string) => process.stderr.write(line));
  const json = settings.format === 'json';
  const line = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (RANK[level] < min) return;
    const time = new Date().toISOString();
    if (json) {
      write(JSON.stringify({ time, level, component, msg: message, ...fields }) + '\n');
      return;
    }
    const extra = fields && Object.keys(fields).length ? ' ' + JSON.stringify(fields) : '';
    write(`${time} ${level} ${component}: ${message}${extra}\n`);
  };
  return {
    debug: (m, f) => line('debug', m, f),
    info: (m, f) => line('info', m, f),
    warn: (m, f) => line('warn', m, f),
    error: (m, f) => line('error', m, f),
  };
}
