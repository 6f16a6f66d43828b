// One gRPC call on the server: unframing of request messages (across DATA frame boundaries),
// deadline, cancellation, the handler's lifecycle and the response (headers, framed messages,
// status trailers or a Trailers-Only response). Bytes only; see grpc-server.ts for the listener.
import type http2 from 'node:http2';
import type { Logger } from '../base/log.js';
import {
  FRAME_HEADER_BYTES,
  GrpcError,
  Status,
  fillPrefix,
  isGrpcError,
  grpcMessageEncode,
  parseGrpcTimeout,
  trailersOnly,
  type BidiStreamingCall,
  type MethodHandler,
  type StatusCode,
} from './grpc-protocol.js';

/** What a call needs from its server. */
export interface CallOwner {
  readonly maxReceiveMessageBytes: number;
  readonly logger: Logger;
  callStarted(c: GrpcCallImpl): void;
  callEnded(c: GrpcCallImpl): void;
}

const RESPONSE_HEADERS = Object.freeze({ ':status': 200, 'content-type': 'application/grpc' });
const OK_TRAILERS = Object.freeze({ 'grpc-status': '0', 'grpc-message': '' });
// sendDate is honoured by node but missing from @types/node; gRPC responses carry no date header.
const RESPOND_OPTIONS = Object.freeze({
  waitForTrailers: true,
  sendDate: false,
}) as http2.ServerStreamResponseOptions;
const DONE: IteratorResult<Uint8Array> = Object.freeze({ done: true, value: undefined });
/** Client-stream messages buffered before reading from the connection pauses (backpressure). */
const QUEUE_HIGH_WATER = 64;
/** Longest timer node can arm (about 24.8 days); longer deadlines are kept but never fire. */
const MAX_TIMER_MS = 0x7fffffff;
/** Headers that are transport, not metadata. */
const NOT_METADATA = new Set(['content-type', 'te', 'grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding']);
const EMPTY = new Uint8Array(0);

export class GrpcCallImpl implements BidiStreamingCall {
  readonly timeoutMs: number | undefined;
  readonly deadline: number | undefined;
  done = false;
  private headersSent = false;
  private trailers: Readonly<Record<string, string>> = OK_TRAILERS;
  private controller: AbortController | undefined;
  private abortReason: GrpcError | undefined;
  private meta: Record<string, string> | undefined;
  private binMeta: Record<string, Uint8Array> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private drainWaiters: (() => void)[] | undefined;
  // Unframing state: the 5-byte prefix may itself be split, and a message may span many chunks.
  private readonly prefix = Buffer.alloc(FRAME_HEADER_BYTES);
  private prefixFill = 0;
  private body: Buffer | null = null;
  private bodyFill = 0;
  // Request messages: unary and server-streaming take the first; client streams queue them.
  private dispatched = false;
  private queue: Uint8Array[] = [];
  private queueHead = 0;
  private waiter: ((r: IteratorResult<Uint8Array>) => void) | null = null;
  private inputEnded = false;
  private paused = false;

  constructor(
    private readonly owner: CallOwner,
    private readonly stream: http2.ServerHttp2Stream,
    private readonly headers: http2.IncomingHttpHeaders,
    readonly path: string,
    private readonly method: MethodHandler,
  ) {
    const t = headers['grpc-timeout'];
    this.timeoutMs = typeof t === 'string' ? parseGrpcTimeout(t) : undefined;
    this.deadline = this.timeoutMs === undefined ? undefined : performance.now() + this.timeoutMs;
  }

  start(): void {
    const stream = this.stream;
    const t = this.headers['grpc-timeout'];
    if (t !== undefined && this.timeoutMs === undefined) {
      trailersOnly(stream, Status.INTERNAL, `malformed grpc-timeout: ${String(t)}`);
      return;
    }
    this.owner.callStarted(this);
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('end', () => this.onEnd());
    stream.on('close', () => this.onClose());
    stream.once('wantTrailers', () => this.onWantTrailers());
    if (this.timeoutMs !== undefined && this.timeoutMs <= MAX_TIMER_MS) {
      this.timer = setTimeout(
        () => this.finishError(Status.DEADLINE_EXCEEDED, 'context deadline exceeded'),
        this.timeoutMs,
      );
    }
    const m = this.method;
    if (m.kind === 'clientStream') this.settle(() => m.handler(this));
    else if (m.kind === 'bidi') this.settle(() => m.handler(this));
  }

  // ---- GrpcCall ----

  get metadata(): Readonly<Record<string, string>> {
    if (this.meta === undefined) this.parseMetadata();
    return this.meta!;
  }

