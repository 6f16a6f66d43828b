// HTTP/2 framing constants and the request bytes the raw client sends (RFC 9113 §4, §6). A gRPC
// unary request is a HEADERS frame (END_HEADERS) followed by one DATA frame (END_STREAM); both are
// encoded once per load into a RequestTemplate, and each request copies the template and writes
// its stream identifier (and, for puts, its key) into the copy.
import { encodeLiteralHeaders } from '../src/platform/hpack.js';

export const FRAME_HEADER_BYTES = 9;
export const PREFACE = new TextEncoder().encode('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export const FrameType = {
  Data: 0x0,
  Headers: 0x1,
  Priority: 0x2,
  RstStream: 0x3,
  Settings: 0x4,
  PushPromise: 0x5,
  Ping: 0x6,
  GoAway: 0x7,
  WindowUpdate: 0x8,
  Continuation: 0x9,
} as const;

export const Flag = {
  EndStream: 0x1,
  Ack: 0x1,
  EndHeaders: 0x4,
  Padded: 0x8,
  Priority: 0x20,
} as const;

export const Setting = {
  HeaderTableSize: 0x1,
  EnablePush: 0x2,
  MaxConcurrentStreams: 0x3,
  InitialWindowSize: 0x4,
  MaxFrameSize: 0x5,
} as const;

/** The initial flow-control window every HTTP/2 endpoint starts with (RFC 9113 §6.9.2). */
export const DEFAULT_WINDOW = 65535;
/** The smallest frame payload limit a peer may announce; our frames never exceed it. */
export const MIN_MAX_FRAME_SIZE = 16384;

/** Writes a frame header at out[p]; returns p + 9. */
export function writeFrameHeader(
  out: Uint8Array,
  p: number,
  length: number,
  type: number,
  flags: number,
  streamId: number,
): number {
  out[p] = (length >>> 16) & 0xff;
  out[p + 1] = (length >>> 8) & 0xff;
  out[p + 2] = length & 0xff;
  out[p + 3] = type;
  out[p + 4] = flags;
  writeUint32(out, p + 5, streamId & 0x7fffffff);
  return p + FRAME_HEADER_BYTES;
}

export function writeUint32(out: Uint8Array, p: number, v: number): void {
  out[p] = (v >>> 24) & 0xff;
  out[p + 1] = (v >>> 16) & 0xff;
  out[p + 2] = (v >>> 8) & 0xff;
  out[p + 3] = v & 0xff;
}

export function readUint32(b: Uint8Array, p: number): number {
  return (((b[p] ?? 0) << 24) | ((b[p + 1] ?? 0) << 16) | ((b[p + 2] ?? 0) << 8) | (b[p + 3] ?? 0)) >>> 0;
}

/** Encodes a frame with its payload as a new array. */
export function encodeFrame(type: number, flags: number, streamId: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  writeFrameHeader(out, 0, payload.length, type, flags, streamId);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

export function encodeSettings(params: readonly (readonly [number, number])[]): Uint8Array {
  const payload = new Uint8Array(6 * params.length);
  params.forEach(([id, value], i) => {
    payload[6 * i] = (id >>> 8) & 0xff;
    payload[6 * i + 1] = id & 0xff;
    writeUint32(payload, 6 * i + 2, value);
  });
  return encodeFrame(FrameType.Settings, 0, 0, payload);
}

export function encodeWindowUpdate(streamId: number, increment: number): Uint8Array {
  const payload = new Uint8Array(4);
  writeUint32(payload, 0, increment & 0x7fffffff);
  return encodeFrame(FrameType.WindowUpdate, 0, streamId, payload);
}

/** A pre-encoded gRPC unary request: HEADERS + DATA frames with the stream id left blank. */
export interface RequestTemplate {
  readonly bytes: Uint8Array;
  /** Offsets of the two frames' stream identifier fields. */
  readonly streamIdOffsets: readonly [number, number];
  /** Payload length of the DATA frame (what flow control counts). */
  readonly dataLength: number;
  /** Where a per-request key sits inside `bytes` (-1 when the key is fixed). */
  readonly keyOffset: number;
  readonly keyLength: number;
}

/** The request headers of a gRPC call, in the order gRPC's spec lists them. */
export function grpcRequestHeaders(authority: string, path: string): [string, string][] {
  return [
    [':method', 'POST'],
    [':scheme', 'http'],
    [':path', path],
    [':authority', authority],
    ['content-type', 'application/grpc'],
    ['te', 'trailers'],
  ];
}

/**
 * Builds the template for one request kind. `grpcBody` is the length-prefixed gRPC message;
 * `keyOffsetInBody` says where a per-request key starts inside it (-1: none).
 */
export function buildRequestTemplate(
  authority: string,
  path: string,
  grpcBody: Uint8Array,
  keyOffsetInBody = -1,
  keyLength = 0,
): RequestTemplate {
  const block = encodeLiteralHeaders(grpcRequestHeaders(authority, path));
  if (block.length > MIN_MAX_FRAME_SIZE || grpcBody.length > MIN_MAX_FRAME_SIZE) {
    throw new Error('request template: frames larger than 16384 bytes are not supported');
  }
  const bytes = new Uint8Array(2 * FRAME_HEADER_BYTES + block.length + grpcBody.length);
  let p = writeFrameHeader(bytes, 0, block.length, FrameType.Headers, Flag.EndHeaders, 0);
  bytes.set(block, p);
  p += block.length;
  const dataHeader = p;
  p = writeFrameHeader(bytes, p, grpcBody.length, FrameType.Data, Flag.EndStream, 0);
  bytes.set(grpcBody, p);
  return {
    bytes,
    streamIdOffsets: [5, dataHeader + 5],
    dataLength: grpcBody.length,
    keyOffset: keyOffsetInBody < 0 ? -1 : p + keyOffsetInBody,
    keyLength,
  };
}
