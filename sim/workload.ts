// Simulated clients. Each client proposes operations (client, seq, value) to the node it believes
// is the leader, learning the leader from the nodes it talks to, and retries an unacknowledged
// operation (same seq, so the state machine applies it once) after a timeout, possibly elsewhere.
// An operation is acknowledged when the node it was last proposed to applies it — the point where
// a real server would answer the client — and from then on it must survive every fault.
import type { Prng } from '../src/base/prng.js';
import { ErrProposalDropped } from '../src/raft/errors.js';
import type { Checkers } from './checkers.js';
import { encodeOp, opKey, type Op } from './state-machine.js';
import type { SimNode } from './node.js';

export interface WorkloadOptions {
  clients: number;
  /** Probability per time unit that a client with room starts a new operation. */
  proposeRate: number;
  /** Operations a client may have outstanding at once. */
  maxOutstanding: number;
  /** Time units after which an unacknowledged operation is proposed again. */
  retryAfter: number;
}

interface Pending {
  op: Op;
  node: bigint;
  at: number;
}

class Client {
  nextSeq = 1;
  guess: bigint | undefined;
  readonly pending = new Map<number, Pending>();
  constructor(readonly id: number) {}
}

export class Workload {
  private readonly clients: Client[] = [];
  /** When false, no new operations start (retries continue). */
  active = true;
  /** Draws a new operation's value (watch mode: an MVCC command, watch-ops.ts). */
  drawValue: (() => number) | undefined;
  readonly stats = { proposed: 0, dropped: 0, acked: 0, ackedSinceMark: 0 };

  constructor(
    private readonly prng: Prng,
    readonly opts: WorkloadOptions,
    private readonly checkers: Checkers,
  ) {
    for (let i = 1; i <= opts.clients; i++) this.clients.push(new Client(i));
  }

  /** Starts counting acknowledgements anew (the liveness phase counts only its own). */
  mark(): void {
    this.stats.ackedSinceMark = 0;
  }

  onApplied(node: bigint, op: Op): void {
    const c = this.clients[op.client - 1];
    const p = c?.pending.get(op.seq);
    if (c === undefined || p === undefined || p.node !== node) return;
    c.pending.delete(op.seq);
    this.checkers.onAck(op);
    this.stats.acked++;
    this.stats.ackedSinceMark++;
  }

  /** One time unit of client activity against `nodes` (some may be down or cut off). */
  step(now: number, nodes: readonly SimNode[]): void {
    for (const c of this.clients) {
      for (const p of [...c.pending.values()]) {
        if (now - p.at < this.opts.retryAfter) continue;
        if (this.prng.chance(0.5)) c.guess = undefined;
        this.propose(now, c, p.op, nodes);
      }
      if (
        this.active &&
        c.pending.size < this.opts.maxOutstanding &&
        this.prng.chance(this.opts.proposeRate)
      ) {
        const value = this.drawValue?.() ?? this.prng.nextUint32();
        const op = { client: c.id, seq: c.nextSeq++, value };
        this.propose(now, c, op, nodes);
      }
    }
  }

  private target(c: Client, nodes: readonly SimNode[]): SimNode | undefined {
    const up = nodes.filter((n) => n.up);
    if (up.length === 0) return undefined;
    const guessed = up.find((n) => n.id === c.guess);
    if (guessed !== undefined) return guessed;
    // Ask a random live node who leads; go there if it knows, else stay with the one asked.
    const asked = this.prng.pick(up);
    const lead = asked.raw!.basicStatus().lead;
    const leader = up.find((n) => n.id === lead);
    c.guess = (leader ?? asked).id;
    return leader ?? asked;
  }

  private propose(now: number, c: Client, op: Op, nodes: readonly SimNode[]): void {
    const n = this.target(c, nodes);
    c.pending.set(op.seq, { op, node: n?.id ?? 0n, at: now });
    if (n === undefined) return;
    this.stats.proposed++;
    try {
      n.raw!.propose(encodeOp(op));
    } catch (err) {
      if (err !== ErrProposalDropped) throw err;
      this.stats.dropped++;
      c.guess = undefined;
      return;
    }
    // A follower forwards the proposal; the client keeps talking to the leader it knows.
    const lead = n.raw!.basicStatus().lead;
    if (lead !== 0n && lead !== n.id) c.guess = lead;
  }

  /** Keys of every operation still waiting for an acknowledgement. */
  outstanding(): string[] {
    return this.clients.flatMap((c) => [...c.pending.values()].map((p) => opKey(p.op.client, p.op.seq)));
  }
}
