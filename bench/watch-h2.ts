// A lean HTTP/2 client connection (h2c, prior knowledge) for long-lived gRPC bidi streams, the
// Watch benchmark's client, on node:net like h2-connection.ts (which does unary calls only).
// Each stream sends gRPC messages as DATA frames under the peer's connection and stream windows,
// and hands every received message to its handler with the time its bytes were read from the
// socket (one performance.now() per socket read, so parsing a burst does not inflate the times
// of the messages behind it). Receive windows are topped up with WINDOW_UPDATE as messages are
// consumed, SETTINGS and PING are answered, the HPACK decoder is kept in step, and every way a
// stream can end (trailers, RST_STREAM, GOAWAY, connection loss, malformed framing) is reported
// to its handler with the reason, never dropped.
import net from 'node:net';
import { encodeLiteralHeaders, HpackDecoder, type HeaderList } from '../src/platform/hpack.js';
import { decodeGrpcMessage } from './grpc-call.js';
import {
  DEFAULT_WINDOW,
  encodeFrame,
  encodeSettings,
  encodeWindowUpdate,
  Flag,
  FRAME_HEADER_BYTES,
  FrameType,
  grpcRequestHeaders,
  MIN_MAX_FRAME_SIZE,
  PREFACE,
  readUint32,
  Setting,
  writeFrameHeader,
} from './h2-frames.js';

/** Our initial per-stream receive window, and the consumed bytes at which we top a window up. */
const STREAM_RECV_WINDOW = 1 << 24;
const CONN_RECV_WINDOW = 1 << 30;
const RECV_TOPUP = 1 << 20;

export interface StreamHandler {
  /**
   * One gRPC message (without its 5-byte prefix). `msg` is a view valid only during the call;
   * `recvMs` is performance.now() when the socket read that completed it returned.
   */
  onMessage(msg: Uint8Array, recvMs: number): void;
  /** The stream ended (server trailers, RST_STREAM, GOAWAY, connection loss); `reason` says how. */
  onClose(reason: string): void;
}

interface StreamState {
  readonly id: number;
  readonly handler: StreamHandler;
  sendWindow: number;
  /** Bytes waiting for send window, oldest first; `outOffset` into the first. */
  out: Uint8Array[];
  outOffset: number;
  recvUnacked: number;
  /** Bytes of an incomplete gRPC message carried over from earlier DATA frames. */
  partial: Buffer | null;
  gotHeaders: boolean;
}

export class H2StreamConnection {
  private readonly socket: net.Socket;
  private readonly hpack = new HpackDecoder();
  private readonly streams = new Map<number, StreamState>();
  /** Streams with bytes waiting for flow-control window, in the order they queued. */
  private readonly blocked = new Set<StreamState>();
  private nextStreamId = 1;
  private sendWindow = DEFAULT_WINDOW;
  private peerInitialWindow = DEFAULT_WINDOW;
  private peerMaxFrame = MIN_MAX_FRAME_SIZE;
  private peerMaxStreamsValue = Infinity;
  private connRecvUnacked = 0;
  private outParts: Uint8Array[] = [];
  private flushQueued = false;
  private pending: Buffer | null = null;
  private headerBlock: Buffer[] = [];
  private headerStream = 0;
  private headerEndStream = false;
  private readonly headers: HeaderList = [];
  private dead: string | null = null;
  private settled = false;
  private onSettled: ((err: string | null) => void) | null = null;
  /** Bytes read from the socket, for the report. */
  bytesRead = 0;

