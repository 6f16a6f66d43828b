// The connection-level half of the bench's two lean HTTP/2 clients (h2c, prior knowledge, on
// node:net): h2-connection.ts (unary load-generator calls) and watch-h2.ts (long-lived Watch
// streams). This base owns what both need identically: the preface and our SETTINGS, the
// connect-and-wait-for-SETTINGS handshake, reading frames out of socket chunks, HEADERS and
// CONTINUATION reassembly with HPACK decoding (kept in step even for streams no longer tracked),
// the peer's SETTINGS (parsed and acknowledged), PING answers, connection receive-window top-ups,
// the connection send window, GOAWAY parsing, and turning every connection failure into one
// reason told to the subclass. Subclasses own their output buffering and all stream logic.
import net from 'node:net';
import { HpackDecoder, type HeaderList } from '../src/platform/hpack.js';
import {
  DEFAULT_WINDOW,
  encodeFrame,
  encodeSettings,
  encodeWindowUpdate,
  Flag,
  FRAME_HEADER_BYTES,
  FrameType,
  MIN_MAX_FRAME_SIZE,
  PREFACE,
  readUint32,
  Setting,
} from './h2-frames.js';

/** Our initial per-stream receive window. */
export const STREAM_RECV_WINDOW = 1 << 24;
/** Our connection receive window, and the unacknowledged bytes at which a window is topped up. */
const CONN_RECV_WINDOW = 1 << 30;
export const RECV_TOPUP = 1 << 20;

export abstract class H2Base {
  protected readonly socket: net.Socket;
  private readonly hpack = new HpackDecoder();
  /** Our connection-level send window (the peer's connection receive window). */
  protected sendWindow = DEFAULT_WINDOW;
  /** The peer's SETTINGS_INITIAL_WINDOW_SIZE, SETTINGS_MAX_FRAME_SIZE and stream limit. */
  protected peerInitialWindow = DEFAULT_WINDOW;
  protected peerMaxFrame = MIN_MAX_FRAME_SIZE;
  protected peerMaxStreamsValue = Infinity;
  /** Why the connection can no longer be used, or null while it can. */
  protected dead: string | null = null;
  private connRecvUnacked = 0;
  private pending: Buffer | null = null;
  private headerBlock: Buffer[] = [];
  private headerStream = 0;
  private headerEndStream = false;
  private readonly headers: HeaderList = [];
  private settled = false;
  /** Told once: null when the peer's first SETTINGS arrived, or why the connection died first. */
  private onSettled: ((err: string | null) => void) | null = null;

  protected constructor(socket: net.Socket) {
    this.socket = socket;
  }

  /** Queues bytes for the socket; subclasses decide how writes are batched. */
  protected abstract write(b: Uint8Array): void;
  /** A DATA frame's payload (padding removed) on `streamId`; `flowLen` counts toward windows. */
  protected abstract onStreamData(
    streamId: number,
    b: Buffer,
    from: number,
    to: number,
    flowLen: number,
    endStream: boolean,
  ): void;
  /** A decoded header block (`headers` valid only during the call); `endStream` marks trailers. */
  protected abstract onStreamHeaders(streamId: number, headers: HeaderList, endStream: boolean): void;
  /** The stream was reset by the peer. */
  protected abstract onStreamReset(streamId: number, reason: string): void;
  /** GOAWAY: `dead` is already set to `reason`; streams above `lastStream` were not processed. */
  protected abstract onGoAway(lastStream: number, reason: string): void;
  /** The connection failed with `reason` (`dead` is set); every open stream must be told. */
  protected abstract failStreams(reason: string): void;
  /** Send window or stream limit may have grown: send what waits. */
  protected abstract onWindowOpen(): void;
  /** A stream-level WINDOW_UPDATE. */
  protected onStreamWindowUpdate(_streamId: number, _increment: number): void {}
  /** The peer changed SETTINGS_INITIAL_WINDOW_SIZE by `delta`; open streams' windows move with it. */
  protected onInitialWindowChange(_delta: number): void {}

