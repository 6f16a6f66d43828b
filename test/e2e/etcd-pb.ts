// etcd v3 wire messages the e2e tests send and read (field numbers of etcdserverpb and mvccpb,
// written from the published API), with their TypeScript shapes and the method paths. Shapes follow
// the project's conventions: int64 → bigint, bytes → Buffer, camelCase names.
import { msgDef, enc, dec, type MsgDef } from './pb.js';
import type { GrpcConn } from './grpc-wire.js';

export { enc, dec };

export interface KeyValue {
  key: Buffer;
  createRevision: bigint;
  modRevision: bigint;
  version: bigint;
  value: Buffer;
  lease: bigint;
}
export interface ResponseHeader {
  clusterId: bigint;
  memberId: bigint;
  revision: bigint;
  raftTerm: bigint;
}
export interface RangeRequest {
  key: Uint8Array;
  rangeEnd: Uint8Array;
  limit: bigint;
  revision: bigint;
  sortOrder: number;
  sortTarget: number;
  serializable: boolean;
  keysOnly: boolean;
  countOnly: boolean;
  minModRevision: bigint;
  maxModRevision: bigint;
  minCreateRevision: bigint;
  maxCreateRevision: bigint;
}
export interface RangeResponse {
  header?: ResponseHeader;
  kvs: KeyValue[];
  more: boolean;
  count: bigint;
}
export interface PutRequest {
  key: Uint8Array;
  value: Uint8Array;
  lease: bigint;
  prevKv: boolean;
  ignoreValue: boolean;
  ignoreLease: boolean;
}
export interface PutResponse {
  header?: ResponseHeader;
  prevKv?: KeyValue;
}
export interface DeleteRangeRequest {
  key: Uint8Array;
  rangeEnd: Uint8Array;
  prevKv: boolean;
}
export interface DeleteRangeResponse {
  header?: ResponseHeader;
  deleted: bigint;
  prevKvs: KeyValue[];
}
export interface RequestOp {
  requestRange?: Partial<RangeRequest>;
  requestPut?: Partial<PutRequest>;
  requestDeleteRange?: Partial<DeleteRangeRequest>;
  requestTxn?: Partial<TxnRequest>;
}
export interface ResponseOp {
  responseRange?: RangeResponse;
  responsePut?: PutResponse;
  responseDeleteRange?: DeleteRangeResponse;
  responseTxn?: TxnResponse;
}
export interface Compare {
  result: number;
  target: number;
  key: Uint8Array;
  version?: bigint;
  createRevision?: bigint;
  modRevision?: bigint;
  value?: Uint8Array;
  lease?: bigint;
  rangeEnd: Uint8Array;
}
export interface TxnRequest {
  compare: Partial<Compare>[];
  success: RequestOp[];
  failure: RequestOp[];
}
export interface TxnResponse {
  header?: ResponseHeader;
  succeeded: boolean;
  responses: ResponseOp[];
}
export interface CompactionRequest {
  revision: bigint;
  physical: boolean;
}
export interface CompactionResponse {
  header?: ResponseHeader;
}
export interface LeaseGrantRequest {
  TTL: bigint;
  ID: bigint;
}
export interface LeaseGrantResponse {
  header?: ResponseHeader;
  ID: bigint;
  TTL: bigint;
  error: string;
}
export interface LeaseRevokeRequest {
  ID: bigint;
}
export interface LeaseRevokeResponse {
  header?: ResponseHeader;
}

export const SortOrder = { NONE: 0, ASCEND: 1, DESCEND: 2 } as const;
export const SortTarget = { KEY: 0, VERSION: 1, CREATE: 2, MOD: 3, VALUE: 4 } as const;
export const CompareResult = { EQUAL: 0, GREATER: 1, LESS: 2, NOT_EQUAL: 3 } as const;
export const CompareTarget = { VERSION: 0, CREATE: 1, MOD: 2, VALUE: 3, LEASE: 4 } as const;

const i64 = (no: number) => ({ no, type: 'int64' as const });
const u64 = (no: number) => ({ no, type: 'uint64' as const });
const bytes = (no: number) => ({ no, type: 'bytes' as const });
const bool = (no: number) => ({ no, type: 'bool' as const });
const enm = (no: number) => ({ no, type: 'enum' as const });
const sub = (no: number, d: () => MsgDef<object>, repeated = false) => ({ no, type: d, repeated });

