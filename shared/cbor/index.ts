export { decodeCbor, decodeCborItem, type CborDecodeOptions, type CborDecoded } from './decode.ts';
export { encodeCbor, type CborEncodeOptions } from './encode.ts';
export * from './types.ts';
