// Member, cluster and request IDs, derived as etcd derives them so that a member started with the
// same flags gets the same IDs as etcd would give it (membership/member.go, cluster.go genID,
// pkg/idutil).
import { createHash } from 'node:crypto';

function sha1First8(data: Uint8Array): bigint {
  const digest = createHash('sha1').update(data).digest();
  return digest.readBigUInt64BE(0);
}

/** Go's url.String() for a URL without path: scheme://host:port, no trailing slash. */
export function urlString(u: URL): string {
  const path = u.pathname === '/' ? '' : u.pathname;
  return `${u.protocol}//${u.host}${path}`;
}

/** A member's ID: SHA-1 over its sorted peer URLs and the cluster token, first 8 bytes big-endian. */
export function memberId(peerUrls: readonly URL[], clusterToken: string): bigint {
  const urls = peerUrls.map(urlString).sort();
  return sha1First8(Buffer.from(urls.join('') + clusterToken, 'utf8'));
}

/** The cluster's ID: SHA-1 over the members' IDs, sorted, each 8 bytes big-endian. */
export function clusterId(memberIds: readonly bigint[]): bigint {
  const ids = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const buf = Buffer.alloc(8 * ids.length);
  ids.forEach((id, i) => buf.writeBigUInt64BE(id, 8 * i));
  return sha1First8(buf);
}

const SUFFIX_BITS = 48n;
const COUNTER_BITS = 8n;
const MASK48 = (1n << SUFFIX_BITS) - 1n;

/**
 * Request IDs unique across members and restarts: the member's low 16 bits on top, then 40 bits of
 * the start time in milliseconds and an 8-bit counter that carries into the time bits.
 */
export class IdGenerator {
  private readonly prefix: bigint;
  private suffix: bigint;

  constructor(member: bigint, nowMs: number) {
    this.prefix = (member & 0xffffn) << SUFFIX_BITS;
    const time = BigInt(Math.floor(nowMs)) & ((1n << (SUFFIX_BITS - COUNTER_BITS)) - 1n);
    this.suffix = time << COUNTER_BITS;
  }

  next(): bigint {
    this.suffix = (this.suffix + 1n) & MASK48;
    return this.prefix | this.suffix;
  }
}
