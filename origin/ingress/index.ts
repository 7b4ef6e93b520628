/** Relay ingress: edge requests for relayed nodes, carried over Active Proxy streams. */
export { createIngress, type Ingress, type IngressOptions } from './ingress.ts';
export { startIngressServer, type IngressServer } from './server.ts';
