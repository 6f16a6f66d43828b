// The Lessor (etcd's lease/lessor.go): every lease, the keys attached to each, and on the leader
// the time each one expires.
//
// Replicated state changes only in the apply methods (grant, revoke, checkpoint, attach, detach),
// which are pure functions of (state, entry): they never read the clock and write the `lease`
// bucket inside the caller's backend transaction, so a lease and the applied index that created it
// commit together. Key attachments are not stored separately: they are derived from the keys'
// `lease` field, rebuilt when the KV store opens (KVStoreOptions.onRestoreLeasedKey → attach).
//
// The leader side (promote/demote, renew, timeToLive, expired, dueCheckpoints) reads the injected
// clock and decides what to propose; it is only ever present on the leader (primary.ts).
import { AssertionError } from '../base/assert.js';
import { Err, EtcdError } from '../base/errors.js';
import { silentLogger, type Clock, type Logger } from '../base/log.js';
import type { Backend, WriteTx } from '../backend/backend.js';
import type { LeaseCheckpoint } from '../generated/etcdserverpb.js';
import { Lease, MAX_LEASE_TTL, NO_LEASE } from './lease.js';
import { decodeLeaseRecord, encodeLeaseRecord, leaseIdFromKey, leaseIdKey } from './lease-codec.js';
import { Primary } from './primary.js';

export interface LessorOptions {
  /** Shorter TTLs are raised to this (see minLeaseTtlSeconds). */
  minTtlSeconds: bigint;
  /** Read only by the leader side. */
  clock: Clock;
  /** After an expired lease is handed out for revoking, when to hand it out again if still there. */
  expiredRetryMs?: number;
  /** How often each lease's remaining TTL is compared with its checkpointed one. */
  checkpointIntervalMs?: number;
  logger?: Logger;
}

export const DEFAULT_EXPIRED_RETRY_MS = 3000;
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 1000;

export type RenewResult =
  | {
      kind: 'renewed';
      ttl: bigint;
      /** The checkpointed remaining TTL must be reset to full first. */ resetCheckpoint: boolean;
    }
  | { kind: 'notFound' }
  /** Past its deadline: a revoke is on its way (waitRevoked tells when it is applied). */
  | { kind: 'expired' }
  | { kind: 'notPrimary' };

export interface TimeToLive {
  /** Whole seconds left (truncated, as etcd reports it). */
  ttl: bigint;
  grantedTtl: bigint;
  keys: Uint8Array[];
}

const EMPTY = new Uint8Array(0);

export class Lessor {
  private leases = new Map<bigint, Lease>();
  private primary: Primary | undefined;
  private readonly revokeWaiters = new Map<bigint, ((revoked: boolean) => void)[]>();
  private readonly minTtl: bigint;
  private readonly logger: Logger;

  private constructor(private readonly opts: LessorOptions) {
    this.minTtl = opts.minTtlSeconds;
    this.logger = opts.logger ?? silentLogger;
  }

  /** Opens the lessor over a backend: every lease in the `lease` bucket, no keys attached yet. */
  static open(backend: Backend, opts: LessorOptions): Lessor {
    const l = new Lessor(opts);
    l.load(backend);
    return l;
  }

  private load(backend: Backend): void {
    backend.read((tx) =>
      tx.forEach('lease', EMPTY, undefined, (k, v) => {
        const r = decodeLeaseRecord(v);
        if (r.ID !== leaseIdFromKey(k))
          throw new AssertionError(`lease bucket: key ${leaseIdFromKey(k)} holds ID ${r.ID}`);
        const ttl = r.TTL < this.minTtl ? this.minTtl : r.TTL;
        this.leases.set(r.ID, new Lease(r.ID, ttl, r.RemainingTTL));
      }),
    );
  }

  // ---- replicated state (apply) ----

  /** Applies LeaseGrant: a new lease with the full TTL (raised to the minimum). */
  grant(tx: WriteTx, id: bigint, ttl: bigint): Lease {
    if (id === NO_LEASE) throw new EtcdError(Err.leaseNotFound);
    if (ttl > MAX_LEASE_TTL) throw new EtcdError(Err.leaseTTLTooLarge);
    if (this.leases.has(id)) throw new EtcdError(Err.leaseExist);
    const l = new Lease(id, ttl < this.minTtl ? this.minTtl : ttl);
    this.leases.set(id, l);
    this.persist(tx, l);
    this.primary?.queue(id, 0);
    return l;
  }

  /**
   * The keys a revoke of `id` must delete, in byte order (the same order on every member). Throws
   * `requested lease not found`. The caller deletes them, detaching each, then calls revoke.
   */
  keysToRevoke(id: bigint): Uint8Array[] {
    const l = this.leases.get(id);
    if (l === undefined) throw new EtcdError(Err.leaseNotFound);
    return l.keys();
  }

  /** Applies LeaseRevoke once the lease's keys are deleted: the lease is gone from memory and bucket. */
  revoke(tx: WriteTx, id: bigint): void {
    const l = this.leases.get(id);
    if (l === undefined) throw new EtcdError(Err.leaseNotFound);
    if (l.keyCount !== 0)
      throw new AssertionError(`lease ${id} revoked with ${l.keyCount} keys still attached`);
    this.leases.delete(id);
    tx.delete('lease', leaseIdKey(id));
    this.primary?.forget(id);
    this.settleWaitersOf(id, true);
  }

  /** Applies one checkpoint: records the remaining TTL a new leader starts from. Unknown IDs are ignored. */
  checkpoint(tx: WriteTx, id: bigint, remainingTtl: bigint): void {
    const l = this.leases.get(id);
    if (l === undefined) return;
    l.remainingTtl = remainingTtl < 0n ? 0n : remainingTtl;
    this.persist(tx, l);
  }

