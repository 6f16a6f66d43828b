// One lease and the limits every lease obeys. The replicated part of a lease (ID, granted TTL, the
// last checkpointed remaining TTL, the keys attached to it) changes only when entries are applied;
// the leader-only part (when it expires) is kept by the Primary (primary.ts) and is meaningless on
// a follower.
import { compareBytes } from '../base/bytes.js';

/** The lease ID that means "no lease" on a key. */
export const NO_LEASE = 0n;
/** etcd's MaxLeaseTTL: a longer TTL is refused with `etcdserver: too large lease TTL`. */
export const MAX_LEASE_TTL = 9_000_000_000n;
/** Expired leases revoked per second at most (etcd's leaseRevokeRate). */
export const LEASE_REVOKE_RATE_PER_SECOND = 1000;
/** Checkpoints carried by one LeaseCheckpoint entry at most (etcd's maxLeaseCheckpointBatchSize). */
export const MAX_CHECKPOINTS_PER_ENTRY = 1000;

/**
 * etcd's minimum lease TTL: 1.5 election timeouts, counted in whole heartbeat ticks as etcd does
 * ((3 × electionTicks) / 2 ticks, integer division), rounded up to whole seconds. 2 s by default.
 */
export function minLeaseTtlSeconds(electionMs: number, heartbeatMs: number): bigint {
  const electionTicks = Math.max(1, Math.round(electionMs / heartbeatMs));
  const minMs = Math.floor((3 * electionTicks) / 2) * heartbeatMs;
  return BigInt(Math.ceil(minMs / 1000));
}

/** A byte key as a string that keeps every byte (one UTF-16 unit per byte), for map keys. */
export function byteString(b: Uint8Array): string {
  const CHUNK = 8192;
  if (b.length <= CHUNK) return String.fromCharCode.apply(null, b as unknown as number[]);
  let s = '';
  for (let i = 0; i < b.length; i += CHUNK) {
    s += String.fromCharCode.apply(null, b.subarray(i, i + CHUNK) as unknown as number[]);
  }
  return s;
}

export class Lease {
  /** The last checkpointed remaining TTL in seconds; 0 means the full TTL (etcd's convention). */
  remainingTtl: bigint;
  private readonly items = new Map<string, Uint8Array>();

  constructor(
    readonly id: bigint,
    /** The granted TTL in seconds (after the minimum TTL rule). */
    readonly ttl: bigint,
    remainingTtl = 0n,
  ) {
    this.remainingTtl = remainingTtl;
  }

  /** The TTL a new leader starts this lease from: the checkpointed remaining TTL, else the full one. */
  get startTtl(): bigint {
    return this.remainingTtl > 0n ? this.remainingTtl : this.ttl;
  }

  get keyCount(): number {
    return this.items.size;
  }

  hasKey(key: Uint8Array): boolean {
    return this.items.has(byteString(key));
  }

  /** The attached keys in byte order (the order a revoke deletes them in, on every member). */
  keys(): Uint8Array[] {
    return [...this.items.values()].sort(compareBytes);
  }

  /** @internal Lessor.attach */
  addKey(key: Uint8Array): void {
    this.items.set(byteString(key), key);
  }

  /** @internal Lessor.detach; returns whether the key was attached. */
  removeKey(key: Uint8Array): boolean {
    return this.items.delete(byteString(key));
  }
}
