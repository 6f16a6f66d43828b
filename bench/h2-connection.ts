// A lean HTTP/2 client connection (h2c, prior knowledge) for gRPC unary calls, written on
// node:net because node:http2's per-stream objects cost ~80 µs of CPU per request on this
// machine, which would make the load generator, not the server, the thing being measured.
// It sends pre-encoded request templates, batches every request issued in one event-loop turn
// into one socket write, honours the peer's flow control and stream limit, answers SETTINGS and
// PING, keeps the HPACK decoder in step, and reports every failure (RST_STREAM, GOAWAY, a missing
// or non-zero grpc-status, a malformed reply) to the call instead of dropping it. Frame reading,
// SETTINGS, PING, GOAWAY parsing and HPACK are h2-base.ts, shared with the Watch client.
import type net from 'node:net';
import type { HeaderList } from '../src/platform/hpack.js';
import { H2Base } from './h2-base.js';
import { type RequestTemplate, writeUint32 } from './h2-frames.js';
import { GrpcCall, TRANSPORT_ERROR } from './grpc-call.js';
import { writeDecimal, type PreparedRequest } from './request.js';

const OUT_CHUNK_BYTES = 64 * 1024;

interface Queued {
  call: GrpcCall;
  tpl: RequestTemplate;
  key: number;
}

/** What the load worker needs from a client connection, raw or node:http2. */
export interface GrpcConnection {
  request(call: GrpcCall, req: PreparedRequest, key?: number): void;
  /** Closes the connection; calls still open finish with TRANSPORT_ERROR and `reason`. */
  close(reason?: string): void;
}

/** Unary calls; replies are small, so streams never need a WINDOW_UPDATE from us (STREAM_RECV_WINDOW). */
export class H2Connection extends H2Base implements GrpcConnection {
  private readonly streams = new Map<number, GrpcCall>();
  private readonly queue: Queued[] = [];
  private nextStreamId = 1;
  private out = Buffer.allocUnsafe(OUT_CHUNK_BYTES);
  private outStart = 0;
  private outPos = 0;
  private inData = false;
  private flushQueued = false;

  private constructor(socket: net.Socket) {
    super(socket);
    this.start();
    this.flush();
  }

  /**
   * Opens a TCP connection and sends the HTTP/2 preface; resolves once the server's first
   * SETTINGS frame has arrived, so the first requests already respect its stream limit.
   */
  static connect(host: string, port: number, timeoutMs = 10_000): Promise<H2Connection> {
    return H2Base.open(host, port, timeoutMs, (socket) => new H2Connection(socket));
  }

  get activeStreams(): number {
    return this.streams.size;
  }

  /**
   * Starts a call with `req`'s template; for templates with a key slot, `key` is written into it as
   * zero-padded decimal. The bytes go out at the end of this event-loop turn.
   */
  request(call: GrpcCall, req: PreparedRequest, key = 0): void {
    const tpl = req.template;
    call.begin();
    if (this.dead !== null) {
      const reason = this.dead;
      queueMicrotask(() => call.finish(TRANSPORT_ERROR, reason));
      return;
    }
    if (this.queue.length > 0 || !this.canSend(tpl)) {
      this.queue.push({ call, tpl, key });
      return;
    }
    this.send(call, tpl, key);
  }

  private canSend(tpl: RequestTemplate): boolean {
    return this.sendWindow >= tpl.dataLength && this.streams.size < this.peerMaxStreamsValue;
  }

  private send(call: GrpcCall, tpl: RequestTemplate, key: number): void {
    if (tpl.dataLength > this.peerInitialWindow) {
      call.finish(TRANSPORT_ERROR, `request of ${tpl.dataLength} bytes exceeds the peer's stream window`);
      return;
    }
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const p = this.reserve(tpl.bytes.length);
    this.out.set(tpl.bytes, p);
    writeUint32(this.out, p + tpl.streamIdOffsets[0], id);
    writeUint32(this.out, p + tpl.streamIdOffsets[1], id);
    if (tpl.keyOffset >= 0) writeDecimal(this.out, p + tpl.keyOffset, tpl.keyLength, key);
    this.sendWindow -= tpl.dataLength;
    this.streams.set(id, call);
  }

  private drainQueue(): void {
    while (this.queue.length > 0 && this.dead === null) {
      const q = this.queue[0] as Queued;
      if (!this.canSend(q.tpl)) return;
      this.queue.shift();
      this.send(q.call, q.tpl, q.key);
    }
  }

  /** The connection failed: calls still open or queued finish with a transport error. */
  protected failStreams(reason: string): void {
    const calls = [...this.streams.values(), ...this.queue.map((q) => q.call)];
    this.streams.clear();
    this.queue.length = 0;
    for (const c of calls) c.finish(TRANSPORT_ERROR, reason);
  }

  private reserve(n: number): number {
    if (this.outPos + n > this.out.length) {
      this.flush();
      this.out = Buffer.allocUnsafe(Math.max(OUT_CHUNK_BYTES, n));
      this.outStart = 0;
      this.outPos = 0;
    }
    const p = this.outPos;
    this.outPos += n;
    if (!this.inData && !this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
    return p;
  }

  protected write(b: Uint8Array): void {
    const p = this.reserve(b.length);
    this.out.set(b, p);
  }

  /** Hands everything written since the last flush to the socket in one write. */
  flush(): void {
    this.flushQueued = false;
    if (this.outPos === this.outStart || this.socket.destroyed) return;
    // The region handed over is never written again: later bytes go after outPos or to a new chunk.
    this.socket.write(this.out.subarray(this.outStart, this.outPos));
    this.outStart = this.outPos;
  }

  protected override onData(chunk: Buffer): void {
    this.inData = true;
    try {
      super.onData(chunk);
    } finally {
      this.inData = false;
      this.flush();
    }
  }

  protected onStreamData(
    streamId: number,
    b: Buffer,
    from: number,
    to: number,
    _flowLen: number,
    endStream: boolean,
  ): void {
    const call = this.streams.get(streamId);
    if (call === undefined) return;
    call.onBody(b, from, to);
    if (endStream) this.finishStream(streamId, TRANSPORT_ERROR, 'stream ended without trailers');
  }

  protected onStreamHeaders(streamId: number, headers: HeaderList, endStream: boolean): void {
    const call = this.streams.get(streamId);
    if (call === undefined) return;
    call.onHeaders(headers);
    if (endStream) {
      this.streams.delete(streamId);
      call.onTrailers(headers);
      this.drainQueue();
    }
  }

  protected onStreamReset(streamId: number, reason: string): void {
    this.finishStream(streamId, TRANSPORT_ERROR, reason);
  }

  protected onWindowOpen(): void {
    this.drainQueue();
  }

  private finishStream(streamId: number, status: number, message: string): void {
    const call = this.streams.get(streamId);
    if (call === undefined) return;
    this.streams.delete(streamId);
    call.finish(status, message);
    this.drainQueue();
  }

  /** Calls the server did not process finish now; those it did may still complete. */
  protected onGoAway(lastStream: number, reason: string): void {
    for (const [id, call] of [...this.streams]) {
      if (id > lastStream) {
        this.streams.delete(id);
        call.finish(TRANSPORT_ERROR, reason);
      }
    }
    for (const q of this.queue.splice(0)) q.call.finish(TRANSPORT_ERROR, reason);
  }
}
