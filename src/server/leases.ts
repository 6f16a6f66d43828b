// The server's side of leases (etcd's v3_server.go Lease* and the lessor's run loop): grant and
// revoke go through raft like every write; keepalives and TimeToLive are answered by the leader's
// lessor, and a follower forwards them to the leader over the peer URL (etcd's leasehttp).
//
// The leader's loop (one timer) proposes what the lessor decides: revokes of expired leases, at
// most LEASE_REVOKE_RATE_PER_SECOND, and only after a ReadIndex round confirmed that a quorum still
// follows this leader (a leader cut off from its quorum must not revoke); and checkpoints of
// remaining TTLs, ≤ MAX_CHECKPOINTS_PER_ENTRY per entry, so a new leader continues from them.
// A keepalive answered by the leader first makes "the remaining TTL is full again" durable when the
// recorded one is not (a LeaseCheckpoint of 0): keepalives waiting for that share one entry.
import { EtcdError, Err, type Logger } from '../base/index.js';
import {
  LeaseKeepAliveRequest,
  LeaseKeepAliveResponse,
  type InternalRaftRequest,
  type LeaseGrantRequest,
  type LeaseGrantResponse,
  type LeaseLeasesResponse,
  type LeaseRevokeRequest,
  type LeaseRevokeResponse,
  type LeaseTimeToLiveRequest,
  type LeaseTimeToLiveResponse,
  type ResponseHeader,
} from '../generated/etcdserverpb.js';
import {
  decodeLeaseInternalRequest,
  decodeLeaseInternalResponse,
  encodeLeaseInternalRequest,
  encodeLeaseInternalResponse,
  LEASE_REVOKE_RATE_PER_SECOND,
  MAX_CHECKPOINTS_PER_ENTRY,
  type Lessor,
} from '../lease/index.js';
import { None, type Entry, EntryType } from '../raft/types.js';
import type { LeasePath, PeerTransport } from './peer-transport.js';

/** How often the leader looks for expired leases and due checkpoints. */
export const LEASE_TICK_MS = 250;
/** Checkpoint entries proposed and not yet applied, at most. */
export const MAX_CHECKPOINT_ENTRIES_IN_FLIGHT = 4;
/** Revokes proposed and not yet applied, at most (etcd's maxPendingRevokes is 16 goroutines). */
export const MAX_PENDING_REVOKES = 1000;
/** How long a forwarded request waits for the leader to apply what it has committed (etcd's applyTimeout). */
export const APPLY_WAIT_MS = 1000;

const POSITIVE_INT64 = (1n << 63n) - 1n;

export interface LeaseApplyResult {
  leaseGrant?: LeaseGrantResponse;
  leaseRevoke?: LeaseRevokeResponse;
}

export interface LeaseHost {
  readonly memberId: bigint;
  readonly logger: Logger;
  readonly electionMs: number;
  readonly heartbeatMs: number;
  readonly requestTimeoutMs: number;
  readonly transport: PeerTransport;
  isLeader(): boolean;
  leaderId(): bigint;
  term(): bigint;
  propose(body: Partial<InternalRaftRequest>): Promise<LeaseApplyResult>;
  /** Resolves once a quorum confirmed this member's leadership (a ReadIndex round); rejects otherwise. */
  confirmLeadership(): Promise<void>;
  /** Resolves once this member applied everything committed when it was called. */
  waitApplied(): Promise<void>;
  header(): ResponseHeader;
  nextId(): bigint;
  checkRunning(): void;
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

function withTimeout<T>(p: Promise<T>, ms: number, err: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(err()), ms);
    t.unref();
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

const notPrimary = (): Error => new Error('not a primary lessor');

export class LeaseServer {
  private timer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  private revoking = false;
  private readonly pendingRevokes = new Set<bigint>();
  private checkpointsInFlight = 0;
  private readonly resetWaiters = new Map<bigint, Waiter[]>();
  private resetting = false;

  constructor(
    private lessor: Lessor,
    private readonly host: LeaseHost,
  ) {}

  get lessorInstance(): Lessor {
    return this.lessor;
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), LEASE_TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.lessor.demote();
    this.failResets(new EtcdError(Err.stopped));
  }

  // ---- hooks from the server ----

  /**
   * After a batch is applied: leases granted meanwhile get their expiry; a leader that has just
   * applied the empty entry of its own term (so every entry of earlier terms, checkpoints
   * included) takes over expiry, with one election timeout of grace (etcd's Promote).
   */
  applied(entries: readonly Entry[]): void {
    if (!this.lessor.isPrimary && this.host.isLeader()) {
      const term = this.host.term();
      const own = entries.some((e) => e.type === EntryType.Normal && e.data.length === 0 && e.term === term);
      if (own) this.lessor.promote(this.host.electionMs);
    }
    this.lessor.schedulePending();
  }

  /** Raft's role changed: anything but leader stops expiring leases at once. */
  roleChanged(isLeader: boolean): void {
    if (!isLeader) this.lessor.demote();
  }

