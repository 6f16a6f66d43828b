// The simulated network between raft nodes. Every choice comes from the run's Prng: each message
// gets a random delay (so messages overtake each other), may be lost, may be duplicated (the copy
// gets its own delay) and may be held back by a long "reorder" delay. Links can be cut one way
// (from → to) or both ways; a cut link drops what it carries at delivery time, so messages already
// in flight when a partition starts are lost too. `heal` restores every link.
//
// Delivery order is deterministic: by delivery time, then by send order. Each delivered message is
// a deep copy, so a receiver never shares entry arrays with the sender or with a duplicate.
import type { Prng } from '../src/base/prng.js';
import { MessageType, type Message, type Snapshot } from '../src/raft/types.js';

export interface NetworkOptions {
  minDelay: number;
  maxDelay: number;
  /** Probability that a message is lost. */
  lossRate: number;
  /** Probability that a message is delivered twice. */
  dupRate: number;
  /** Probability that a message is held back by up to `reorderDelay` extra units. */
  reorderRate: number;
  reorderDelay: number;
}

interface InFlight {
  at: number;
  seq: number;
  msg: Message;
  /** A lost message kept only so its sender hears of the loss. */
  lost: boolean;
}

/** What the network tells the run loop about a message's fate (for snapshot status reports). */
export interface Delivery {
  msg: Message;
  /** False when the message was lost or dropped by a cut link; the receiver does not get it. */
  delivered: boolean;
}

function cloneSnapshot(s: Snapshot): Snapshot {
  const cs = s.metadata.confState;
  return {
    data: s.data,
    metadata: {
      index: s.metadata.index,
      term: s.metadata.term,
      confState: {
        voters: [...cs.voters],
        learners: [...cs.learners],
        votersOutgoing: [...cs.votersOutgoing],
        learnersNext: [...cs.learnersNext],
        autoLeave: cs.autoLeave,
      },
    },
  };
}

export function cloneMessage(m: Message): Message {
  const c: Message = { ...m, entries: m.entries.map((e) => ({ ...e })) };
  if (m.snapshot !== undefined) c.snapshot = cloneSnapshot(m.snapshot);
  return c;
}

export class SimNetwork {
  private queue: InFlight[] = [];
  private seq = 0;
  /** Cut links, as "from>to". */
  private cut = new Set<string>();
  readonly stats = { sent: 0, lost: 0, duplicated: 0, cutDropped: 0, delivered: 0 };

  constructor(
    private readonly prng: Prng,
    public opts: NetworkOptions,
  ) {}

  private enqueue(at: number, msg: Message, lost = false): void {
    const item = { at, seq: this.seq++, msg: cloneMessage(msg), lost };
    // Keep the queue sorted by (at, seq): insert after every item due at or before `at`.
    let i = this.queue.length;
    while (i > 0 && this.queue[i - 1]!.at > at) i--;
    this.queue.splice(i, 0, item);
  }

  private delay(): number {
    let d = this.prng.intBetween(this.opts.minDelay, this.opts.maxDelay);
    if (this.prng.chance(this.opts.reorderRate)) d += this.prng.intBetween(1, this.opts.reorderDelay);
    return d;
  }

  /** Queues `msg`; returns false when it was lost on the way (it will never be delivered). */
  send(now: number, msg: Message): boolean {
    this.stats.sent++;
    if (this.prng.chance(this.opts.lossRate)) {
      this.stats.lost++;
      // The sender of a snapshot learns that it failed (etcd's transport reports it).
      if (msg.type === MessageType.MsgSnap) this.enqueue(now + this.opts.maxDelay, msg, true);
      return false;
    }
    this.enqueue(now + this.delay(), msg);
    if (this.prng.chance(this.opts.dupRate)) {
      this.stats.duplicated++;
      this.enqueue(now + this.delay(), msg);
    }
    return true;
  }

  /** Holds a message that reached a paused process until `at` (kernel buffers keep it). */
  holdUntil(at: number, msg: Message): void {
    this.enqueue(at, msg);
  }

  /** Messages due at or before `now`, in order, each marked delivered or dropped by a cut link. */
  due(now: number): Delivery[] {
    let n = 0;
    while (n < this.queue.length && this.queue[n]!.at <= now) n++;
    const out: Delivery[] = [];
    for (const item of this.queue.splice(0, n)) {
      const ok = !item.lost && this.connected(item.msg.from, item.msg.to);
      if (ok) this.stats.delivered++;
      else if (!item.lost) this.stats.cutDropped++;
      out.push({ msg: item.msg, delivered: ok });
    }
    return out;
  }

  connected(from: bigint, to: bigint): boolean {
    return !this.cut.has(`${from}>${to}`);
  }

  cutOneWay(from: bigint, to: bigint): void {
    if (from !== to) this.cut.add(`${from}>${to}`);
  }

  cutBoth(a: bigint, b: bigint): void {
    this.cutOneWay(a, b);
    this.cutOneWay(b, a);
  }

  /** Cuts every link between the two groups, both ways. */
  split(groupA: readonly bigint[], groupB: readonly bigint[]): void {
    for (const a of groupA) for (const b of groupB) this.cutBoth(a, b);
  }

  heal(): void {
    this.cut.clear();
  }

  /** Restores the links between members of `group` (both ways). */
  healWithin(group: readonly bigint[]): void {
    for (const a of group) for (const b of group) this.cut.delete(`${a}>${b}`);
  }

  /** Restores every link to and from `id`. */
  healNode(id: bigint): void {
    for (const k of [...this.cut]) {
      const [from, to] = k.split('>');
      if (from === String(id) || to === String(id)) this.cut.delete(k);
    }
  }

  /** A description of the cut links, sorted, for verbose logs. */
  describeCuts(): string {
    return [...this.cut].sort().join(' ');
  }

  inFlight(): number {
    return this.queue.length;
  }
}