  /** Attaches a key (a put with this lease applied, or the store reopened); false if no such lease. */
  attach(id: bigint, key: Uint8Array): boolean {
    const l = this.leases.get(id);
    if (l === undefined) return false;
    l.addKey(key.slice());
    return true;
  }

  /** Detaches a key (overwritten with another lease or none, or deleted); false if it was not attached. */
  detach(id: bigint, key: Uint8Array): boolean {
    return this.leases.get(id)?.removeKey(key) ?? false;
  }

  private persist(tx: WriteTx, l: Lease): void {
    tx.put(
      'lease',
      leaseIdKey(l.id),
      encodeLeaseRecord({ ID: l.id, TTL: l.ttl, RemainingTTL: l.remainingTtl }),
    );
  }

  // ---- reads of replicated state ----

  exists(id: bigint): boolean {
    return this.leases.has(id);
  }

  lookup(id: bigint): Lease | undefined {
    return this.leases.get(id);
  }

  get size(): number {
    return this.leases.size;
  }

  /** Every lease ID: on the leader soonest expiry first (as etcd lists them), elsewhere by ID. */
  ids(): bigint[] {
    const ids = [...this.leases.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const p = this.primary;
    if (p === undefined) return ids;
    p.schedule((id) => this.leases.get(id));
    return ids
      .map((id) => ({ id, ms: p.remainingMs(id) }))
      .sort((a, b) => a.ms - b.ms)
      .map((e) => e.id);
  }

  // ---- leader side ----

  get isPrimary(): boolean {
    return this.primary !== undefined;
  }

  /**
   * This member became leader and has applied every entry of earlier terms: every lease starts
   * counting down from its checkpointed remaining TTL (or its full TTL), with `graceMs` more before
   * it is revoked.
   */
  promote(graceMs: number): void {
    this.primary = new Primary(
      this.opts.clock,
      this.opts.expiredRetryMs ?? DEFAULT_EXPIRED_RETRY_MS,
      this.opts.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS,
    );
    for (const id of this.leases.keys()) this.primary.queue(id, graceMs);
    this.primary.schedule((id) => this.leases.get(id));
    this.logger.info('lessor promoted', { leases: this.leases.size, 'grace-ms': graceMs });
  }

  /** This member is no longer leader: no lease expires here any more. */
  demote(): void {
    if (this.primary === undefined) return;
    this.primary = undefined;
    this.settleWaiters(false);
  }

  /** Gives leases granted since the last leader-side call their expiry (the server calls it after apply). */
  schedulePending(): void {
    this.primary?.schedule((id) => this.leases.get(id));
  }

  private leader(): Primary | undefined {
    this.primary?.schedule((id) => this.leases.get(id));
    return this.primary;
  }

  /** A keepalive on the leader: the lease's full TTL starts again now. */
  renew(id: bigint): RenewResult {
    const p = this.leader();
    if (p === undefined) return { kind: 'notPrimary' };
    const l = this.leases.get(id);
    if (l === undefined) return { kind: 'notFound' };
    if (p.isExpired(id)) return { kind: 'expired' };
    p.renew(l);
    return { kind: 'renewed', ttl: l.ttl, resetCheckpoint: l.remainingTtl !== 0n };
  }

  /** The lease's remaining and granted TTL on the leader (undefined: no such lease). */
  timeToLive(id: bigint, withKeys: boolean): TimeToLive | undefined {
    const p = this.leader();
    if (p === undefined) throw new AssertionError('timeToLive asked of a lessor that is not primary');
    const l = this.leases.get(id);
    if (l === undefined) return undefined;
    const ms = p.remainingMs(id);
    return { ttl: BigInt(Math.trunc(ms / 1000)), grantedTtl: l.ttl, keys: withKeys ? l.keys() : [] };
  }

  /** True when some lease is past its revoke deadline (cheap: a peek at the heap). */
  hasExpired(): boolean {
    return this.leader()?.hasExpired() ?? false;
  }

  /** Up to `limit` leases to propose revokes for; each comes back after the retry interval if still there. */
  expired(limit: number): bigint[] {
    return this.leader()?.expired(limit) ?? [];
  }

  /** Up to `limit` checkpoints of leases whose remaining TTL moved since they were last checkpointed. */
  dueCheckpoints(limit: number): LeaseCheckpoint[] {
    return this.leader()?.dueCheckpoints(limit, (id) => this.leases.get(id)) ?? [];
  }

  /** A checkpoint of every lease whose recorded remaining TTL is stale (before handing leadership over). */
  allCheckpoints(): LeaseCheckpoint[] {
    const p = this.leader();
    if (p === undefined) return [];
    const out: LeaseCheckpoint[] = [];
    for (const l of this.leases.values()) {
      const c = p.checkpointOf(l);
      if (c !== undefined) out.push(c);
    }
    return out;
  }

  /** Resolves true when a revoke of `id` is applied, false if this member stops being leader first. */
  waitRevoked(id: bigint): Promise<boolean> {
    if (!this.leases.has(id)) return Promise.resolve(true);
    if (this.primary === undefined) return Promise.resolve(false);
    return new Promise((resolve) => {
      const list = this.revokeWaiters.get(id);
      if (list === undefined) this.revokeWaiters.set(id, [resolve]);
      else list.push(resolve);
    });
  }

  private settleWaitersOf(id: bigint, revoked: boolean): void {
    const list = this.revokeWaiters.get(id);
    if (list === undefined) return;
    this.revokeWaiters.delete(id);
    for (const f of list) f(revoked);
  }

  private settleWaiters(revoked: boolean): void {
    for (const id of [...this.revokeWaiters.keys()]) this.settleWaitersOf(id, revoked);
  }
}