  /** A snapshot was installed: the lessor is rebuilt from the new backend (its keys re-attach as the store reopens). */
  recovered(lessor: Lessor): void {
    this.lessor = lessor;
  }

  // ---- the leader's loop ----

  private tick(): void {
    if (this.stopped || !this.host.isLeader() || !this.lessor.isPrimary) return;
    this.proposeCheckpoints();
    if (!this.revoking && this.lessor.hasExpired()) void this.revokeExpired();
  }

  private proposeCheckpoints(): void {
    while (this.checkpointsInFlight < MAX_CHECKPOINT_ENTRIES_IN_FLIGHT) {
      const checkpoints = this.lessor.dueCheckpoints(MAX_CHECKPOINTS_PER_ENTRY);
      if (checkpoints.length === 0) return;
      this.checkpointsInFlight++;
      this.host
        .propose({ leaseCheckpoint: { checkpoints } })
        .catch((err: unknown) => this.host.logger.debug('lease checkpoint failed', { error: String(err) }))
        .finally(() => this.checkpointsInFlight--);
    }
  }

  private async revokeExpired(): Promise<void> {
    this.revoking = true;
    try {
      // A leader that cannot reach a quorum must not revoke: its clients may be renewing elsewhere.
      await this.host.confirmLeadership();
      if (this.stopped || !this.host.isLeader() || !this.lessor.isPrimary) return;
      const perTick = Math.ceil((LEASE_REVOKE_RATE_PER_SECOND * LEASE_TICK_MS) / 1000);
      const room = Math.min(perTick, MAX_PENDING_REVOKES - this.pendingRevokes.size);
      for (const id of this.lessor.expired(Math.max(0, room))) {
        if (this.pendingRevokes.has(id)) continue;
        this.pendingRevokes.add(id);
        this.host
          .propose({ leaseRevoke: { ID: id } })
          .catch((err: unknown) => {
            if (err instanceof EtcdError && err.message === Err.leaseNotFound) return;
            this.host.logger.warn('failed to revoke lease', {
              'lease-id': id.toString(16),
              error: String(err),
            });
          })
          .finally(() => this.pendingRevokes.delete(id));
      }
    } catch (err) {
      this.host.logger.warn('lease expiry waits: leadership not confirmed', { error: String(err) });
    } finally {
      this.revoking = false;
    }
  }

  /** Before handing leadership over: every stale remaining TTL is checkpointed and applied. */
  async checkpointAll(): Promise<void> {
    const all = this.lessor.allCheckpoints();
    const entries: Promise<unknown>[] = [];
    for (let i = 0; i < all.length; i += MAX_CHECKPOINTS_PER_ENTRY) {
      const checkpoints = all.slice(i, i + MAX_CHECKPOINTS_PER_ENTRY);
      entries.push(this.host.propose({ leaseCheckpoint: { checkpoints } }));
    }
    await Promise.all(entries);
  }

  // ---- client requests ----

  async grant(r: LeaseGrantRequest): Promise<LeaseGrantResponse> {
    let id = r.ID;
    while (id === 0n) id = this.host.nextId() & POSITIVE_INT64;
    const res = await this.host.propose({ leaseGrant: { ID: id, TTL: r.TTL } });
    return res.leaseGrant!;
  }

  async revoke(r: LeaseRevokeRequest): Promise<LeaseRevokeResponse> {
    const res = await this.host.propose({ leaseRevoke: { ID: r.ID } });
    return res.leaseRevoke!;
  }

  leases(): LeaseLeasesResponse {
    return { header: this.host.header(), leases: this.lessor.ids().map((ID) => ({ ID })) };
  }

  /** A keepalive: the renewed TTL, from this member if it leads, else from the leader. */
  renew(id: bigint, signal?: AbortSignal): Promise<bigint> {
    return this.onLeader(
      signal,
      () => this.renewHere(id),
      async (lead, ms) => {
        const body = LeaseKeepAliveRequest.encode({ ID: id });
        const resp = LeaseKeepAliveResponse.decode(await this.post(lead, '/leases', body, ms));
        if (resp.ID !== id) throw new Error('lease: renew id mismatch');
        return resp.TTL;
      },
    );
  }

  /** TimeToLive from the leader's lessor; throws `requested lease not found` for an unknown lease. */
  timeToLive(r: LeaseTimeToLiveRequest, signal?: AbortSignal): Promise<LeaseTimeToLiveResponse> {
    return this.onLeader(
      signal,
      async () => {
        await this.waitApplied();
        return this.timeToLiveHere(r);
      },
      async (lead, ms) => {
        const body = encodeLeaseInternalRequest({ ID: r.ID, keys: r.keys });
        const resp = decodeLeaseInternalResponse(await this.post(lead, '/leases/internal', body, ms));
        if (resp.ID !== r.ID) throw new Error('lease: renew id mismatch');
        return { ...resp, header: this.host.header() };
      },
    );
  }

