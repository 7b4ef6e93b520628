/** Active Proxy 3.0 server (origin side). */
export { ActiveProxyServer, type ServerStats } from './server.ts';
export { ProxyError, type ProxyErrorCode } from './errors.ts';
export type { ActiveProxyServerOptions, Clock, Logger, PublicEndpoint } from './options.ts';
export type { SessionInfo } from './session.ts';
export { ProxyStream, type StreamAddress } from './stream.ts';
