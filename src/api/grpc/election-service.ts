// The v3electionpb.Election service (etcd 3.4's v3election server): Campaign, Proclaim, Leader,
// Resign and the Observe stream, over server/concurrency as etcd runs them over its in-process
// clientv3 — failures from inside answer Unknown with etcd's message (lock-service.ts). Observe
// ends with OK when etcd's observe loop gives up (a failed read, a compacted watch); a stream opened
// with `hasleader: true` ends with "etcdserver: no leader" after three election timeouts without a
// leader, as etcd's stream interceptor ends it.
import { Err, EtcdError } from '../../base/errors.js';
import type {
  CampaignRequest,
  CampaignResponse,
  LeaderRequest,
  LeaderResponse,
  ProclaimRequest,
  ProclaimResponse,
  ResignRequest,
  ResignResponse,
} from '../../generated/v3electionpb.js';
import {
  campaign,
  leader,
  observe,
  proclaim,
  resign,
  type KvClient,
} from '../../server/concurrency/index.js';
import type { CallContext, ServerStream } from './bind.js';
import { grpcErrorFromEtcd } from './errors.js';
import { METADATA_HAS_LEADER, METADATA_REQUIRE_LEADER_KEY } from './interceptors.js';
import { viaInProcessClient, type ConcurrencyMember } from './lock-service.js';
import { LeaderMonitor } from './watch-service.js';

export interface ElectionMember extends ConcurrencyMember {
  readonly leaderId: bigint;
  readonly electionMs: number;
}

/** The Election service's implementation for bindService. */
export function electionService(member: ElectionMember, client: KvClient) {
  const monitor = new LeaderMonitor(() => member.leaderId, member.electionMs);
  return {
    Campaign(r: CampaignRequest, call: CallContext): Promise<CampaignResponse> {
      return viaInProcessClient(member, () => campaign(client, r.name, r.lease, r.value, call.signal));
    },
    Proclaim(r: ProclaimRequest, call: CallContext): Promise<ProclaimResponse> {
      return viaInProcessClient(member, async () => ({
        header: await proclaim(client, r.leader, r.value, call.signal),
      }));
    },
    Leader(r: LeaderRequest, call: CallContext): Promise<LeaderResponse> {
      return viaInProcessClient(member, () => leader(client, r.name, call.signal));
    },
    Resign(r: ResignRequest, call: CallContext): Promise<ResignResponse> {
      return viaInProcessClient(member, async () => ({
        header: await resign(client, r.leader, call.signal),
      }));
    },
    Observe(r: LeaderRequest, stream: ServerStream<LeaderResponse>): Promise<void> {
      return viaInProcessClient(member, () => observeStream(client, monitor, r, stream));
    },
  };
}

async function observeStream(
  client: KvClient,
  monitor: LeaderMonitor,
  r: LeaderRequest,
  stream: ServerStream<LeaderResponse>,
): Promise<void> {
  const ac = new AbortController();
  const cancel = (): void => ac.abort(stream.signal.reason);
  if (stream.signal.aborted) return;
  stream.signal.addEventListener('abort', cancel, { once: true });
  const unregister =
    stream.metadata[METADATA_REQUIRE_LEADER_KEY] === METADATA_HAS_LEADER
      ? monitor.add(() => ac.abort(NO_LEADER))
      : undefined;
  try {
    await observe(client, r.name, ac.signal, async (report) => {
      if (!stream.send({ header: report.header, kv: report.kv })) await stream.drain();
    });
  } catch (err) {
    // The stream ended under the loop: the leader monitor's reason is the answer; a gone client gets none.
    if (!ac.signal.aborted) throw err;
    if (ac.signal.reason === NO_LEADER) throw grpcErrorFromEtcd(new EtcdError(Err.noLeader));
  } finally {
    stream.signal.removeEventListener('abort', cancel);
    unregister?.();
  }
}

/** The leader monitor's abort reason; the stream then ends with "etcdserver: no leader" (Unavailable). */
const NO_LEADER = Symbol('no leader');