  /** A request forwarded by a follower (PeerHandler.serveLease); this member must lead. */
  async serveLease(path: LeasePath, body: Uint8Array): Promise<Uint8Array> {
    if (!this.host.isLeader() || !this.lessor.isPrimary) throw notPrimary();
    await this.waitApplied();
    if (path === '/leases') {
      const req = LeaseKeepAliveRequest.decode(body);
      const ttl = await this.renewHere(req.ID);
      if (ttl === undefined) throw notPrimary();
      return LeaseKeepAliveResponse.encode({ ID: req.ID, TTL: ttl });
    }
    const req = decodeLeaseInternalRequest(body);
    const resp = this.timeToLiveHere(req);
    return encodeLeaseInternalResponse({
      ...resp,
      header: { clusterId: 0n, memberId: 0n, revision: 0n, raftTerm: 0n },
    });
  }

  // ---- helpers ----

  /**
   * Runs `here` while this member leads with a promoted lessor, else `forward` to the known leader,
   * retrying (a new leader not yet promoted, no leader, a failed forward) until the request timeout.
   * `here` returns undefined when this member turned out not to be primary after all.
   */
  private async onLeader<T>(
    signal: AbortSignal | undefined,
    here: () => Promise<T | undefined>,
    forward: (lead: bigint, timeoutMs: number) => Promise<T>,
  ): Promise<T> {
    const deadline = Date.now() + this.host.requestTimeoutMs;
    for (;;) {
      this.host.checkRunning();
      if (signal?.aborted === true) throw new EtcdError(Err.canceled);
      const lead = this.host.leaderId();
      try {
        if (this.host.isLeader() && this.lessor.isPrimary) {
          const out = await here();
          if (out !== undefined) return out;
        } else if (
          lead !== None &&
          lead !== this.host.memberId &&
          this.host.transport.postLease !== undefined
        ) {
          return await forward(lead, Math.max(1, deadline - Date.now()));
        }
      } catch (err) {
        if (err instanceof EtcdError && (err.message === Err.leaseNotFound || err.message === Err.stopped))
          throw err;
        this.host.logger.debug('lease request retried', { error: String(err) });
      }
      if (Date.now() >= deadline) throw new EtcdError(Err.timeout);
      await sleep(this.host.heartbeatMs);
    }
  }

  private post(lead: bigint, path: LeasePath, body: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    return this.host.transport.postLease!(lead, path, body, timeoutMs);
  }

  private waitApplied(): Promise<void> {
    return withTimeout(
      this.host.waitApplied(),
      APPLY_WAIT_MS,
      () => new EtcdError(Err.timeoutWaitAppliedIndex),
    );
  }

  /** Renews on this (leading) member; undefined when its lessor is not primary. */
  private async renewHere(id: bigint): Promise<bigint | undefined> {
    await this.waitApplied();
    const r = this.lessor.renew(id);
    switch (r.kind) {
      case 'notFound':
        throw new EtcdError(Err.leaseNotFound);
      case 'notPrimary':
        return undefined;
      case 'expired': {
        // Answer once the revoke is applied (the lease is gone) or this member stops leading.
        const revoked = await withTimeout(
          this.lessor.waitRevoked(id),
          this.host.requestTimeoutMs,
          notPrimary,
        );
        if (revoked) throw new EtcdError(Err.leaseNotFound);
        return undefined;
      }
      case 'renewed':
        if (r.resetCheckpoint) await this.resetCheckpoint(id);
        return r.ttl;
    }
  }

  private timeToLiveHere(r: LeaseTimeToLiveRequest): LeaseTimeToLiveResponse {
    if (!this.lessor.isPrimary) throw notPrimary();
    const t = this.lessor.timeToLive(r.ID, r.keys);
    if (t === undefined) throw new EtcdError(Err.leaseNotFound);
    return { header: this.host.header(), ID: r.ID, TTL: t.ttl, grantedTTL: t.grantedTtl, keys: t.keys };
  }

  /** Makes "lease `id` has its full TTL again" durable; concurrent callers share one entry. */
  private resetCheckpoint(id: bigint): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const list = this.resetWaiters.get(id);
      if (list === undefined) this.resetWaiters.set(id, [{ resolve, reject }]);
      else list.push({ resolve, reject });
      if (!this.resetting) void this.flushResets();
    });
  }

  private async flushResets(): Promise<void> {
    this.resetting = true;
    while (this.resetWaiters.size > 0 && !this.stopped) {
      const batch = new Map<bigint, Waiter[]>();
      for (const [id, ws] of this.resetWaiters) {
        batch.set(id, ws);
        this.resetWaiters.delete(id);
        if (batch.size === MAX_CHECKPOINTS_PER_ENTRY) break;
      }
      const checkpoints = [...batch.keys()].map((ID) => ({ ID, remainingTTL: 0n }));
      try {
        await this.host.propose({ leaseCheckpoint: { checkpoints } });
        for (const ws of batch.values()) for (const w of ws) w.resolve();
      } catch (err) {
        for (const ws of batch.values()) for (const w of ws) w.reject(err);
      }
    }
    this.resetting = false;
  }

  private failResets(err: unknown): void {
    for (const ws of this.resetWaiters.values()) for (const w of ws) w.reject(err);
    this.resetWaiters.clear();
  }
}
