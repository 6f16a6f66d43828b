// The two requests the benchmark's loads send, prepared once per load for both client
// implementations: a Put of a 256-byte value under a per-request key (key-size zero-padded
// decimal digits) and a Range of one fixed key, linearizable or serializable. Plus the
// Maintenance Status call that tells when a cluster's members agree on a leader.
import type http2 from 'node:http2';
import { encodePutRequest, encodeRangeRequest, grpcFrame } from './grpc-codec.js';
import { buildRequestTemplate, type RequestTemplate } from './h2-frames.js';

export const PUT_PATH = '/etcdserverpb.KV/Put';
export const RANGE_PATH = '/etcdserverpb.KV/Range';
export const STATUS_PATH = '/etcdserverpb.Maintenance/Status';

export interface PreparedRequest {
  readonly path: string;
  /** Length-prefixed gRPC message. */
  readonly body: Uint8Array;
  /** Where the per-request key's digits start in `body` (-1: fixed key). */
  readonly keyOffsetInBody: number;
  readonly keyLength: number;
  /** Raw HTTP/2 frames for h2-connection.ts. */
  readonly template: RequestTemplate;
  /** Header object for node:http2. */
  readonly nodeHeaders: http2.OutgoingHttpHeaders;
}

function prepare(
  authority: string,
  path: string,
  body: Uint8Array,
  keyOffset: number,
  keyLength: number,
): PreparedRequest {
  return {
    path,
    body,
    keyOffsetInBody: keyOffset,
    keyLength,
    template: buildRequestTemplate(authority, path, body, keyOffset, keyLength),
    nodeHeaders: {
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
    },
  };
}

/** Writes `n` as `width` zero-padded decimal digits at out[p] (the low digits when n is wider). */
export function writeDecimal(out: Uint8Array, p: number, width: number, n: number): void {
  for (let i = width - 1; i >= 0; i--) {
    out[p + i] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
}

/** The key with number `n`: `size` zero-padded decimal digits. */
export function benchKey(n: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  writeDecimal(out, 0, size, n);
  return out;
}

/** A put whose key digits are rewritten per request. */
export function preparePut(authority: string, keySize: number, value: Uint8Array): PreparedRequest {
  const body = grpcFrame(encodePutRequest(benchKey(0, keySize), value));
  // Frame prefix (5) + key tag (1) + key length varint (1: keys are at most 127 bytes).
  if (keySize > 127) throw new Error('bench keys must be shorter than 128 bytes');
  return prepare(authority, PUT_PATH, body, 5 + 2, keySize);
}

export function prepareRange(authority: string, key: Uint8Array, serializable: boolean): PreparedRequest {
  return prepare(authority, RANGE_PATH, grpcFrame(encodeRangeRequest(key, serializable)), -1, 0);
}

/** Maintenance Status (an empty StatusRequest). */
export function prepareStatus(authority: string): PreparedRequest {
  return prepare(authority, STATUS_PATH, grpcFrame(new Uint8Array(0)), -1, 0);
}

/** The value every put writes: `size` bytes from a fixed xorshift sequence (same for every server). */
export function benchValue(size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = 0x9e3779b9;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
