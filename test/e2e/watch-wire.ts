// The Watch service's messages (field numbers of etcdserverpb / mvccpb, written from the published
// API) and a bidi-streaming gRPC client over node:http2 for the watch e2e tests. Like grpc-wire.ts
// it shares no code with ketch: it frames requests itself, unframes responses across DATA frames,
// and reports the call's final status, so the tests judge ketch's wire behaviour independently.
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { msgDef, enc, dec, type MsgDef } from './pb.js';
import { decodeGrpcMessage } from './grpc-wire.js';
import { KeyValue, ResponseHeader, type KeyValue as KV, type ResponseHeader as Header } from './etcd-pb.js';

export interface WatchCreateRequest {
  key: Uint8Array;
  rangeEnd: Uint8Array;
  startRevision: bigint;
  progressNotify: boolean;
  filters: number[];
  prevKv: boolean;
  watchId: bigint;
  fragment: boolean;
}
export interface WatchRequest {
  createRequest?: Partial<WatchCreateRequest>;
  cancelRequest?: { watchId: bigint };
  progressRequest?: Record<string, never>;
}
export interface Event {
  type: number;
  kv?: KV;
  prevKv?: KV;
}
export interface WatchResponse {
  header?: Header;
  watchId: bigint;
  created: boolean;
  canceled: boolean;
  compactRevision: bigint;
  cancelReason: string;
  fragment: boolean;
  events: Event[];
}

export const FilterType = { NOPUT: 0, NODELETE: 1 } as const;
export const EventType = { PUT: 0, DELETE: 1 } as const;

const sub = (no: number, d: () => MsgDef<object>, repeated = false) => ({ no, type: d, repeated });

export const WatchCreateRequestDef: MsgDef<WatchCreateRequest> = msgDef('WatchCreateRequest', {
  key: { no: 1, type: 'bytes' },
  rangeEnd: { no: 2, type: 'bytes' },
  startRevision: { no: 3, type: 'int64' },
  progressNotify: { no: 4, type: 'bool' },
  filters: { no: 5, type: 'enum', repeated: true },
  prevKv: { no: 6, type: 'bool' },
  watchId: { no: 7, type: 'int64' },
  fragment: { no: 8, type: 'bool' },
});
const WatchCancelRequestDef = msgDef('WatchCancelRequest', { watchId: { no: 1, type: 'int64' } });
const WatchProgressRequestDef = msgDef('WatchProgressRequest', {});
export const WatchRequestDef: MsgDef<WatchRequest> = msgDef('WatchRequest', {
  createRequest: sub(1, () => WatchCreateRequestDef),
  cancelRequest: sub(2, () => WatchCancelRequestDef),
  progressRequest: sub(3, () => WatchProgressRequestDef),
});
export const EventDef: MsgDef<Event> = msgDef('Event', {
  type: { no: 1, type: 'enum' },
  kv: sub(2, () => KeyValue),
  prevKv: sub(3, () => KeyValue),
});
export const WatchResponseDef: MsgDef<WatchResponse> = msgDef('WatchResponse', {
  header: sub(1, () => ResponseHeader),
  watchId: { no: 2, type: 'int64' },
  created: { no: 3, type: 'bool' },
  canceled: { no: 4, type: 'bool' },
  compactRevision: { no: 5, type: 'int64' },
  cancelReason: { no: 6, type: 'string' },
  fragment: { no: 7, type: 'bool' },
  events: sub(11, () => EventDef, true),
});

export const WATCH_PATH = '/etcdserverpb.Watch/Watch';

function frame(msg: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + msg.length);
  out.writeUInt32BE(msg.length, 1);
  out.set(msg, 5);
  return out;
}

/** The end of a call: its gRPC status, or how the transport failed. */
export interface CallEnd {
  code: number;
  message: string;
}

/**
 * One Watch call on its own HTTP/2 connection. Responses queue up in arrival order; next() takes the
 * oldest (waiting for one if needed). The raw message bytes are kept beside each decoded response.
 */
