// The v3lockpb and v3electionpb wire messages the e2e tests send and read (field numbers from the
// published etcd API), the method paths, and a server-streaming call for Election/Observe on its own
// HTTP/2 connection. Independent of ketch's generated code, like the rest of the e2e wire helpers.
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { decodeGrpcMessage } from './grpc-wire.js';
import { KeyValue, ResponseHeader } from './etcd-pb.js';
import { msgDef, enc, dec, type MsgDef } from './pb.js';

export interface LockRequest {
  name: Buffer;
  lease: bigint;
}
export interface LockResponse {
  header?: ResponseHeader;
  key: Buffer;
}
export interface UnlockRequest {
  key: Buffer;
}
export interface HeaderOnly {
  header?: ResponseHeader;
}
export interface LeaderKey {
  name: Buffer;
  key: Buffer;
  rev: bigint;
  lease: bigint;
}
export interface CampaignRequest {
  name: Buffer;
  lease: bigint;
  value: Buffer;
}
export interface CampaignResponse {
  header?: ResponseHeader;
  leader?: LeaderKey;
}
export interface ProclaimRequest {
  leader?: LeaderKey;
  value: Buffer;
}
export interface LeaderRequest {
  name: Buffer;
}
export interface LeaderResponse {
  header?: ResponseHeader;
  kv?: KeyValue;
}
export interface ResignRequest {
  leader?: LeaderKey;
}

const i64 = (no: number) => ({ no, type: 'int64' as const });
const bytes = (no: number) => ({ no, type: 'bytes' as const });
const sub = (no: number, d: () => MsgDef<object>) => ({ no, type: d });
const header = sub(1, () => ResponseHeader);

export const LockRequestDef: MsgDef<LockRequest> = msgDef('LockRequest', { name: bytes(1), lease: i64(2) });
export const LockResponseDef: MsgDef<LockResponse> = msgDef('LockResponse', { header, key: bytes(2) });
export const UnlockRequestDef: MsgDef<UnlockRequest> = msgDef('UnlockRequest', { key: bytes(1) });
export const UnlockResponseDef: MsgDef<HeaderOnly> = msgDef('UnlockResponse', { header });
export const LeaderKeyDef: MsgDef<LeaderKey> = msgDef('LeaderKey', {
  name: bytes(1),
  key: bytes(2),
  rev: i64(3),
  lease: i64(4),
});
const leader = sub(1, () => LeaderKeyDef);
export const CampaignRequestDef: MsgDef<CampaignRequest> = msgDef('CampaignRequest', {
  name: bytes(1),
  lease: i64(2),
  value: bytes(3),
});
export const CampaignResponseDef: MsgDef<CampaignResponse> = msgDef('CampaignResponse', {
  header,
  leader: sub(2, () => LeaderKeyDef),
});
export const ProclaimRequestDef: MsgDef<ProclaimRequest> = msgDef('ProclaimRequest', {
  leader,
  value: bytes(2),
});
export const ProclaimResponseDef: MsgDef<HeaderOnly> = msgDef('ProclaimResponse', { header });
export const LeaderRequestDef: MsgDef<LeaderRequest> = msgDef('LeaderRequest', { name: bytes(1) });
export const LeaderResponseDef: MsgDef<LeaderResponse> = msgDef('LeaderResponse', {
  header,
  kv: sub(2, () => KeyValue),
});
export const ResignRequestDef: MsgDef<ResignRequest> = msgDef('ResignRequest', { leader });
export const ResignResponseDef: MsgDef<HeaderOnly> = msgDef('ResignResponse', { header });

export const LockRpc = {
  Lock: { path: '/v3lockpb.Lock/Lock', req: LockRequestDef, res: LockResponseDef },
  Unlock: { path: '/v3lockpb.Lock/Unlock', req: UnlockRequestDef, res: UnlockResponseDef },
} as const;

