// A lean HTTP/2 client connection (h2c, prior knowledge) for gRPC unary calls, written on
// node:net because node:http2's per-stream objects cost ~80 µs of CPU per request on this
// machine, which would make the load generator, not the server, the thing being measured.
// It sends pre-encoded request templates, batches every request issued in one event-loop turn
// into one socket write, honours the peer's flow control and stream limit, answers SETTINGS and
// PING, keeps the HPACK decoder in step, and reports every failure (RST_STREAM, GOAWAY, a missing
// or non-zero grpc-status, a malformed reply) to the call instead of dropping it.
import net from 'node:net';
import { HpackDecoder, type HeaderList } from '../src/platform/hpack.js';
import {
  DEFAULT_WINDOW,
  encodeSettings,
  encodeWindowUpdate,
  Flag,
  FRAME_HEADER_BYTES,
  FrameType,
  PREFACE,
  readUint32,
  type RequestTemplate,
  Setting,
  writeFrameHeader,
  writeUint32,
} from './h2-frames.js';
import { GrpcCall, TRANSPORT_ERROR } from './grpc-call.js';
import { writeDecimal, type PreparedRequest } from './request.js';

/** Our per-stream receive window; replies are small, so streams never need a WINDOW_UPDATE. */
const STREAM_RECV_WINDOW = 1 << 24;
/** Our connection receive window, and the unacknowledged bytes at which we top it up. */
const CONN_RECV_WINDOW = 1 << 30;
const CONN_RECV_TOPUP = 1 << 20;
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