export const KeyValue: MsgDef<KeyValue> = msgDef('KeyValue', {
  key: bytes(1),
  createRevision: i64(2),
  modRevision: i64(3),
  version: i64(4),
  value: bytes(5),
  lease: i64(6),
});
export const ResponseHeader: MsgDef<ResponseHeader> = msgDef('ResponseHeader', {
  clusterId: u64(1),
  memberId: u64(2),
  revision: i64(3),
  raftTerm: u64(4),
});
const header = sub(1, () => ResponseHeader);
export const RangeRequest: MsgDef<RangeRequest> = msgDef('RangeRequest', {
  key: bytes(1),
  rangeEnd: bytes(2),
  limit: i64(3),
  revision: i64(4),
  sortOrder: enm(5),
  sortTarget: enm(6),
  serializable: bool(7),
  keysOnly: bool(8),
  countOnly: bool(9),
  minModRevision: i64(10),
  maxModRevision: i64(11),
  minCreateRevision: i64(12),
  maxCreateRevision: i64(13),
});
export const RangeResponse: MsgDef<RangeResponse> = msgDef('RangeResponse', {
  header,
  kvs: sub(2, () => KeyValue, true),
  more: bool(3),
  count: i64(4),
});
export const PutRequest: MsgDef<PutRequest> = msgDef('PutRequest', {
  key: bytes(1),
  value: bytes(2),
  lease: i64(3),
  prevKv: bool(4),
  ignoreValue: bool(5),
  ignoreLease: bool(6),
});
export const PutResponse: MsgDef<PutResponse> = msgDef('PutResponse', {
  header,
  prevKv: sub(2, () => KeyValue),
});
export const DeleteRangeRequest: MsgDef<DeleteRangeRequest> = msgDef('DeleteRangeRequest', {
  key: bytes(1),
  rangeEnd: bytes(2),
  prevKv: bool(3),
});
export const DeleteRangeResponse: MsgDef<DeleteRangeResponse> = msgDef('DeleteRangeResponse', {
  header,
  deleted: i64(2),
  prevKvs: sub(3, () => KeyValue, true),
});
export const RequestOp: MsgDef<RequestOp> = msgDef('RequestOp', {
  requestRange: sub(1, () => RangeRequest),
  requestPut: sub(2, () => PutRequest),
  requestDeleteRange: sub(3, () => DeleteRangeRequest),
  requestTxn: sub(4, () => TxnRequest),
});
export const ResponseOp: MsgDef<ResponseOp> = msgDef('ResponseOp', {
  responseRange: sub(1, () => RangeResponse),
  responsePut: sub(2, () => PutResponse),
  responseDeleteRange: sub(3, () => DeleteRangeResponse),
  responseTxn: sub(4, () => TxnResponse),
});
export const Compare: MsgDef<Compare> = msgDef('Compare', {
  result: enm(1),
  target: enm(2),
  key: bytes(3),
  version: { ...i64(4), oneof: true },
  createRevision: { ...i64(5), oneof: true },
  modRevision: { ...i64(6), oneof: true },
  value: { ...bytes(7), oneof: true },
  lease: { ...i64(8), oneof: true },
  rangeEnd: bytes(64),
});
export const TxnRequest: MsgDef<TxnRequest> = msgDef('TxnRequest', {
  compare: sub(1, () => Compare, true),
  success: sub(2, () => RequestOp, true),
  failure: sub(3, () => RequestOp, true),
});
export const TxnResponse: MsgDef<TxnResponse> = msgDef('TxnResponse', {
  header,
  succeeded: bool(2),
  responses: sub(3, () => ResponseOp, true),
});
export const CompactionRequest: MsgDef<CompactionRequest> = msgDef('CompactionRequest', {
  revision: i64(1),
  physical: bool(2),
});
export const CompactionResponse: MsgDef<CompactionResponse> = msgDef('CompactionResponse', { header });
export const LeaseGrantRequest: MsgDef<LeaseGrantRequest> = msgDef('LeaseGrantRequest', {
  TTL: i64(1),
  ID: i64(2),
});
export const LeaseGrantResponse: MsgDef<LeaseGrantResponse> = msgDef('LeaseGrantResponse', {
  header,
  ID: i64(2),
  TTL: i64(3),
  error: { no: 4, type: 'string' },
});
export const LeaseRevokeRequest: MsgDef<LeaseRevokeRequest> = msgDef('LeaseRevokeRequest', { ID: i64(1) });
export const LeaseRevokeResponse: MsgDef<LeaseRevokeResponse> = msgDef('LeaseRevokeResponse', { header });

/** gRPC method paths with their request and response messages. */
export const Rpc = {
  Range: { path: '/etcdserverpb.KV/Range', req: RangeRequest, res: RangeResponse },
  Put: { path: '/etcdserverpb.KV/Put', req: PutRequest, res: PutResponse },
  DeleteRange: { path: '/etcdserverpb.KV/DeleteRange', req: DeleteRangeRequest, res: DeleteRangeResponse },
  Txn: { path: '/etcdserverpb.KV/Txn', req: TxnRequest, res: TxnResponse },
  Compact: { path: '/etcdserverpb.KV/Compact', req: CompactionRequest, res: CompactionResponse },
  LeaseGrant: { path: '/etcdserverpb.Lease/LeaseGrant', req: LeaseGrantRequest, res: LeaseGrantResponse },
  LeaseRevoke: { path: '/etcdserverpb.Lease/LeaseRevoke', req: LeaseRevokeRequest, res: LeaseRevokeResponse },
} as const;

export interface CallResult<R> {
  code: number;
  message: string;
  /** The decoded response when code is 0. */
  res?: R;
}

/** One unary call: encode the request, send it, decode the answer. */
export async function call<Q extends object, R extends object>(
  conn: GrpcConn,
  rpc: { path: string; req: MsgDef<Q>; res: MsgDef<R> },
  request: Partial<Q>,
  timeoutMs?: number,
): Promise<CallResult<R>> {
  const r = await conn.unary(rpc.path, enc(rpc.req, request), timeoutMs);
  if (r.code !== 0) return { code: r.code, message: r.message };
  return { code: 0, message: r.message, res: dec(rpc.res, r.body) };
}
