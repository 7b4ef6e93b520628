/**
 * The one logger shape every library of the project takes by injection (DESIGN convention 6), so a
 * single logger passes through the super node, registry, relay, DHT and agent unchanged.
 */
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** The default: says nothing. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