  /** Subscribes to the socket and sends the preface, our SETTINGS and connection window. */
  protected start(): void {
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.fail(`connection error: ${err.message}`));
    this.socket.on('close', () => this.fail('connection closed by peer'));
    this.write(PREFACE);
    this.write(
      encodeSettings([
        [Setting.EnablePush, 0],
        [Setting.InitialWindowSize, STREAM_RECV_WINDOW],
      ]),
    );
    this.write(encodeWindowUpdate(0, CONN_RECV_WINDOW - DEFAULT_WINDOW));
  }

  /**
   * Opens a TCP connection, builds the client with `make`, and resolves once the server's first
   * SETTINGS frame has arrived, so its limits are known before the first stream opens.
   */
  protected static open<T extends H2Base>(
    host: string,
    port: number,
    timeoutMs: number,
    make: (socket: net.Socket) => T,
  ): Promise<T> {
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
        const conn = make(socket);
        (conn as H2Base).onSettled = (err) => {
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

  /** Closes the connection; open streams are told `reason`. */
  close(reason = 'connection closed by the client'): void {
    this.fail(reason);
    this.socket.destroy();
  }

  protected fail(reason: string): void {
    if (this.dead === null) this.dead = reason;
    this.settle(reason);
    this.failStreams(reason);
  }

  private settle(err: string | null): void {
    if (this.settled) return;
    this.settled = true;
    this.onSettled?.(err);
  }

  /** Parses every complete frame in `chunk` (plus bytes carried over from the last one). */
  protected onData(chunk: Buffer): void {
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
        this.onFrame(type, flags, streamId, buf, start, start + len);
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
  ): void {
    if (this.headerStream !== 0 && type !== FrameType.Continuation) {
      throw new Error(`frame type ${type} inside a header block`);
    }
    switch (type) {
      case FrameType.Data:
        return this.onDataFrame(flags, streamId, b, start, end);
      case FrameType.Headers:
        return this.onHeadersFrame(flags, streamId, b, start, end);
      case FrameType.Continuation:
        if (streamId !== this.headerStream) throw new Error('CONTINUATION on another stream');
        this.headerBlock.push(b.subarray(start, end));
        if (flags & Flag.EndHeaders) this.onHeaderBlock();
        return;
      case FrameType.RstStream:
        return this.onStreamReset(streamId, `RST_STREAM with error code ${readUint32(b, start)}`);
      case FrameType.Settings:
        if ((flags & Flag.Ack) === 0) this.onSettings(b, start, end);
        return;
      case FrameType.Ping:
        if ((flags & Flag.Ack) === 0)
          this.write(encodeFrame(FrameType.Ping, Flag.Ack, 0, b.subarray(start, end)));
        return;
      case FrameType.GoAway: {
        const lastStream = readUint32(b, start) & 0x7fffffff;
        const code = readUint32(b, start + 4);
        const debug = b.subarray(start + 8, end).toString('latin1');
        this.dead = `GOAWAY error code ${code}${debug ? `: ${debug}` : ''}`;
        return this.onGoAway(lastStream, this.dead);
      }
      case FrameType.WindowUpdate: {
        const increment = readUint32(b, start) & 0x7fffffff;
        if (streamId !== 0) return this.onStreamWindowUpdate(streamId, increment);
        this.sendWindow += increment;
        return this.onWindowOpen();
      }
      case FrameType.PushPromise:
        throw new Error('PUSH_PROMISE although push is disabled');
      default:
        return; // PRIORITY and unknown frame types are ignored (RFC 9113 §4.1).
    }
  }

  private onDataFrame(flags: number, streamId: number, b: Buffer, start: number, end: number): void {
    this.connRecvUnacked += end - start;
    if (this.connRecvUnacked >= RECV_TOPUP) {
      this.write(encodeWindowUpdate(0, this.connRecvUnacked));
      this.connRecvUnacked = 0;
    }
    let from = start;
    let to = end;
    if (flags & Flag.Padded) {
      to -= b[from] as number;
      from += 1;
      if (from > to) throw new Error('DATA padding exceeds the frame');
    }
    this.onStreamData(streamId, b, from, to, end - start, (flags & Flag.EndStream) !== 0);
  }

  private onHeadersFrame(flags: number, streamId: number, b: Buffer, start: number, end: number): void {
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
    this.onStreamHeaders(streamId, this.headers, this.headerEndStream);
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
        this.onInitialWindowChange(delta);
      }
    }
    this.write(encodeFrame(FrameType.Settings, Flag.Ack, 0, new Uint8Array(0)));
    this.settle(null);
    this.onWindowOpen();
  }
}
