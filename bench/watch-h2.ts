// A lean HTTP/2 client connection (h2c, prior knowledge) for long-lived gRPC bidi streams, the
// Watch benchmark's client, on node:net like h2-connection.ts (which does unary calls only); the
// connection-level machinery both share (frame reading, SETTINGS, PING, GOAWAY, HPACK) is h2-base.ts.
// Each stream sends gRPC messages as DATA frames under the peer's connection and stream windows,
// and hands every received message to its handler with the time its bytes were read from the
// socket (one performance.now() per socket read, so parsing a burst does not inflate the times
// of the messages behind it). Receive windows are topped up with WINDOW_UPDATE as messages are
// consumed, SETTINGS and PING are answered, the HPACK decoder is kept in step, and every way a
// stream can end (trailers, RST_STREAM, GOAWAY, connection loss, malformed framing) is reported
// to its handler with the reason, never dropped.
import type net from 'node:net';
import { encodeLiteralHeaders, type HeaderList } from '../src/platform/hpack.js';
import { decodeGrpcMessage } from './grpc-call.js';
import { H2Base, RECV_TOPUP } from './h2-base.js';
import {
  encodeFrame,
  encodeWindowUpdate,
  Flag,
  FRAME_HEADER_BYTES,
  FrameType,
  grpcRequestHeaders,
  readUint32,
  writeFrameHeader,
} from './h2-frames.js';

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

export class H2StreamConnection extends H2Base {
  private readonly streams = new Map<number, StreamState>();
  /** Streams with bytes waiting for flow-control window, in the order they queued. */
  private readonly blocked = new Set<StreamState>();
  private nextStreamId = 1;
  private outParts: Uint8Array[] = [];
  private flushQueued = false;
  /** performance.now() when the socket read being parsed returned. */
  private recvMs = 0;
  /** Bytes read from the socket, for the report. */
  bytesRead = 0;

  private constructor(
    socket: net.Socket,
    private readonly authority: string,
  ) {
    super(socket);
    this.start();
  }

  /** Connects and resolves once the server's first SETTINGS arrived (so its limits are known). */
  static connect(host: string, port: number, timeoutMs = 10_000): Promise<H2StreamConnection> {
    return H2Base.open(host, port, timeoutMs, (socket) => new H2StreamConnection(socket, `${host}:${port}`));
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

  protected write(b: Uint8Array): void {
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

  protected failStreams(reason: string): void {
    const streams = [...this.streams.values()];
    this.streams.clear();
    this.blocked.clear();
    for (const s of streams) s.handler.onClose(reason);
  }

  protected override onData(chunk: Buffer): void {
    this.recvMs = performance.now();
    this.bytesRead += chunk.length;
    super.onData(chunk);
  }

  protected onStreamReset(streamId: number, reason: string): void {
    this.closeStream(streamId, reason);
  }

  protected onGoAway(_lastStream: number, reason: string): void {
    this.fail(reason);
    this.socket.destroy();
  }

  protected onWindowOpen(): void {
    this.pump();
  }

  protected override onInitialWindowChange(delta: number): void {
    for (const s of this.streams.values()) s.sendWindow += delta;
  }

  protected override onStreamWindowUpdate(streamId: number, increment: number): void {
    const s = this.streams.get(streamId);
    if (s === undefined) return;
    s.sendWindow += increment;
    this.pump();
  }

  protected onStreamData(
    streamId: number,
    b: Buffer,
    from: number,
    to: number,
    flowLen: number,
    endStream: boolean,
  ): void {
    const s = this.streams.get(streamId);
    if (s === undefined) return;
    s.recvUnacked += flowLen;
    if (s.recvUnacked >= RECV_TOPUP) {
      this.write(encodeWindowUpdate(streamId, s.recvUnacked));
      s.recvUnacked = 0;
    }
    this.deliver(s, b, from, to, this.recvMs);
    if (endStream) this.closeStream(streamId, 'the server ended the stream without trailers');
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

  protected onStreamHeaders(streamId: number, h: HeaderList, endStream: boolean): void {
    const s = this.streams.get(streamId);
    if (s === undefined) return;
    const get = (name: string): string | undefined => {
      for (let i = 0; i < h.length; i += 2) if (h[i] === name) return h[i + 1];
      return undefined;
    };
    if (!s.gotHeaders) {
      s.gotHeaders = true;
      const status = get(':status');
      if (status !== '200') return this.closeStream(streamId, `HTTP status ${status ?? '(none)'}`);
    }
    if (endStream) {
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
}
