/** The tunnel client (node side), speaking Boson Active Proxy 3.0. */
export { TunnelClient, type AuthInfo, type ClientState } from './client.ts';
export type { TunnelClientOptions } from './options.ts';
export type { BackoffOptions } from './backoff.ts';