export class WatchCall {
  private readonly session: ClientHttp2Session;
  private readonly stream: ClientHttp2Stream;
  private readonly queue: { res: WatchResponse; raw: Buffer }[] = [];
  private waiters: (() => void)[] = [];
  private pending: Buffer = Buffer.alloc(0);
  private status: CallEnd | undefined;
  /** Resolves when the call ends (status from trailers, or a transport failure as code -1). */
  readonly ended: Promise<CallEnd>;

  constructor(url: string, metadata: Record<string, string> = {}) {
    this.session = connect(url);
    this.session.on('error', () => {});
    this.stream = this.session.request({
      ':method': 'POST',
      ':path': WATCH_PATH,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...metadata,
    });
    // The status (trailers, or a trailers-only response) ends the call, as gRPC clients take it:
    // a server may leave the HTTP/2 stream half-open until the client closes its side.
    this.ended = new Promise((resolve) => {
      const take = (h: Record<string, unknown>): void => {
        const s = h['grpc-status'];
        if (s === undefined) return;
        const m = h['grpc-message'];
        this.status = { code: Number(s), message: typeof m === 'string' ? decodeGrpcMessage(m) : '' };
        resolve(this.status);
        this.wake();
      };
      this.stream.on('response', take);
      this.stream.on('trailers', take);
      this.stream.on('error', () => {});
      this.stream.on('close', () => {
        resolve(this.status ?? { code: -1, message: `stream closed, rst ${this.stream.rstCode}` });
        this.wake();
      });
    });
    this.stream.on('data', (c: Buffer) => this.onData(c));
  }

  private onData(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 5) {
      const n = this.pending.readUInt32BE(1);
      if (this.pending.length < 5 + n) break;
      if (this.pending[0] !== 0) throw new Error('compressed gRPC frame not supported');
      const raw = Buffer.from(this.pending.subarray(5, 5 + n));
      this.pending = this.pending.subarray(5 + n);
      this.queue.push({ res: dec(WatchResponseDef, raw), raw });
    }
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(req: WatchRequest): void {
    this.stream.write(frame(enc(WatchRequestDef, req)));
  }

  create(c: Partial<WatchCreateRequest>): void {
    this.send({ createRequest: c });
  }

  cancel(watchId: bigint): void {
    this.send({ cancelRequest: { watchId } });
  }

  progress(): void {
    this.send({ progressRequest: {} });
  }

  /** Responses received and not yet taken. */
  get buffered(): number {
    return this.queue.length;
  }

  /** The next response with its raw bytes; rejects if the call ends first or nothing comes in timeoutMs. */
  async nextRaw(timeoutMs = 15_000): Promise<{ res: WatchResponse; raw: Buffer }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const head = this.queue.shift();
      if (head !== undefined) return head;
      if (this.status !== undefined || this.stream.closed) {
        const end = await this.ended;
        throw new Error(`watch call ended (${end.code}: ${end.message}) with no further response`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no watch response within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async next(timeoutMs?: number): Promise<WatchResponse> {
    return (await this.nextRaw(timeoutMs)).res;
  }

  /** The next n responses. */
  async take(n: number, timeoutMs?: number): Promise<WatchResponse[]> {
    const out: WatchResponse[] = [];
    for (let i = 0; i < n; i++) out.push(await this.next(timeoutMs));
    return out;
  }

  /** Responses until `done` says the collected list is complete. */
  async until(done: (got: WatchResponse[]) => boolean, timeoutMs?: number): Promise<WatchResponse[]> {
    const out: WatchResponse[] = [];
    while (!done(out)) out.push(await this.next(timeoutMs));
    return out;
  }

  /** Stops reading responses: HTTP/2 flow control then holds the server back, as a slow client would. */
  pauseReading(): void {
    this.stream.pause();
  }

  resumeReading(): void {
    this.stream.resume();
  }

  /** Half-closes the request side (the client sends no more requests). */
  endRequests(): void {
    this.stream.end();
  }

  /** Cancels the call (RST_STREAM CANCEL) and closes the connection. */
  close(): void {
    if (!this.stream.closed) this.stream.close(constants.NGHTTP2_CANCEL);
    if (!this.session.destroyed) this.session.close();
  }

  /** Drops the connection without a goodbye, as a crashed client would. */
  destroy(): void {
    this.session.destroy();
  }
}

/** Bytes from a string, byte per char. */
export function b(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}
