// The KV service: validates each request as etcd's v3rpc layer does, hands it to the server, and
// fills the response header (cluster, member, raft term) as etcd's header filler does.
import type {
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
} from '../../generated/etcdserverpb.js';
import type { EtcdServer } from '../../server/etcd-server.js';
import { costPut, costTxn } from '../../server/quota.js';
import {
  checkDeleteRequest,
  checkPutRequest,
  checkRangeRequest,
  validateTxn,
} from '../../server/validate.js';

export function kvService(server: EtcdServer) {
  const fill = <T extends { header?: { revision: bigint } }>(resp: T): T => {
    resp.header = server.header(resp.header?.revision ?? server.revision);
    return resp;
  };
  return {
    async Range(r: RangeRequest): Promise<RangeResponse> {
      checkRangeRequest(r);
      return fill(await server.range(r));
    },
    async Put(r: PutRequest): Promise<PutResponse> {
      checkPutRequest(r);
      await server.checkQuota(costPut(r));
      return fill(await server.put(r));
    },
    async DeleteRange(r: DeleteRangeRequest): Promise<DeleteRangeResponse> {
      checkDeleteRequest(r);
      return fill(await server.deleteRange(r));
    },
    async Txn(r: TxnRequest): Promise<TxnResponse> {
      validateTxn(r, server.opts.maxTxnOps);
      await server.checkQuota(costTxn(r));
      return fill(await server.txn(r));
    },
    async Compact(r: CompactionRequest): Promise<CompactionResponse> {
      const rev = await server.compact(r);
      return { header: server.header(rev) };
    },
  };
}
