/** The tunnel server (origin side), speaking Boson Active Proxy 3.0. */
export { TunnelServer, type TunnelServerStats } from './server.ts';
export { TunnelError, type TunnelErrorCode } from './errors.ts';
export type { TunnelServerOptions, Clock, Logger, PublicEndpoint } from './options.ts';
export type { SessionInfo } from './session.ts';
export { TunnelStream, type StreamAddress } from './stream.ts';
