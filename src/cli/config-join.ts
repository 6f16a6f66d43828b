// Joining an existing cluster (--initial-cluster-state existing, etcd's GetClusterFromRemotePeers):
// ask the peers listed in --initial-cluster for the cluster's members (GET /members on their peer
// URLs, served by src/transport from the members body below), and take this member's ID from the
// entry whose peer URLs are ours — the ID MemberAdd gave it.
import type { EtcdServer } from '../server/etcd-server.js';
import type { Member } from '../server/members.js';

/** The GET /members body a member serves: the cluster ID and every member (IDs as decimal strings). */
export function membersBody(server: EtcdServer): unknown {
  return {
    clusterId: server.clusterId,
    members: server.members().map((m) => ({
      id: m.id,
      name: m.name,
      peerURLs: m.peerURLs,
      clientURLs: m.clientURLs,
      isLearner: m.isLearner,
    })),
  };
}

export interface RemoteCluster {
  clusterId: bigint;
  members: Member[];
}

function parseBody(text: string): RemoteCluster {
  const o = JSON.parse(text) as { clusterId: string; members: Record<string, unknown>[] };
  return {
    clusterId: BigInt(o.clusterId),
    members: o.members.map((m) => ({
      id: BigInt(String(m['id'])),
      name: typeof m['name'] === 'string' ? m['name'] : '',
      peerURLs: (m['peerURLs'] as string[]) ?? [],
      clientURLs: (m['clientURLs'] as string[]) ?? [],
      isLearner: m['isLearner'] === true,
    })),
  };
}

/** Asks each peer URL in turn; fails with etcd's message when none answers. */
export async function fetchRemoteCluster(
  peerUrls: readonly string[],
  timeoutMs = 2000,
): Promise<RemoteCluster> {
  for (const u of peerUrls) {
    try {
      const res = await fetch(`${u.replace(/\/$/, '')}/members`, { signal: AbortSignal.timeout(timeoutMs) });
      if (res.status === 200) return parseBody(await res.text());
    } catch {
      // try the next peer
    }
  }
  throw new Error(
    'cannot fetch cluster info from peer urls: could not retrieve cluster information from the given URLs',
  );
}

/** This member's entry in the remote cluster: the one with our peer URLs. */
export function findSelf(remote: RemoteCluster, peerUrls: readonly string[]): Member {
  const want = [...peerUrls].sort().join(',');
  const self = remote.members.find((m) => [...m.peerURLs].sort().join(',') === want);
  if (self === undefined) {
    throw new Error(
      `error validating peerURLs {ClusterID:${remote.clusterId.toString(16)} Members:[${remote.members
        .map((m) => `&{ID:${m.id.toString(16)} PeerURLs:[${m.peerURLs.join(' ')}]}`)
        .join(' ')}]}: PeerURLs: no match found for existing member (${peerUrls.join(',')})`,
    );
  }
  return self;
}
