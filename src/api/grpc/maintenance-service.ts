// The Maintenance service (Status, HashKV, Alarm, MoveLeader) and the Cluster service (MemberAdd,
// MemberRemove, MemberUpdate, MemberList, MemberPromote) as etcd 3.4 serves them. Methods left out
// here answer UNIMPLEMENTED through the binder.
import type {
  HashKVRequest,
  HashKVResponse,
  AlarmRequest,
  AlarmResponse,
  Member as PbMember,
  MemberAddRequest,
  MemberAddResponse,
  MemberListRequest,
  MemberListResponse,
  MemberPromoteRequest,
  MemberPromoteResponse,
  MemberRemoveRequest,
  MemberRemoveResponse,
  MemberUpdateRequest,
  MemberUpdateResponse,
  MoveLeaderRequest,
  MoveLeaderResponse,
  StatusRequest,
  StatusResponse,
} from '../../generated/etcdserverpb.js';
import { AlarmRequest_AlarmAction, AlarmType } from '../../generated/etcdserverpb.js';
import { Err } from '../../base/errors.js';
import type { EtcdServer } from '../../server/etcd-server.js';
import {
  addMember,
  moveLeader,
  promoteMember,
  removeMember,
  updateMember,
} from '../../server/cluster-ops.js';
import type { Member } from '../../server/members.js';
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
        errors: [
          ...server.alarms.map((a) => `memberID:${a.memberID} alarm:${alarmNames[a.alarm] ?? a.alarm} `),
          ...(server.leaderId === 0n ? [Err.noLeader] : []),
        ],
        dbSizeInUse: BigInt(server.backendSizeInUseBytes),
        isLearner: server.isLearner,
      };
    },
    async HashKV(r: HashKVRequest): Promise<HashKVResponse> {
      await server.linearizableReadNotify();
      const h = await server.hashKV(r.revision);
      return { header: server.header(h.currentRev), hash: h.hash, compactRevision: h.compactRev };
    },
    async Alarm(r: AlarmRequest): Promise<AlarmResponse> {
      // etcd 3.4 answers Alarm and MoveLeader without a header (its apply and its maintenance
      // server build the bare response).
      if (r.action === AlarmRequest_AlarmAction.GET) {
        await server.linearizableReadNotify();
        return { alarms: server.alarms };
      }
      const res = await server.propose({ alarm: r });
      return { alarms: res.alarm?.alarms ?? [] };
    },
    async MoveLeader(r: MoveLeaderRequest): Promise<MoveLeaderResponse> {
      await moveLeader(server, r.targetID);
      return {};
    },
  };
}

function pbMember(m: Member): PbMember {
  return { ID: m.id, name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs, isLearner: m.isLearner };
}

export function clusterService(server: EtcdServer) {
  // etcd's cluster server fills the header without a revision.
  const header = () => server.header(0n);
  return {
    async MemberAdd(r: MemberAddRequest): Promise<MemberAddResponse> {
      const { member, members } = await addMember(server, r.peerURLs, r.isLearner);
      return { header: header(), member: pbMember(member), members: members.map(pbMember) };
    },
    async MemberRemove(r: MemberRemoveRequest): Promise<MemberRemoveResponse> {
      const members = await removeMember(server, r.ID);
      return { header: header(), members: members.map(pbMember) };
    },
    async MemberUpdate(r: MemberUpdateRequest): Promise<MemberUpdateResponse> {
      const members = await updateMember(server, r.ID, r.peerURLs);
      return { header: header(), members: members.map(pbMember) };
    },
    async MemberList(_r: MemberListRequest): Promise<MemberListResponse> {
      return { header: header(), members: server.members().map(pbMember) };
    },
    async MemberPromote(r: MemberPromoteRequest): Promise<MemberPromoteResponse> {
      const members = await promoteMember(server, r.ID);
      return { header: header(), members: members.map(pbMember) };
    },
  };
}