  get binaryMetadata(): Readonly<Record<string, Uint8Array>> {
    if (this.binMeta === undefined) this.parseMetadata();
    return this.binMeta!;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  get peer(): string {
    const s = this.stream.session?.socket;
    return s === undefined ? '' : `${s.remoteAddress}:${s.remotePort}`;
  }

  private parseMetadata(): void {
    const meta: Record<string, string> = {};
    const bin: Record<string, Uint8Array> = {};
    for (const k of Object.keys(this.headers)) {
      if (k.charCodeAt(0) === 0x3a /* ':' */ || NOT_METADATA.has(k)) continue;
      const v = this.headers[k];
      if (v === undefined) continue;
      const s = Array.isArray(v) ? v.join(',') : v;
      if (k.endsWith('-bin'))
        bin[k] = Buffer.concat(s.split(',').map((p) => Buffer.from(p.trim(), 'base64')));
      else meta[k] = s;
    }
    this.meta = meta;
    this.binMeta = bin;
  }

  // ---- sending ----

  sendHeaders(): void {
    if (this.headersSent || this.done || this.stream.destroyed) return;
    this.headersSent = true;
    this.stream.respond(RESPONSE_HEADERS, RESPOND_OPTIONS);
  }

  send(framed: Uint8Array): boolean {
    if (this.done || this.stream.destroyed) return false;
    fillPrefix(framed);
    this.sendHeaders();
    return this.stream.write(framed);
  }

  drain(): Promise<void> {
    if (this.done || !this.stream.writableNeedDrain) return Promise.resolve();
    if (this.drainWaiters === undefined) {
      this.drainWaiters = [];
      this.stream.on('drain', () => this.wakeDrainWaiters());
    }
    const waiters = this.drainWaiters;
    return new Promise((resolve) => waiters.push(resolve));
  }

  private wakeDrainWaiters(): void {
    const w = this.drainWaiters;
    if (w === undefined || w.length === 0) return;
    this.drainWaiters = [];
    for (const f of w) f();
  }

  // ---- receiving ----

  private onData(chunk: Buffer): void {
    let off = 0;
    const n = chunk.length;
    while (off < n && !this.done) {
      const body = this.body;
      if (body !== null) {
        const take = Math.min(body.length - this.bodyFill, n - off);
        chunk.copy(body, this.bodyFill, off, off + take);
        this.bodyFill += take;
        off += take;
        if (this.bodyFill === body.length) {
          this.body = null;
          this.onMessage(body);
        }
        continue;
      }
      let flag: number;
      let len: number;
      if (this.prefixFill === 0 && n - off >= FRAME_HEADER_BYTES) {
        flag = chunk[off]!;
        len = chunk.readUInt32BE(off + 1);
        off += FRAME_HEADER_BYTES;
      } else {
        const take = Math.min(FRAME_HEADER_BYTES - this.prefixFill, n - off);
        chunk.copy(this.prefix, this.prefixFill, off, off + take);
        this.prefixFill += take;
        off += take;
        if (this.prefixFill < FRAME_HEADER_BYTES) return;
        this.prefixFill = 0;
        flag = this.prefix[0]!;
        len = this.prefix.readUInt32BE(1);
      }
      if (!this.checkFrame(flag, len)) return;
      if (n - off >= len) {
        // The whole message is in this chunk: pass a view, no copy.
        const msg = len === 0 ? EMPTY : chunk.subarray(off, off + len);
        off += len;
        this.onMessage(msg);
      } else {
        this.body = Buffer.allocUnsafe(len);
        this.bodyFill = 0;
      }
    }
  }

  /** Validates a message prefix the way grpc-go's receiver does; false after failing the call. */
  private checkFrame(flag: number, len: number): boolean {
    if (flag === 1) {
      const enc = this.headers['grpc-encoding'];
      if (enc === undefined || enc === 'identity') {
        this.finishError(Status.INTERNAL, 'grpc: compressed flag set with identity or empty encoding');
      } else {
        this.finishError(
          Status.UNIMPLEMENTED,
          `grpc: Decompressor is not installed for grpc-encoding "${enc}"`,
        );
      }
      return false;
    }
    if (flag !== 0) {
      this.finishError(Status.INTERNAL, `grpc: received unexpected payload format ${flag}`);
      return false;
    }
    const max = this.owner.maxReceiveMessageBytes;
    if (len > max) {
      this.finishError(
        Status.RESOURCE_EXHAUSTED,
        `grpc: received message larger than max (${len} vs. ${max})`,
      );
      return false;
    }
    return true;
  }

  private onMessage(msg: Uint8Array): void {
    const m = this.method;
    if (m.kind === 'unary' || m.kind === 'serverStream') {
      if (this.dispatched) return; // like grpc-go, a unary-request method reads one message
      this.dispatched = true;
      if (m.kind === 'unary') this.settle(() => m.handler(msg, this));
      else this.settle(() => m.handler(msg, this));
      return;
    }
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      w({ done: false, value: msg });
      return;
    }
    this.queue.push(msg);
    if (this.queue.length - this.queueHead >= QUEUE_HIGH_WATER && !this.paused) {
      this.paused = true;
      this.stream.pause();
    }
  }