export const ElectionRpc = {
  Campaign: { path: '/v3electionpb.Election/Campaign', req: CampaignRequestDef, res: CampaignResponseDef },
  Proclaim: { path: '/v3electionpb.Election/Proclaim', req: ProclaimRequestDef, res: ProclaimResponseDef },
  Leader: { path: '/v3electionpb.Election/Leader', req: LeaderRequestDef, res: LeaderResponseDef },
  Resign: { path: '/v3electionpb.Election/Resign', req: ResignRequestDef, res: ResignResponseDef },
} as const;

export const OBSERVE_PATH = '/v3electionpb.Election/Observe';

/** How a call ended: its gRPC status, or -1 when the stream closed without one. */
export interface CallEnd {
  code: number;
  message: string;
}

/** One Election/Observe call: the responses queue up in arrival order; next() takes the oldest. */
export class ObserveCall {
  private readonly session: ClientHttp2Session;
  private readonly stream: ClientHttp2Stream;
  private readonly queue: LeaderResponse[] = [];
  private waiters: (() => void)[] = [];
  private pending: Buffer = Buffer.alloc(0);
  private status: CallEnd | undefined;
  readonly ended: Promise<CallEnd>;

  constructor(url: string, name: Buffer) {
    this.session = connect(url);
    this.session.on('error', () => {});
    this.stream = this.session.request({
      ':method': 'POST',
      ':path': OBSERVE_PATH,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    this.ended = new Promise((resolve) => {
      const take = (h: Record<string, unknown>): void => {
        const s = h['grpc-status'];
        if (s === undefined) return;
        const m = h['grpc-message'];
        this.status = { code: Number(s), message: typeof m === 'string' ? decodeGrpcMessage(m) : '' };
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
    const msg = enc(LeaderRequestDef, { name });
    const framed = Buffer.alloc(5 + msg.length);
    framed.writeUInt32BE(msg.length, 1);
    framed.set(msg, 5);
    this.stream.end(framed);
  }

  private onData(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 5) {
      const n = this.pending.readUInt32BE(1);
      if (this.pending.length < 5 + n) break;
      if (this.pending[0] !== 0) throw new Error('compressed gRPC frame not supported');
      const raw = Buffer.from(this.pending.subarray(5, 5 + n));
      this.pending = this.pending.subarray(5 + n);
      this.queue.push(dec(LeaderResponseDef, raw));
    }
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  get buffered(): number {
    return this.queue.length;
  }

  /** The next response; rejects if the call ends first or nothing comes within timeoutMs. */
  async next(timeoutMs = 15_000): Promise<LeaderResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const head = this.queue.shift();
      if (head !== undefined) return head;
      if (this.status !== undefined || this.stream.closed) {
        const end = await this.ended;
        throw new Error(`observe call ended (${end.code}: ${end.message}) with no further response`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no observe response within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Cancels the call (RST_STREAM CANCEL) and closes the connection. */
  close(): void {
    if (!this.stream.closed) this.stream.close(constants.NGHTTP2_CANCEL);
    if (!this.session.destroyed) this.session.close();
  }
}

export interface LeaseTimeToLiveRequest {
  ID: bigint;
  keys: boolean;
}
export interface LeaseTimeToLiveResponse {
  header?: ResponseHeader;
  ID: bigint;
  TTL: bigint;
  grantedTTL: bigint;
  keys: Buffer[];
}
export const LeaseTimeToLive = {
  path: '/etcdserverpb.Lease/LeaseTimeToLive',
  req: msgDef<LeaseTimeToLiveRequest>('LeaseTimeToLiveRequest', {
    ID: i64(1),
    keys: { no: 2, type: 'bool' },
  }),
  res: msgDef<LeaseTimeToLiveResponse>('LeaseTimeToLiveResponse', {
    header,
    ID: i64(2),
    TTL: i64(3),
    grantedTTL: i64(4),
    keys: { no: 5, type: 'bytes', repeated: true },
  }),
} as const;