  private constructor(
    socket: net.Socket,
    private readonly authority: string,
  ) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(`connection error: ${err.message}`));
    socket.on('close', () => this.fail('connection closed by peer'));
    this.write(PREFACE);
    this.write(
      encodeSettings([
        [Setting.EnablePush, 0],
        [Setting.InitialWindowSize, STREAM_RECV_WINDOW],
      ]),
    );
    this.write(encodeWindowUpdate(0, CONN_RECV_WINDOW - DEFAULT_WINDOW));
  }

  /** Connects and resolves once the server's first SETTINGS arrived (so its limits are known). */
  static connect(host: string, port: number, timeoutMs = 10_000): Promise<H2StreamConnection> {
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
        const conn = new H2StreamConnection(socket, `${host}:${port}`);
        conn.onSettled = (err) => {
          clearTimeout(timer);
          if (err === null) resolve(conn);
          else reject(new Error(err));
        };
      });
    });
  }

  /** SETTINGS_MAX_CONCURRENT_STREAMS the server announced (Infinity if it set none). */
  get peerMaxStreams(): number {
    return this.peerMaxStreamsValue;
  }

  /** Opens a gRPC call to `path` (HEADERS without END_STREAM); returns the stream id. */
  openStream(path: string, handler: StreamHandler): number {
    if (this.dead !== null) throw new Error(`connection is down: ${this.dead}`);
    if (this.streams.size >= this.peerMaxStreamsValue)
      throw new Error(`the server allows ${this.peerMaxStreamsValue} concurrent streams per connection`);
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const block = encodeLiteralHeaders(grpcRequestHeaders(this.authority, path));
    if (block.length > this.peerMaxFrame) throw new Error('request headers larger than one frame');
    this.write(encodeFrame(FrameType.Headers, Flag.EndHeaders, id, block));
    this.streams.set(id, {
      id,
      handler,
      sendWindow: this.peerInitialWindow,
      out: [],
      outOffset: 0,
      recvUnacked: 0,
      partial: null,
      gotHeaders: false,
    });
    return id;
  }

  /** Queues bytes (gRPC length-prefixed messages) on a stream; they go out as windows allow. */
  send(streamId: number, bytes: Uint8Array): void {
    const s = this.streams.get(streamId);
    if (s === undefined) throw new Error(`stream ${streamId} is not open`);
    if (bytes.length === 0) return;
    s.out.push(bytes);
    this.blocked.add(s);
    this.pump();
  }

  /** Closes the connection; open streams are told `reason`. */
  close(reason = 'connection closed by the client'): void {
    this.fail(reason);
    this.socket.destroy();
  }

  /** Sends whatever the windows allow, streams taking turns frame by frame. */
  private pump(): void {
    while (this.blocked.size > 0 && this.sendWindow > 0 && this.dead === null) {
      let progressed = false;
      for (const s of this.blocked) {
        if (this.sendWindow <= 0) break;
        if (s.sendWindow <= 0) continue;
        const chunk = s.out[0] as Uint8Array;
        const n = Math.min(chunk.length - s.outOffset, this.sendWindow, s.sendWindow, this.peerMaxFrame);
        const frame = new Uint8Array(FRAME_HEADER_BYTES + n);
        writeFrameHeader(frame, 0, n, FrameType.Data, 0, s.id);
        frame.set(chunk.subarray(s.outOffset, s.outOffset + n), FRAME_HEADER_BYTES);
        this.write(frame);
        this.sendWindow -= n;
        s.sendWindow -= n;
        s.outOffset += n;
        progressed = true;
        if (s.outOffset === chunk.length) {
          s.out.shift();
          s.outOffset = 0;
          if (s.out.length === 0) this.blocked.delete(s);
        }
      }
      if (!progressed) return;
    }
  }

  private write(b: Uint8Array): void {
    this.outParts.push(b);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.outParts.length === 0 || this.socket.destroyed) return;
    const parts = this.outParts;
    this.outParts = [];
    this.socket.write(parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts));
  }

  private fail(reason: string): void {
    if (this.dead === null) this.dead = reason;
    this.settle(reason);
    const streams = [...this.streams.values()];
    this.streams.clear();
    this.blocked.clear();
    for (const s of streams) s.handler.onClose(reason);
  }

  private settle(err: string | null): void {
    if (this.settled) return;
    this.settled = true;
    this.onSettled?.(err);
  }

  private onData(chunk: Buffer): void {
    const recvMs = performance.now();
    this.bytesRead += chunk.length;
    let buf = chunk;
    if (this.pending !== null) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    try {
      let p = 0;
      while (buf.length - p >= FRAME_HEADER_BYTES) {
        const len = ((buf[p] as number) << 16) | ((buf[p + 1] as number) << 8) | (buf[p + 2] as number);
        if (buf.length - p < FRAME_HEADER_BYTES + len) break;
        const type = buf[p + 3] as number;
        const flags = buf[p + 4] as number;
        const streamId = readUint32(buf, p + 5) & 0x7fffffff;
        const start = p + FRAME_HEADER_BYTES;
        this.onFrame(type, flags, streamId, buf, start, start + len, recvMs);
        p = start + len;
      }
      if (p < buf.length) this.pending = buf.subarray(p);
    } catch (err) {
      this.fail(`protocol error: ${(err as Error).message}`);
      this.socket.destroy();
    }
  }

  private onFrame(
    type: number,
    flags: number,
    streamId: number,
    b: Buffer,
    start: number,
    end: number,
    recvMs: number,
  ): void {
    if (this.headerStream !== 0 && type !== FrameType.Continuation)
      throw new Error(`frame type ${type} inside a header block`);
    switch (type) {
      case FrameType.Data:
        return this.onDataFrame(flags, streamId, b, start, end, recvMs);
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
        return this.closeStream(streamId, `RST_STREAM with error code ${readUint32(b, start)}`);
      case FrameType.Settings:
        if ((flags & Flag.Ack) === 0) this.onSettings(b, start, end);
        return;
      case FrameType.Ping:
        if ((flags & Flag.Ack) === 0)
          this.write(encodeFrame(FrameType.Ping, Flag.Ack, 0, b.subarray(start, end)));
        return;
      case FrameType.GoAway: {
        const code = readUint32(b, start + 4);
        const debug = b.subarray(start + 8, end).toString('latin1');
        this.fail(`GOAWAY error code ${code}${debug ? `: ${debug}` : ''}`);
        this.socket.destroy();
        return;
      }
      case FrameType.WindowUpdate:
        return this.onWindowUpdate(streamId, readUint32(b, start) & 0x7fffffff);
      case FrameType.PushPromise:
        throw new Error('PUSH_PROMISE although push is disabled');
      default:
        return; // PRIORITY and unknown frame types are ignored (RFC 9113 §4.1).
    }
  }

  private onWindowUpdate(streamId: number, increment: number): void {
    if (streamId === 0) this.sendWindow += increment;
    else {
      const s = this.streams.get(streamId);
      if (s === undefined) return;
      s.sendWindow += increment;
    }
    this.pump();
  }

  private onDataFrame(
    flags: number,
    streamId: number,
    b: Buffer,
    start: number,
    end: number,
    recvMs: number,
  ): void {
    this.connRecvUnacked += end - start;
    if (this.connRecvUnacked >= RECV_TOPUP) {
      this.write(encodeWindowUpdate(0, this.connRecvUnacked));
      this.connRecvUnacked = 0;
    }
    const s = this.streams.get(streamId);
    if (s === undefined) return;
    s.recvUnacked += end - start;
    if (s.recvUnacked >= RECV_TOPUP) {
      this.write(encodeWindowUpdate(streamId, s.recvUnacked));
      s.recvUnacked = 0;
    }
    let from = start;
    let to = end;
    if (flags & Flag.Padded) {
      to -= b[from] as number;
      from += 1;
      if (from > to) throw new Error('DATA padding exceeds the frame');
    }
    this.deliver(s, b, from, to, recvMs);
    if (flags & Flag.EndStream) this.closeStream(streamId, 'the server ended the stream without trailers');
  }

  /** Splits DATA bytes into gRPC messages, carrying an incomplete one over to the next frame. */
  private deliver(s: StreamState, b: Buffer, from: number, to: number, recvMs: number): void {
    let buf = b;
    let p = from;
    let end = to;
    if (s.partial !== null) {
      buf = Buffer.concat([s.partial, b.subarray(from, to)]);
      s.partial = null;
      p = 0;
      end = buf.length;
    }
    while (end - p >= 5) {
      if (buf[p] !== 0) throw new Error(`gRPC message with compressed flag ${buf[p]}`);
      const len = readUint32(buf, p + 1);
      if (end - p - 5 < len) break;
      s.handler.onMessage(buf.subarray(p + 5, p + 5 + len), recvMs);
      if (!this.streams.has(s.id)) return;
      p += 5 + len;
    }
    if (p < end) s.partial = Buffer.from(buf.subarray(p, end));
  }

  private onHeaderBlock(): void {
    const block =
      this.headerBlock.length === 1 ? (this.headerBlock[0] as Buffer) : Buffer.concat(this.headerBlock);
    const streamId = this.headerStream;
    this.headerStream = 0;
    this.headerBlock = [];
    this.headers.length = 0;
    // Decoded even for streams no longer tracked, to keep the HPACK table in step with the peer.
    this.hpack.decode(block, 0, block.length, this.headers);
    const s = this.streams.get(streamId);
    if (s === undefined) return;
    const h = this.headers;
    const get = (name: string): string | undefined => {
      for (let i = 0; i < h.length; i += 2) if (h[i] === name) return h[i + 1];
      return undefined;
    };
    if (!s.gotHeaders) {
      s.gotHeaders = true;
      const status = get(':status');
      if (status !== '200') return this.closeStream(streamId, `HTTP status ${status ?? '(none)'}`);
    }
    if (this.headerEndStream) {
      const code = get('grpc-status');
      const msg = decodeGrpcMessage(get('grpc-message') ?? '');
      this.closeStream(
        streamId,
        `the server ended the stream: grpc-status ${code ?? '(none)'}${msg ? `: ${msg}` : ''}`,
      );
    }
  }

  private closeStream(streamId: number, reason: string): void {
    const s = this.streams.get(streamId);
    if (s === undefined) return;
    this.streams.delete(streamId);
    this.blocked.delete(s);
    s.handler.onClose(reason);
  }

  private onSettings(b: Buffer, start: number, end: number): void {
    for (let p = start; p + 6 <= end; p += 6) {
      const id = ((b[p] as number) << 8) | (b[p + 1] as number);
      const value = readUint32(b, p + 2);
      if (id === Setting.MaxConcurrentStreams) this.peerMaxStreamsValue = value;
      if (id === Setting.MaxFrameSize) this.peerMaxFrame = value;
      if (id === Setting.InitialWindowSize) {
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const s of this.streams.values()) s.sendWindow += delta;
      }
    }
    const ack = new Uint8Array(FRAME_HEADER_BYTES);
    writeFrameHeader(ack, 0, 0, FrameType.Settings, Flag.Ack, 0);
    this.write(ack);
    this.settle(null);
    this.pump();
  }
}
