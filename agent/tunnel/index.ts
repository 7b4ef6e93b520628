/** Active Proxy 3.0 client (node side). */
export { TunnelClient, type AuthInfo, type ClientState } from './client.ts';
export type { TunnelClientOptions } from './options.ts';
export type { BackoffOptions } from './backoff.ts';
