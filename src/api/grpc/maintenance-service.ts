// The Maintenance and Cluster services as far as a single member serves them: Status, Alarm,
// MemberList. Methods left out here answer UNIMPLEMENTED through the binder.
import type {
  HashKVRequest,
  HashKVResponse,
  AlarmRequest,
  AlarmResponse,
  MemberListRequest,
  MemberListResponse,
  StatusRequest,
  StatusResponse,
} from '../../generated/etcdserverpb.js';
import { AlarmRequest_AlarmAction, AlarmType } from '../../generated/etcdserverpb.js';
import type { EtcdServer } from '../../server/etcd-server.js';
import { ETCD_SERVER_VERSION } from '../../server/version.js';

const alarmNames: Record<number, string> = { [AlarmType.NOSPACE]: 'NOSPACE', [AlarmType.CORRUPT]: 'CORRUPT' };

export function maintenanceService(server: EtcdServer) {
  return {
    async Status(_r: StatusRequest): Promise<StatusResponse> {
      return {
        header: server.header(server.revision),
        version: ETCD_SERVER_VERSION,
        dbSize: BigInt(server.backendSizeBytes),
        leader: server.leaderId,
        raftIndex: server.commitIndex,
        raftTerm: server.term,
        raftAppliedIndex: server.appliedIndex,
        errors: server.alarms.map((a) => `memberID:${a.memberID} alarm:${alarmNames[a.alarm] ?? a.alarm} `),
        dbSizeInUse: BigInt(server.backendSizeInUseBytes),
        isLearner: false,
      };
    },
    async HashKV(r: HashKVRequest): Promise<HashKVResponse> {
      await server.linearizableReadNotify();
      const h = server.hashKV(r.revision);
      return { header: server.header(h.currentRev), hash: h.hash, compactRevision: h.compactRev };
    },
    async Alarm(r: AlarmRequest): Promise<AlarmResponse> {
      if (r.action === AlarmRequest_AlarmAction.GET) {
        await server.linearizableReadNotify();
        return { header: server.header(server.revision), alarms: server.alarms };
      }
      const res = await server.propose({ alarm: r });
      return { header: server.header(server.revision), alarms: res.alarm?.alarms ?? [] };
    },
  };
}

export function clusterService(server: EtcdServer) {
  return {
    async MemberList(_r: MemberListRequest): Promise<MemberListResponse> {
      return {
        header: server.header(server.revision),
        members: [
          {
            ID: server.memberId,
            name: server.opts.name,
            peerURLs: server.opts.peerUrls,
            clientURLs: server.opts.clientUrls,
            isLearner: false,
          },
        ],
      };
    },
  };
}
