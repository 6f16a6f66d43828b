// The leader-only side of the lessor: when each lease expires, by the injected clock. Only the
// leader has one (promote creates it, demote drops it), so a follower never expires a lease by its
// own clock. It decides; it never changes replicated state: expired leases and due checkpoints are
// handed to the server, which proposes revokes and checkpoints through raft.
//
// Times per lease: `expiryMs` is when the lease ends as clients are told (TimeToLive); a lease
// restored by a promotion also gets a grace period (the election timeout) before it is revoked, so
// clients can find the new leader, but the grace is not reported and a renewal drops it, so TTLs do
// not creep up across leader changes. Leases are scheduled lazily: apply never reads the clock, so a
// lease granted (or restored) while primary is queued in `unscheduled` and given its expiry at the
// next leader-side call, which the server makes right after each applied batch.
import type { Clock } from '../base/log.js';
import type { LeaseCheckpoint } from '../generated/etcdserverpb.js';
import type { Lease } from './lease.js';
import { LeaseQueue } from './lease-queue.js';

interface Times {
  expiryMs: number;
  graceMs: number;
}

export class Primary {
  /** Revoke deadlines (expiry + grace); an expired lease is re-queued at now + retry. */
  private readonly expiries = new LeaseQueue();
  /** When each lease's remaining TTL is next compared with its checkpointed one. */
  private readonly checkpoints = new LeaseQueue();
  private readonly times = new Map<bigint, Times>();
  /** Leases waiting for an expiry, with the grace to give them. */
  private readonly unscheduled = new Map<bigint, number>();

  constructor(
    private readonly clock: Clock,
    private readonly retryMs: number,
    private readonly checkpointIntervalMs: number,
  ) {}

  /** Queues a lease to be timed from its start TTL at the next leader-side call. */
  queue(id: bigint, graceMs: number): void {
    this.unscheduled.set(id, graceMs);
  }

  /** Forgets a revoked lease. */
  forget(id: bigint): void {
    this.unscheduled.delete(id);
    this.times.delete(id);
    this.expiries.delete(id);
    this.checkpoints.delete(id);
  }

  /** Gives every queued lease that still exists its expiry, counted from now. */
  schedule(lookup: (id: bigint) => Lease | undefined): void {
    if (this.unscheduled.size === 0) return;
    const now = this.clock.nowMs();
    for (const [id, graceMs] of this.unscheduled) {
      const l = lookup(id);
      if (l === undefined) continue;
      const expiryMs = now + Number(l.startTtl) * 1000;
      this.times.set(id, { expiryMs, graceMs });
      this.expiries.set(id, expiryMs + graceMs);
      this.checkpoints.set(id, now + this.checkpointIntervalMs);
    }
    this.unscheduled.clear();
  }

  /** Restarts the lease's full TTL from now and drops any grace; returns the new expiry. */
  renew(l: Lease): number {
    const expiryMs = this.clock.nowMs() + Number(l.ttl) * 1000;
    this.times.set(l.id, { expiryMs, graceMs: 0 });
    this.expiries.set(l.id, expiryMs);
    if (!this.checkpoints.has(l.id))
      this.checkpoints.set(l.id, this.clock.nowMs() + this.checkpointIntervalMs);
    return expiryMs;
  }

  /** True once the lease is past its revoke deadline (expiry plus any grace). */
  isExpired(id: bigint): boolean {
    const t = this.times.get(id);
    return t !== undefined && this.clock.nowMs() >= t.expiryMs + t.graceMs;
  }

  /** Milliseconds until the lease's reported expiry (negative once past it). */
  remainingMs(id: bigint): number {
    const t = this.times.get(id);
    return t === undefined ? Infinity : t.expiryMs - this.clock.nowMs();
  }

  /** The remaining TTL as a checkpoint records it: whole seconds, rounded up. */
  private remainingSeconds(id: bigint): bigint | undefined {
    const ms = this.remainingMs(id);
    if (!(ms > 0) || ms === Infinity) return undefined;
    return BigInt(Math.ceil(ms / 1000));
  }

  /** True when some lease is past its revoke deadline. */
  hasExpired(): boolean {
    const top = this.expiries.peek();
    return top !== undefined && top.atMs <= this.clock.nowMs();
  }

  /**
   * Up to `limit` leases past their revoke deadline, earliest first. Each is re-queued at now +
   * retry, so a revoke that does not get through is proposed again.
   */
  expired(limit: number): bigint[] {
    const now = this.clock.nowMs();
    const out: bigint[] = [];
    while (out.length < limit) {
      const top = this.expiries.peek();
      if (top === undefined || top.atMs > now) break;
      this.expiries.set(top.id, now + this.retryMs);
      out.push(top.id);
    }
    return out;
  }

  /**
   * Checkpoints for up to `limit` leases whose turn has come (each lease's turn comes once per
   * checkpoint interval) and whose remaining TTL differs from the checkpointed one. A remaining TTL
   * at or above the full TTL is recorded as 0 ("full").
   */
  dueCheckpoints(limit: number, lookup: (id: bigint) => Lease | undefined): LeaseCheckpoint[] {
    const now = this.clock.nowMs();
    const out: LeaseCheckpoint[] = [];
    while (out.length < limit) {
      const top = this.checkpoints.peek();
      if (top === undefined || top.atMs > now) break;
      this.checkpoints.set(top.id, now + this.checkpointIntervalMs);
      const l = lookup(top.id);
      if (l === undefined) {
        this.forget(top.id);
        continue;
      }
      const c = this.checkpointOf(l);
      if (c !== undefined) out.push(c);
    }
    return out;
  }

  /** The checkpoint that would bring `l`'s recorded remaining TTL up to date, if it is stale. */
  checkpointOf(l: Lease): LeaseCheckpoint | undefined {
    const secs = this.remainingSeconds(l.id);
    if (secs === undefined) return undefined; // expired or untimed: its revoke is what matters
    const value = secs >= l.ttl ? 0n : secs;
    return value === l.remainingTtl ? undefined : { ID: l.id, remainingTTL: value };
  }
}