export class H2Connection implements GrpcConnection {
  private readonly socket: net.Socket;
  private readonly hpack = new HpackDecoder();
  private readonly streams = new Map<number, GrpcCall>();
  private readonly queue: Queued[] = [];
  private nextStreamId = 1;
  private sendWindow = DEFAULT_WINDOW;
  private peerStreamWindow = DEFAULT_WINDOW;
  private peerMaxStreams = Infinity;
  private recvUnacked = 0;
  private out = Buffer.allocUnsafe(OUT_CHUNK_BYTES);
  private outStart = 0;
  private outPos = 0;
  private inData = false;
  private flushQueued = false;
  private pending: Buffer | null = null;
  private headerBlock: Buffer[] = [];
  private headerStream = 0;
  private headerEndStream = false;
  private readonly headers: HeaderList = [];
  private dead: string | null = null;
  private goAwayLastStream = 0x7fffffff;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(`connection error: ${err.message}`));
    socket.on('close', () => this.fail('connection closed by peer'));
    this.writeBytes(PREFACE);
    this.writeBytes(
      encodeSettings([
        [Setting.EnablePush, 0],
        [Setting.InitialWindowSize, STREAM_RECV_WINDOW],
      ]),
    );
    this.writeBytes(encodeWindowUpdate(0, CONN_RECV_WINDOW - DEFAULT_WINDOW));
    this.flush();
  }

  /**
   * Opens a TCP connection and sends the HTTP/2 preface; resolves once the server's first
   * SETTINGS frame has arrived, so the first requests already respect its stream limit.
   */
  static connect(host: string, port: number, timeoutMs = 10_000): Promise<H2Connection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no HTTP/2 SETTINGS from ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onError = (err: Error): void => {
        clearTimeout(timer);
        reject(err);
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        const conn = new H2Connection(socket);
        conn.onSettled = (err) => {
          clearTimeout(timer);
          if (err === null) resolve(conn);
          else reject(new Error(err));
        };
      });
    });
  }

  /** Told once: null when the peer's first SETTINGS arrived, or why the connection died first. */
  private onSettled: ((err: string | null) => void) | null = null;
  private settled = false;

  private settle(err: string | null): void {
    if (this.settled) return;
    this.settled = true;
    this.onSettled?.(err);
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
    return this.sendWindow >= tpl.dataLength && this.streams.size < this.peerMaxStreams;
  }

  private send(call: GrpcCall, tpl: RequestTemplate, key: number): void {
    if (tpl.dataLength > this.peerStreamWindow) {
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

  /** Closes the connection; calls still open finish with a transport error. */
  close(reason = 'connection closed by the client'): void {
    this.fail(reason);
    this.socket.destroy();
  }

  private fail(reason: string): void {
    if (this.dead === null) this.dead = reason;
    this.settle(reason);
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

  private writeBytes(b: Uint8Array): void {
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

  private onData(chunk: Buffer): void {
    let buf = chunk;
    if (this.pending !== null) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    this.inData = true;
    try {
      let p = 0;
      while (buf.length - p >= FRAME_HEADER_BYTES) {
        const len = ((buf[p] as number) << 16) | ((buf[p + 1] as number) << 8) | (buf[p + 2] as number);
        if (buf.length - p < FRAME_HEADER_BYTES + len) break;
        const type = buf[p + 3] as number;
        const flags = buf[p + 4] as number;
        const streamId = readUint32(buf, p + 5) & 0x7fffffff;
        this.onFrame(type, flags, streamId, buf, p + FRAME_HEADER_BYTES, p + FRAME_HEADER_BYTES + len);
        p += FRAME_HEADER_BYTES + len;
      }
      if (p < buf.length) this.pending = buf.subarray(p);
    } catch (err) {
      this.fail(`protocol error: ${(err as Error).message}`);
      this.socket.destroy();
    } finally {
      this.inData = false;
      this.flush();
    }
  }

  private onFrame(
    type: number,
    flags: number,
    streamId: number,
    b: Buffer,
    start: number,
    end: number,
  ): void {
    if (this.headerStream !== 0 && type !== FrameType.Continuation) {
      throw new Error(`frame type ${type} inside a header block`);
    }
    switch (type) {
      case FrameType.Data:
        return this.onDataFrame(flags, streamId, b, start, end);
      case FrameType.Headers: {
        let s = start;
        let e = end;
        if (flags & Flag.Padded) {
          e -= b[s] as number;
          s += 1;
        }
        if (flags & Flag.Priority) s += 5;
        if (s > e) throw new Error('HEADERS padding exceeds the frame');
        this.headerStream = streamId;
        this.headerEndStream = (flags & Flag.EndStream) !== 0;
        this.headerBlock = [b.subarray(s, e)];
        if (flags & Flag.EndHeaders) this.onHeaderBlock();
        return;
      }
      case FrameType.Continuation:
        if (streamId !== this.headerStream) throw new Error('CONTINUATION on another stream');
        this.headerBlock.push(b.subarray(start, end));
        if (flags & Flag.EndHeaders) this.onHeaderBlock();
        return;
      case FrameType.RstStream:
        return this.finishStream(
          streamId,
          TRANSPORT_ERROR,
          `RST_STREAM with error code ${readUint32(b, start)}`,
        );
      case FrameType.Settings:
        if ((flags & Flag.Ack) === 0) this.onSettings(b, start, end);
        return;
      case FrameType.Ping:
        if ((flags & Flag.Ack) === 0) {
          const p = this.reserve(FRAME_HEADER_BYTES + 8);
          writeFrameHeader(this.out, p, 8, FrameType.Ping, Flag.Ack, 0);
          this.out.set(b.subarray(start, end), p + FRAME_HEADER_BYTES);
        }
        return;
      case FrameType.GoAway:
        return this.onGoAway(b, start, end);
      case FrameType.WindowUpdate:
        if (streamId === 0) {
          this.sendWindow += readUint32(b, start) & 0x7fffffff;
          this.drainQueue();
        }
        return;
      case FrameType.PushPromise:
        throw new Error('PUSH_PROMISE although push is disabled');
      default:
        return; // PRIORITY and unknown frame types are ignored (RFC 9113 §4.1).
    }
  }

  private onDataFrame(flags: number, streamId: number, b: Buffer, start: number, end: number): void {
    this.recvUnacked += end - start;
    if (this.recvUnacked >= CONN_RECV_TOPUP) {
      this.writeBytes(encodeWindowUpdate(0, this.recvUnacked));
      this.recvUnacked = 0;
    }
    let s = start;
    let e = end;
    if (flags & Flag.Padded) {
      e -= b[s] as number;
      s += 1;
    }
    const call = this.streams.get(streamId);
    if (call === undefined) return;
    call.onBody(b, s, e);
    if (flags & Flag.EndStream) this.finishStream(streamId, TRANSPORT_ERROR, 'stream ended without trailers');
  }

  private onHeaderBlock(): void {
    const block =
      this.headerBlock.length === 1 ? (this.headerBlock[0] as Buffer) : Buffer.concat(this.headerBlock);
    const streamId = this.headerStream;
    this.headerStream = 0;
    this.headerBlock = [];
    this.headers.length = 0;
    // Decode even for streams we no longer track, to keep the HPACK table in step with the peer.
    this.hpack.decode(block, 0, block.length, this.headers);
    const call = this.streams.get(streamId);
    if (call === undefined) return;
    call.onHeaders(this.headers);
    if (this.headerEndStream) {
      this.streams.delete(streamId);
      call.onTrailers(this.headers);
      this.drainQueue();
    }
  }

  private finishStream(streamId: number, status: number, message: string): void {
    const call = this.streams.get(streamId);
    if (call === undefined) return;
    this.streams.delete(streamId);
    call.finish(status, message);
    this.drainQueue();
  }

  private onSettings(b: Buffer, start: number, end: number): void {
    for (let p = start; p + 6 <= end; p += 6) {
      const id = ((b[p] as number) << 8) | (b[p + 1] as number);
      const value = readUint32(b, p + 2);
      if (id === Setting.MaxConcurrentStreams) this.peerMaxStreams = value;
      if (id === Setting.InitialWindowSize) this.peerStreamWindow = value;
    }
    const p = this.reserve(FRAME_HEADER_BYTES);
    writeFrameHeader(this.out, p, 0, FrameType.Settings, Flag.Ack, 0);
    this.settle(null);
    this.drainQueue();
  }

  private onGoAway(b: Buffer, start: number, end: number): void {
    this.goAwayLastStream = readUint32(b, start) & 0x7fffffff;
    const code = readUint32(b, start + 4);
    const debug = b.subarray(start + 8, end).toString('latin1');
    this.dead = `GOAWAY error code ${code}${debug ? `: ${debug}` : ''}`;
    for (const [id, call] of [...this.streams]) {
      if (id > this.goAwayLastStream) {
        this.streams.delete(id);
        call.finish(TRANSPORT_ERROR, this.dead);
      }
    }
    for (const q of this.queue.splice(0)) q.call.finish(TRANSPORT_ERROR, this.dead);
  }
}
