/** The relay ingress: edge requests for relayed nodes, each carried over a stream of the node's tunnel. */
export { createIngress, type Ingress, type IngressOptions, type IngressStats } from './ingress.ts';
export { startIngressServer, type IngressServer } from './server.ts';
