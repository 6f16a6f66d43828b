// The gRPC protocol pieces shared by the server and its calls: status codes and GrpcError, message
// framing, grpc-message percent-encoding, grpc-timeout parsing, Trailers-Only responses, and the
// handler-facing call and handler types.
import http2 from 'node:http2';
import type { StatusCode } from '../base/grpc-status.js';

export { Status, GrpcError, isGrpcError, type StatusCode } from '../base/grpc-status.js';
export type {
  GrpcCall,
  ServerStreamingCall,
  ClientStreamingCall,
  BidiStreamingCall,
  UnaryHandler,
  ServerStreamingHandler,
  ClientStreamingHandler,
  BidiStreamingHandler,
  MethodHandler,
} from '../base/grpc-call-types.js';

/** Bytes in front of every message on the wire: compressed flag + 4-byte big-endian length. */
export const FRAME_HEADER_BYTES = 5;

/** Copies a message into a new buffer behind a filled-in frame header (for callers without one). */
export function frameMessage(message: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + message.length);
  out.set(message, FRAME_HEADER_BYTES);
  fillPrefix(out);
  return out;
}

/** Percent-encodes a status message for the grpc-message header, as the gRPC spec requires. */
export function grpcMessageEncode(msg: string): string {
  let plain = true;
  for (let i = 0; i < msg.length; i++) {
    const c = msg.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return msg;
  let out = '';
  for (const byte of Buffer.from(msg, 'utf8')) {
    out +=
      byte < 0x20 || byte > 0x7e || byte === 0x25
        ? '%' + byte.toString(16).toUpperCase().padStart(2, '0')
        : String.fromCharCode(byte);
  }
  return out;
}

/** Ends a stream with a status in one HEADERS frame (gRPC's Trailers-Only response). */
export function trailersOnly(stream: http2.ServerHttp2Stream, code: StatusCode, message: string): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond(
    {
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': String(code),
      'grpc-message': grpcMessageEncode(message),
    },
    { endStream: true, sendDate: false } as http2.ServerStreamResponseOptions,
  );
}

const TIMEOUT_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/** grpc-timeout ("<at most 8 digits><unit>") in milliseconds, or undefined if malformed. */
export function parseGrpcTimeout(v: string): number | undefined {
  const m = /^(\d{1,8})([HMSmun])$/.exec(v);
  if (m === null) return undefined;
  return Number(m[1]) * TIMEOUT_UNIT_MS[m[2]!]!;
}

/** Writes the 5-byte gRPC prefix (uncompressed, big-endian length) into a framed message. */
export function fillPrefix(framed: Uint8Array): void {
  const len = framed.length - FRAME_HEADER_BYTES;
  framed[0] = 0;
  framed[1] = len >>> 24;
  framed[2] = (len >>> 16) & 0xff;
  framed[3] = (len >>> 8) & 0xff;
  framed[4] = len & 0xff;
}
