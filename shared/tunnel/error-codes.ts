/** Codes carried in ERROR frames (u16). Stable: peers act on them. */
export const ErrorFrameCode = {
  /** Anything unexpected on the server side. */
  INTERNAL: 1,
  /** A frame the receiver's state did not expect, or one that does not decode. */
  PROTOCOL: 2,
  /** AUTH/ATTACH signature or encryption did not check out. Fatal for the client: retrying cannot help. */
  AUTH_FAILED: 3,
  /** The client speaks another protocol version. Fatal. */
  VERSION: 4,
  /** The access policy refused this device or user. Fatal. */
  FORBIDDEN: 5,
  /** ATTACH past the session's maxConnections, or the server is full. */
  LIMIT: 6,
  /** ATTACH for a session that does not exist (any more). */
  NO_SESSION: 7,
  /** The upstream could not be reached (client -> server). */
  UPSTREAM: 8,
} as const;

export type ErrorFrameCodeValue = (typeof ErrorFrameCode)[keyof typeof ErrorFrameCode];

/** Codes after which reconnecting cannot succeed until the configuration changes. */
export const FATAL_ERROR_CODES: readonly number[] = [
  ErrorFrameCode.AUTH_FAILED,
  ErrorFrameCode.VERSION,
  ErrorFrameCode.FORBIDDEN,
];
