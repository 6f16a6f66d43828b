// Linearizable reads through raft's ReadIndex, batched as etcd's linearizableReadLoop batches them:
// every read that arrives while no round is in flight joins the next round, one round asks raft
// for a read index (the leader confirms its leadership with a heartbeat round), and all of its
// reads are released once this member has applied up to that index. A round that gets no answer
// within a round timeout is retried (e.g. no leader yet); a leader change fails the round's reads
// with "leader changed"; a read that waits longer than the request timeout fails with "request
// timed out".
import { EtcdError, Err } from '../base/index.js';
import type { ReadState } from '../raft/read-only.js';

interface PendingRead {
  resolve(): void;
  reject(e: unknown): void;
  deadline: number;
}

interface AppliedWaiter {
  index: bigint;
  resolve(): void;
}

export interface ReadIndexHost {
  /** Asks raft for a read index with this context. */
  readIndex(ctx: Uint8Array): void;
  appliedIndex(): bigint;
  nowMs(): number;
}

export class ReadIndexer {
  private next: PendingRead[] = [];
  private inFlight: { ctx: string; reads: PendingRead[]; sentMs: number } | undefined;
  private readonly appliedWaiters: AppliedWaiter[] = [];
  private seq = 0n;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly host: ReadIndexHost,
    private readonly roundTimeoutMs: number,
    private readonly requestTimeoutMs: number,
  ) {}

  /** Resolves once this member has applied everything committed when it was called. */
  wait(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.next.push({ resolve, reject, deadline: this.host.nowMs() + this.requestTimeoutMs });
      if (this.inFlight === undefined) this.startRound();
      this.ensureTimer();
    });
  }

  /** Resolves once appliedIndex reaches `index`. */
  waitApplied(index: bigint): Promise<void> {
    if (this.host.appliedIndex() >= index) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.appliedWaiters.push({ index, resolve });
      this.appliedWaiters.sort((a, b) => (a.index < b.index ? -1 : a.index > b.index ? 1 : 0));
    });
  }

  private startRound(): void {
    if (this.next.length === 0) return;
    const reads = this.next;
    this.next = [];
    this.seq++;
    const ctx = new Uint8Array(8);
    new DataView(ctx.buffer).setBigUint64(0, this.seq);
    this.inFlight = { ctx: this.seq.toString(), reads, sentMs: this.host.nowMs() };
    this.host.readIndex(ctx);
  }

  onReadStates(states: ReadState[]): void {
    for (const rs of states) {
      const f = this.inFlight;
      if (f === undefined || rs.requestCtx.length !== 8) continue;
      const seq = new DataView(rs.requestCtx.buffer, rs.requestCtx.byteOffset, 8).getBigUint64(0);
      if (seq.toString() !== f.ctx) continue;
      this.inFlight = undefined;
      const reads = f.reads;
      void this.waitApplied(rs.index).then(() => {
        for (const r of reads) r.resolve();
      });
      this.startRound();
    }
  }

  /** After every apply: release what waits for the applied index. */
  onApplied(applied: bigint): void {
    while (this.appliedWaiters.length > 0 && this.appliedWaiters[0]!.index <= applied) {
      this.appliedWaiters.shift()!.resolve();
    }
  }

  /** The leader changed: the round in flight may never be answered. */
  onLeaderChange(): void {
    const f = this.inFlight;
    if (f === undefined) return;
    this.inFlight = undefined;
    for (const r of f.reads) r.reject(new EtcdError(Err.leaderChanged));
    this.startRound();
  }

  private ensureTimer(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.check(), Math.max(10, Math.floor(this.roundTimeoutMs / 4)));
    this.timer.unref();
  }

  private check(): void {
    const now = this.host.nowMs();
    const expire = (reads: PendingRead[]): PendingRead[] =>
      reads.filter((r) => {
        if (r.deadline > now) return true;
        r.reject(new EtcdError(Err.timeout));
        return false;
      });
    this.next = expire(this.next);
    const f = this.inFlight;
    if (f !== undefined) {
      f.reads = expire(f.reads);
      if (now - f.sentMs >= this.roundTimeoutMs) {
        // No answer: retry the round's reads with the next ones.
        this.inFlight = undefined;
        this.next = [...f.reads, ...this.next];
      }
    }
    if (this.inFlight === undefined) this.startRound();
    if (this.inFlight === undefined && this.next.length === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Fails everything still waiting (the server stops). */
  stop(err: EtcdError): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    for (const r of [...(this.inFlight?.reads ?? []), ...this.next]) r.reject(err);
    this.inFlight = undefined;
    this.next = [];
  }
}