  private onEnd(): void {
    this.inputEnded = true;
    if (this.done) return;
    if (this.prefixFill !== 0 || this.body !== null) {
      this.finishError(Status.INTERNAL, 'unexpected EOF');
      return;
    }
    const k = this.method.kind;
    if ((k === 'unary' || k === 'serverStream') && !this.dispatched) {
      this.finishError(Status.INTERNAL, 'unexpected EOF');
      return;
    }
    this.wakeReader();
  }

  private wakeReader(): void {
    const w = this.waiter;
    if (w !== null && this.queueHead === this.queue.length) {
      this.waiter = null;
      w(DONE);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return {
      next: () => this.nextMessage(),
      return: () => {
        this.inputEnded = true;
        this.queue = [];
        this.queueHead = 0;
        if (this.paused) this.stream.resume();
        return Promise.resolve(DONE);
      },
    };
  }

  private nextMessage(): Promise<IteratorResult<Uint8Array>> {
    const q = this.queue;
    if (this.queueHead < q.length) {
      const value = q[this.queueHead++]!;
      if (this.queueHead === q.length) {
        this.queue = [];
        this.queueHead = 0;
      }
      if (this.paused && q.length - this.queueHead < QUEUE_HIGH_WATER / 2) {
        this.paused = false;
        this.stream.resume();
      }
      return Promise.resolve({ done: false, value });
    }
    if (this.inputEnded || this.done) return Promise.resolve(DONE);
    if (this.waiter !== null)
      return Promise.reject(new Error('grpc: concurrent reads of one request stream'));
    return new Promise((resolve) => (this.waiter = resolve));
  }

  // ---- ending ----

  /** Runs a handler and ends the call with its outcome. */
  private settle(run: () => Uint8Array | void | Promise<Uint8Array | void>): void {
    let r: Uint8Array | void | Promise<Uint8Array | void>;
    try {
      r = run();
    } catch (err) {
      this.fail(err);
      return;
    }
    if (r instanceof Promise) {
      r.then(
        (v) => this.complete(v),
        (err: unknown) => this.fail(err),
      );
    } else this.complete(r);
  }

  private complete(v: Uint8Array | void): void {
    if (this.done) return;
    const k = this.method.kind;
    if (k === 'unary' || k === 'clientStream') {
      if (!(v instanceof Uint8Array) || v.length < FRAME_HEADER_BYTES) {
        this.finishError(Status.INTERNAL, 'grpc: handler returned no framed response');
        return;
      }
      fillPrefix(v);
      this.sendHeaders();
      this.end();
      this.stream.end(v);
      return;
    }
    this.sendHeaders();
    this.end();
    this.stream.end();
  }

  private fail(err: unknown): void {
    if (isGrpcError(err)) {
      this.finishError(err.code, err.message);
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    if (!this.done) this.owner.logger.warn('grpc handler failed', { method: this.path, error: message });
    this.finishError(Status.UNKNOWN, message);
  }

  /** Ends the call with a non-OK status (Trailers-Only if nothing was sent yet) and aborts the signal. */
  finishError(code: StatusCode, message: string): void {
    if (this.done) return;
    this.end();
    this.abort(new GrpcError(code, message));
    const stream = this.stream;
    if (stream.destroyed || stream.closed) return;
    if (!this.headersSent) {
      this.headersSent = true;
      trailersOnly(stream, code, message);
    } else {
      this.trailers = { 'grpc-status': String(code), 'grpc-message': grpcMessageEncode(message) };
      stream.end();
    }
  }

  /** Hard stop (server shutdown): the connection is about to be destroyed. */
  cancel(message: string): void {
    if (this.done) return;
    this.end();
    this.abort(new GrpcError(Status.UNAVAILABLE, message));
  }

  private end(): void {
    this.done = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.wakeDrainWaiters();
    this.wakeReader();
    this.owner.callEnded(this);
  }

  private abort(reason: GrpcError): void {
    if (this.abortReason !== undefined) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }

  private onWantTrailers(): void {
    if (!this.stream.destroyed) this.stream.sendTrailers(this.trailers);
  }

  private onClose(): void {
    if (!this.done) {
      // The client reset the stream or the connection went away before the call ended.
      this.end();
      this.abort(new GrpcError(Status.CANCELLED, 'context canceled'));
    }
    this.owner.callEnded(this);
  }
}
