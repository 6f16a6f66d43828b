// One gRPC unary call's reply state, reused by a load client for each request it makes. It
// checks what a correct reply must have: HTTP :status 200, exactly one uncompressed message whose
// length prefix matches the body, and a grpc-status trailer. Anything else is an error with a
// reason, so the benchmark can report it rather than count a broken reply as a success.
import type { HeaderList } from '../src/platform/hpack.js';

/** Status given to calls that failed below gRPC (connection loss, RST_STREAM, bad framing). */
export const TRANSPORT_ERROR = -1;

export type CallDone = (status: number, message: string, body: Uint8Array | null) => void;

export class GrpcCall {
  private httpStatus = '';
  private bodyLength = 0;
  private readonly prefix = new Uint8Array(5);
  private parts: Uint8Array[] = [];
  private open = false;

  /** `keepBody`: hand the reply message (without its 5-byte prefix) to `done`. */
  constructor(
    private readonly done: CallDone,
    private readonly keepBody = false,
  ) {}

  begin(): void {
    this.httpStatus = '';
    this.bodyLength = 0;
    this.parts = [];
    this.open = true;
  }

  onHeaders(headers: HeaderList): void {
    for (let i = 0; i < headers.length; i += 2) {
      if (headers[i] === ':status') this.httpStatus = headers[i + 1] as string;
    }
  }

  onBody(b: Uint8Array, start: number, end: number): void {
    for (let i = start; i < end && this.bodyLength + (i - start) < 5; i++) {
      this.prefix[this.bodyLength + (i - start)] = b[i] as number;
    }
    this.bodyLength += end - start;
    if (this.keepBody) this.parts.push(Uint8Array.prototype.slice.call(b, start, end));
  }

  onTrailers(trailers: HeaderList): void {
    let status = '';
    let message = '';
    for (let i = 0; i < trailers.length; i += 2) {
      const name = trailers[i];
      if (name === 'grpc-status') status = trailers[i + 1] as string;
      else if (name === 'grpc-message') message = trailers[i + 1] as string;
    }
    if (this.httpStatus !== '200') {
      return this.finish(TRANSPORT_ERROR, `HTTP status ${this.httpStatus || '(none)'}`);
    }
    if (status === '') return this.finish(TRANSPORT_ERROR, 'reply without grpc-status');
    const code = Number(status);
    if (!Number.isInteger(code) || code < 0) return this.finish(TRANSPORT_ERROR, `bad grpc-status ${status}`);
    if (code !== 0) return this.finish(code, decodeGrpcMessage(message));
    const bad = this.framingProblem();
    if (bad !== null) return this.finish(TRANSPORT_ERROR, bad);
    this.finish(0, '');
  }

  private framingProblem(): string | null {
    if (this.bodyLength < 5) return `reply body of ${this.bodyLength} bytes`;
    if (this.prefix[0] !== 0) return `reply compressed flag ${this.prefix[0]}`;
    const pre = this.prefix;
    const msgLen =
      (pre[1] as number) * 2 ** 24 +
      (((pre[2] as number) << 16) | ((pre[3] as number) << 8) | (pre[4] as number));
    if (msgLen + 5 !== this.bodyLength)
      return `reply prefix says ${msgLen} bytes, body has ${this.bodyLength - 5}`;
    return null;
  }

  /** Ends the call once; later calls (a late RST_STREAM, a close) are ignored. */
  finish(status: number, message: string): void {
    if (!this.open) return;
    this.open = false;
    let body: Uint8Array | null = null;
    if (this.keepBody && status === 0) {
      const all = Buffer.concat(this.parts);
      body = all.subarray(5);
    }
    this.parts = [];
    this.done(status, message, body);
  }
}

/** grpc-message is percent-encoded (gRPC over HTTP/2 spec). */
export function decodeGrpcMessage(m: string): string {
  if (!m.includes('%')) return m;
  try {
    return decodeURIComponent(m);
  } catch {
    return m;
  }
}
