/** Active Proxy 3.0 wire: frames, their encoders/decoders, stream framing and limits. */
export * from './address.ts';
export * from './decode.ts';
export * from './encode.ts';
export * from './error-codes.ts';
export * from './frame-offer.ts';
export * from './frame-pool.ts';
export * from './frame-reader.ts';
export * from './frame-type.ts';
export * from './frames.ts';
export * from './limits.ts';
export * from './session-key.ts';
export * from './tls-streams.ts';
