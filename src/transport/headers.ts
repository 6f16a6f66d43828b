// What every peer request carries and how IDs are written in it: member and cluster IDs in
// lower-case hex without padding, as etcd's types.ID.String() prints them (and as its logs show).

export const HEADER_CLUSTER_ID = 'x-ketch-cluster-id';
export const HEADER_FROM = 'x-ketch-from';
export const HEADER_TO = 'x-ketch-to';

export const PATH_STREAM = '/raft/stream';
export const PATH_SNAPSHOT = '/raft/snapshot';
export const PATH_PROBING = '/raft/probing';
export const PATH_MEMBERS = '/members';
export const PATH_VERSION = '/version';

/** Response bodies of refusals; the sender recognises them (etcd's error texts). */
export const ERR_CLUSTER_ID_MISMATCH = 'cluster ID mismatch';
export const ERR_TO_MISMATCH = 'to field mismatch';
export const ERR_MEMBER_REMOVED = 'the member has been permanently removed from the cluster';
export const ERR_UNKNOWN_PEER = 'remote peer not found';

const U64_MAX = 0xffffffffffffffffn;

export function idHex(id: bigint): string {
  return id.toString(16);
}

/** Parses a hex ID from a header; undefined when missing or not a uint64 in hex. */
export function parseIdHex(v: string | string[] | undefined): bigint | undefined {
  if (typeof v !== 'string' || !/^[0-9a-fA-F]{1,16}$/.test(v)) return undefined;
  const id = BigInt('0x' + v);
  return id <= U64_MAX ? id : undefined;
}
