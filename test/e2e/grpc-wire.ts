// A minimal gRPC client over node:http2 (h2c), for tests that must send exact bytes and see the
// exact status a server answers: unary calls only, length-prefixed messages, status and message
// read from trailers (or from a trailers-only response). It is independent of ketch's own code
// and of @grpc/grpc-js, so it judges the server's wire behaviour without sharing its bugs.
import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';

export interface UnaryResult {
  /** gRPC status code (0 = OK). */
  code: number;
  /** grpc-message, percent-decoded. */
  message: string;
  /** The response message bytes when code is 0 (empty when the server sent none). */
  body: Buffer;
}

/** Decodes grpc-message: %XX escapes of UTF-8 bytes; any other character stands for itself. */
export function decodeGrpcMessage(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(s[i]!, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function frame(msg: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + msg.length);
  out.writeUInt8(0, 0);
  out.writeUInt32BE(msg.length, 1);
  out.set(msg, 5);
  return out;
}

function unframe(data: Buffer): Buffer {
  if (data.length === 0) return data;
  if (data.length < 5) throw new Error(`short gRPC frame (${data.length} bytes)`);
  if (data.readUInt8(0) !== 0) throw new Error('compressed gRPC frame not supported');
  const n = data.readUInt32BE(1);
  if (data.length !== 5 + n) throw new Error(`gRPC frame length ${n} but ${data.length - 5} bytes follow`);
  return data.subarray(5);
}

function statusOf(h: IncomingHttpHeaders): { code: number; message: string } | undefined {
  const s = h['grpc-status'];
  if (s === undefined) return undefined;
  const m = h['grpc-message'];
  return { code: Number(s), message: typeof m === 'string' ? decodeGrpcMessage(m) : '' };
}

/** One HTTP/2 connection; many concurrent unary calls may share it. */
export class GrpcConn {
  private readonly session: ClientHttp2Session;
  private sessionError: Error | undefined;

  constructor(readonly url: string) {
    this.session = connect(url);
    this.session.on('error', (e: Error) => {
      this.sessionError = e;
    });
  }

  /** Sends one request; resolves with the status, rejects on transport failure or timeout. */
  unary(path: string, request: Uint8Array, timeoutMs = 10_000): Promise<UnaryResult> {
    if (this.sessionError !== undefined) return Promise.reject(this.sessionError);
    return new Promise((resolve, reject) => {
      const stream = this.session.request({
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      const chunks: Buffer[] = [];
      let status: { code: number; message: string } | undefined;
      let httpStatus = 0;
      let settled = false;
      const finish = (err: Error | undefined, r?: UnaryResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err !== undefined) reject(err);
        else resolve(r!);
      };
      const timer = setTimeout(() => {
        stream.close(constants.NGHTTP2_CANCEL);
        finish(new Error(`${path}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      stream.on('response', (h) => {
        httpStatus = Number(h[':status']);
        status = statusOf(h) ?? status;
      });
      stream.on('trailers', (h: IncomingHttpHeaders) => {
        status = statusOf(h) ?? status;
      });
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', (e: Error) => finish(e));
      stream.on('close', () => {
        if (status === undefined) {
          const why = this.sessionError?.message ?? `http status ${httpStatus}, rst ${stream.rstCode}`;
          return finish(new Error(`${path}: stream closed without gRPC status (${why})`));
        }
        try {
          const body = status.code === 0 ? unframe(Buffer.concat(chunks)) : Buffer.alloc(0);
          finish(undefined, { code: status.code, message: status.message, body });
        } catch (e) {
          finish(e as Error);
        }
      });
      stream.end(frame(request));
    });
  }

  close(): void {
    if (!this.session.destroyed) this.session.close();
  }

  destroy(): void {
    this.session.destroy();
  }
}

/** gRPC status codes by name, for readable assertions. */
export const Code = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
