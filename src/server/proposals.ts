// Proposals waiting for their apply, and the errors etcd answers them with: a proposal made while
// there is no leader waits for one; one that is not applied within the request timeout fails with
// etcd's parseProposeCtxErr variant of "request timed out" (previous leader failure, connection
// lost, or plain); when the leader changes, every waiting proposal fails with "leader changed"
// (it may never commit). One sweeping timer serves all proposals.
import { EtcdError, Err } from '../base/index.js';
import { ErrProposalDropped } from '../raft/errors.js';
import { None } from '../raft/types.js';
import type { ApplyResult } from './applier.js';
import type { PeerTransport } from './peer-transport.js';

interface Waiter {
  resolve(r: ApplyResult): void;
  reject(e: unknown): void;
  startMs: number;
}

export interface ProposalHost {
  readonly memberId: bigint;
  readonly transport: PeerTransport;
  readonly electionMs: number;
  readonly requestTimeoutMs: number;
  /** The current leader (None when unknown). */
  lead(): bigint;
  voters(): bigint[];
  /** Makes the raft loop run. */
  kick(): void;
}

export class Proposals {
  private readonly waiters = new Map<bigint, Waiter>();
  private readonly leaderWaiters: (() => void)[] = [];
  private leadElectedMs = 0;
  private sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly host: ProposalHost) {}

  get size(): number {
    return this.waiters.size;
  }

  start(): void {
    this.sweeper = setInterval(() => this.sweep(), Math.min(500, this.host.electionMs));
    this.sweeper.unref();
  }

  /** Registers a waiter for `id`, proposes, and resolves with the apply result (or its error). */
  async submit(id: bigint, propose: () => void): Promise<ApplyResult> {
    const startMs = Date.now();
    if (this.host.lead() === None) await this.waitLeader(startMs);
    const result = new Promise<ApplyResult>((resolve, reject) => {
      this.waiters.set(id, { resolve, reject, startMs });
    });
    try {
      propose();
    } catch (err) {
      this.waiters.delete(id);
      if (err === ErrProposalDropped) throw new Error('raft proposal dropped');
      throw err;
    }
    this.host.kick();
    const res = await result;
    if (res.err !== undefined) throw res.err;
    return res;
  }

  /** Wakes the waiters of applied proposals. */
  applied(results: Map<bigint, ApplyResult>): void {
    for (const [id, res] of results) {
      const w = this.waiters.get(id);
      if (w === undefined) continue;
      this.waiters.delete(id);
      w.resolve(res);
    }
  }

  /** The leader changed from `prev` to `lead`. */
  leaderChanged(prev: bigint, lead: bigint): void {
    if (lead !== None) {
      this.leadElectedMs = Date.now();
      for (const w of this.leaderWaiters.splice(0)) w();
    }
    if (prev === None) return;
    this.failAll(new EtcdError(Err.leaderChanged));
  }

  failAll(err: unknown): void {
    const all = [...this.waiters.values()];
    this.waiters.clear();
    for (const w of all) w.reject(err);
  }

  stop(err: EtcdError): void {
    clearInterval(this.sweeper);
    this.failAll(err);
  }

  private waitLeader(startMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(this.timeoutError(startMs)), this.host.requestTimeoutMs);
      timer.unref();
      this.leaderWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private sweep(): void {
    const cutoff = Date.now() - this.host.requestTimeoutMs;
    for (const [id, w] of this.waiters) {
      if (w.startMs > cutoff) continue;
      this.waiters.delete(id);
      w.reject(this.timeoutError(w.startMs));
    }
  }

  /** etcd's parseProposeCtxErr for a deadline: which "request timed out" the client gets. */
  timeoutError(startMs: number): EtcdError {
    const h = this.host;
    const prevLeadLost = this.leadElectedMs - 2 * h.electionMs;
    if (startMs > prevLeadLost && startMs < this.leadElectedMs)
      return new EtcdError(Err.timeoutDueToLeaderFail);
    const lead = h.lead();
    if (lead === h.memberId) {
      const voters = h.voters().filter((v) => v !== h.memberId);
      const connected = voters.filter((v) => (h.transport.activeSince(v) ?? Infinity) <= startMs).length + 1;
      if (connected < Math.floor((voters.length + 1) / 2) + 1)
        return new EtcdError(Err.timeoutDueToConnectionLost);
    } else if (lead !== None) {
      const since = h.transport.activeSince(lead);
      if (since === undefined || since > startMs) return new EtcdError(Err.timeoutDueToConnectionLost);
    }
    return new EtcdError(Err.timeout);
  }
}
