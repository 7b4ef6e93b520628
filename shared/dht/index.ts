export * from './constants.ts';
export { encodeMessage, decodeMessage } from './codec.ts';
export * from './wire.ts';
export { bytesToIp, ipToBytes, isGlobalAddress } from '../ip.ts';
export { NodeInfo, addressKey } from './node-info.ts';
export { Value, type ValueFields } from './value.ts';
export { PeerInfo, type PeerInfoOptions } from './peer-info.ts';
export * from './messages.ts';
