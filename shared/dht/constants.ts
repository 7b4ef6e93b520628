/** Boson 3.0 DHT constants: message methods and types, protocol error codes, the version stamp. */

export const Method = {
  PING: 1,
  FIND_NODE: 2,
  ANNOUNCE_PEER: 3,
  FIND_PEER: 4,
  STORE_VALUE: 5,
  FIND_VALUE: 6,
} as const;
export type MethodCode = (typeof Method)[keyof typeof Method];

export const MessageType = {
  ERROR: 0x00,
  REQUEST: 0x20,
  RESPONSE: 0x40,
} as const;
export type MessageTypeCode = (typeof MessageType)[keyof typeof MessageType];

export const METHOD_MASK = 0x1f;
export const TYPE_MASK = 0xe0;

export const methodName = (method: number): string =>
  (Object.keys(Method) as (keyof typeof Method)[])
    .find((k) => Method[k] === method)
    ?.toLowerCase() ?? `method_${method}`;

export const isMethod = (method: number): method is MethodCode =>
  method >= Method.PING && method <= Method.FIND_VALUE;

/** Codes carried in an error body's `c`. */
export const ErrorCode = {
  GENERIC: 201,
  SERVER: 202,
  PROTOCOL: 203,
  METHOD_UNKNOWN: 204,
  MESSAGE_TOO_BIG: 205,
  INVALID_SIGNATURE: 206,
  SALT_TOO_BIG: 207,
  CAS_FAIL: 301,
  SEQUENCE_NOT_MONOTONIC: 302,
  IMMUTABLE_SUBSTITUTION: 303,
  INVALID_TOKEN: 400,
  INVALID_VALUE: 401,
  INVALID_PEER: 402,
} as const;
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** `want` bits of FIND_NODE / FIND_VALUE / FIND_PEER. */
export const Want = {
  IPV4: 1,
  IPV6: 2,
  TOKEN: 4,
} as const;

/** (name[0] << 24) | (name[1] << 16) | version. */
export const versionCode = (name: string, version: number): number =>
  ((name.charCodeAt(0) << 24) | (name.charCodeAt(1) << 16) | (version & 0xffff)) >>> 0;

/** The version stock Java 3.0 nodes send: "OR"/1. */
export const JAVA_VERSION = versionCode('OR', 1);
/** This implementation: "PC"/1. */
export const OUR_VERSION = versionCode('PC', 1);

export const K = 8;
export const ID_BYTES = 32;
export const NONCE_BYTES = 24;
export const SIGNATURE_BYTES = 64;
/** Default number of peers a FIND_PEER asks for when `e` is absent. */
export const DEFAULT_EXPECTED_PEERS = 16;
