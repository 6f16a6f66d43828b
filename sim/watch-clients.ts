// Simulated watch clients (watch mode). A client's watch is a chain of pieces: each piece is one
// watcher on one node, reached through a stream — a bounded buffer of responses between the store
// and the client, shared by the watches a client opened on that node, like a gRPC Watch stream.
// The sink side (the server) puts created, event, canceled and progress responses in the buffer;
// a deliver over the bound (or refused at random) makes the watcher a victim, resumed once the
// client has read the buffer down. The client side reads a few responses now and then (slow
// consumers), cancels watches, moves a watch to another node, and after its node crashes resumes
// each watch elsewhere from the last revision it saw + 1. What a client read is what the checker
// judges: at the end every chain goes through checkResumedWatch against the committed history.
import { Event as EventCodec } from '../src/generated/mvccpb.js';
import type { Prng } from '../src/base/prng.js';
import { checkResumedWatch, type ObservedResponse, type WatchHistory } from '../src/mvcc/watch-checker.js';
import type { Watcher, WatchSink, WatchSpec } from '../src/mvcc/watch-types.js';
import type { WatchableStore } from '../src/mvcc/watchable-store.js';
import { assert } from '../src/base/assert.js';
import { SimFailure } from './checkers.js';
import type { SimNode } from './node.js';
import { drawWatchSpec } from './watch-ops.js';

export interface WatchOptions {
  /** Probability per time unit that a client opens a watch (while fewer than maxWatches are open). */
  openRate: number;
  maxWatches: number;
  /** Probabilities per time unit that a client cancels a watch / moves one to another node. */
  cancelRate: number;
  migrateRate: number;
  /** Responses a stream buffers before a deliver is refused. */
  bufferBound: number;
  /** Probability per unit that a client reads its stream, and how many responses it then reads. */
  readRate: number;
  readBurst: number;
  /** Probability that a deliver is refused though the buffer has room. */
  refuseRate: number;
  /** Probability per unit and stream of a progress request (stream-wide or one watcher's). */
  progressRate: number;
  /** Share of the workload's operations that are compactions. */
  compactShare: number;
  catchUpEventsPerStep: number;
}

interface Queued {
  /** undefined: a stream-wide progress notification (etcd's watch_id -1). */
  piece: Piece | undefined;
  resp: ObservedResponse;
}

const NO_EVENTS: ObservedResponse['events'] = [];

function response(over: Partial<ObservedResponse>): ObservedResponse {
  return {
    created: false,
    canceled: false,
    compactRevision: 0n,
    fragment: false,
    events: NO_EVENTS,
    ...over,
  };
}

/** One watcher on one node, and what its client has read of it. */
class Piece {
  readonly responses: ObservedResponse[] = [];
  watcher: Watcher | undefined;
  createdRead = false;
  ended = false;
  /** The client left it (moved elsewhere): what is still buffered for it is never read. */
  abandoned = false;
  /** The last revision the client has seen: its last event or progress (start - 1 at first). */
  seen = 0n;

  constructor(
    readonly chain: Chain,
    readonly stream: Stream,
    readonly spec: WatchSpec,
  ) {}

  read(resp: ObservedResponse): void {
    this.responses.push(resp);
    const h = resp.header?.revision ?? 0n;
    if (resp.created) {
      this.createdRead = true;
      this.seen = (this.spec.startRev > 0n ? this.spec.startRev : h + 1n) - 1n;
    }
    if (resp.canceled) {
      this.ended = true;
      this.chain.state = 'done';
      return;
    }
    const last = resp.events[resp.events.length - 1]?.kv?.modRevision;
    const claim = last ?? (resp.created ? 0n : h);
    if (claim > this.seen) this.seen = claim;
  }

  /** Where a resumed watch starts: one past what was seen (the same start if nothing was). */
  resumeRev(): bigint {
    return this.createdRead ? this.seen + 1n : this.spec.startRev;
  }
}

class Chain {
  readonly pieces: Piece[] = [];
  state: 'live' | 'pending' | 'done' = 'live';
  /** The client canceled it: it ends even if the cancel response is lost. */
  canceling = false;
  pendingStart = 0n;
  constructor(readonly id: number) {}

  get current(): Piece {
    return this.pieces[this.pieces.length - 1]!;
  }
}

class Stream {
  readonly queue: Queued[] = [];
  readonly live = new Map<Watcher, Piece>();
  victims: Watcher[] = [];
  readonly sink: WatchSink;

  constructor(
    readonly node: bigint,
    readonly store: WatchableStore,
    private readonly clients: WatchClients,
  ) {
    this.sink = {
      deliver: (w, batch) => {
        const piece = this.live.get(w);
        assert(piece !== undefined, 'deliver to a watcher its stream does not hold');
        const events = batch.events.map((se) => EventCodec.decode(se.encoded(piece.spec.prevKv)));
        this.queue.push({ piece, resp: response({ header: { revision: this.store.currentRev }, events }) });
        this.clients.stats.batches++;
        if (this.queue.length <= this.clients.bound() && !this.clients.refuse()) return true;
        this.clients.stats.refusals++;
        this.victims.push(w);
        return false;
      },
      compacted: (w, compactRevision) => {
        const piece = this.live.get(w);
        assert(piece !== undefined, 'compaction of a watcher its stream does not hold');
        this.live.delete(w);
        this.clients.stats.compacted++;
        const header = { revision: this.store.currentRev };
        this.queue.push({ piece, resp: response({ header, canceled: true, compactRevision }) });
      },
    };
  }

  /** The revision a stream-wide progress request may claim: the least progress of its watchers. */
  progressRev(): bigint {
    let min: bigint | undefined;
    for (const w of this.live.keys()) if (min === undefined || w.progressRev < min) min = w.progressRev;
    return min ?? this.store.currentRev;
  }
}

export class WatchClients {
  private readonly chains: Chain[] = [];
  private streams: Stream[] = [];
  private nextTag = 1n;
  /** Set for the final drain: read everything, refuse nothing, start nothing. */
  private draining = false;
  readonly stats = { watches: 0, resumed: 0, moved: 0, batches: 0, refusals: 0, compacted: 0, events: 0 };

  constructor(
    private readonly prng: Prng,
    readonly opts: WatchOptions,
  ) {}

  bound(): number {
    return this.draining ? Number.MAX_SAFE_INTEGER : this.opts.bufferBound;
  }

  refuse(): boolean {
    return !this.draining && this.prng.chance(this.opts.refuseRate);
  }

  /** One time unit of client activity against the nodes that are up and not paused. */
  step(active: readonly SimNode[], opening: boolean): void {
    const p = this.prng;
    for (const c of this.chains)
      if (c.state === 'pending' && active.length > 0) this.open(c, p.pick(active), c.pendingStart);
    const open = this.chains.filter((c) => c.state === 'live');
    if (!this.draining) {
      if (
        opening &&
        open.length < this.opts.maxWatches &&
        active.length > 0 &&
        p.chance(this.opts.openRate)
      ) {
        const node = p.pick(active);
        this.open(new Chain(this.chains.length), node, undefined);
      }
      const live = open.filter((c) => !c.canceling && !c.current.abandoned);
      if (live.length > 0 && p.chance(this.opts.cancelRate)) this.cancel(p.pick(live));
      if (live.length > 0 && active.length > 1 && p.chance(this.opts.migrateRate)) this.move(p.pick(live));
      for (const s of this.streams) if (p.chance(this.opts.progressRate)) this.requestProgress(s);
    }
    for (const s of this.streams) {
      if (this.draining || p.chance(this.opts.readRate))
        this.read(s, this.draining ? s.queue.length : this.opts.readBurst);
    }
    this.streams = this.streams.filter((s) => s.queue.length > 0 || s.live.size > 0);
  }

  /** Opens a watch: a new chain (random spec, or `fresh`) or the next piece of a chain. */
  private open(chain: Chain, node: SimNode, startRev: bigint | undefined, fresh?: WatchSpec): void {
    const store = node.mvcc!.watchable;
    let spec: WatchSpec;
    if (startRev !== undefined) {
      spec = { ...chain.current.spec, startRev };
      this.stats.resumed++;
    } else {
      spec = fresh ?? drawWatchSpec(this.prng, store.currentRev);
      this.chains.push(chain);
      this.stats.watches++;
    }
    const mine = this.streams.filter((s) => s.node === node.id && s.store === store);
    const stream =
      mine.length > 0 && this.prng.chance(0.7) ? this.prng.pick(mine) : this.newStream(node.id, store);
    const piece = new Piece(chain, stream, spec);
    chain.pieces.push(piece);
    chain.state = 'live';
    stream.queue.push({ piece, resp: response({ created: true, header: { revision: store.currentRev } }) });
    const w = store.watch(spec, stream.sink, this.nextTag++);
    piece.watcher = w;
    stream.live.set(w, piece);
  }

  private newStream(node: bigint, store: WatchableStore): Stream {
    const s = new Stream(node, store, this);
    this.streams.push(s);
    return s;
  }

  private cancel(chain: Chain): void {
    const piece = chain.current;
    const s = piece.stream;
    chain.canceling = true;
    s.live.delete(piece.watcher!);
    if (s.store.cancel(piece.watcher!)) s.queue.push({ piece, resp: response({ canceled: true }) });
  }

  /** The client drops the watch here and resumes it on another node. */
  private move(chain: Chain): void {
    const piece = chain.current;
    piece.stream.live.delete(piece.watcher!);
    piece.stream.store.cancel(piece.watcher!);
    this.stats.moved++;
    this.leave(chain);
  }

  private leave(chain: Chain): void {
    const piece = chain.current;
    piece.abandoned = true;
    if (chain.canceling || piece.ended) chain.state = 'done';
    else {
      chain.state = 'pending';
      chain.pendingStart = piece.resumeRev();
    }
  }

  /** The node crashed: its streams are gone with whatever they held; their watches resume elsewhere. */
  onCrash(node: bigint): void {
    for (const c of this.chains) if (c.state === 'live' && c.current.stream.node === node) this.leave(c);
    this.streams = this.streams.filter((s) => s.node !== node);
  }

  private requestProgress(s: Stream): void {
    if (this.prng.chance(0.5)) {
      s.queue.push({ piece: undefined, resp: response({ header: { revision: s.progressRev() } }) });
      return;
    }
    const ws = [...s.live.entries()];
    if (ws.length === 0) return;
    const [w, piece] = this.prng.pick(ws);
    s.queue.push({ piece, resp: response({ header: { revision: w.progressRev } }) });
  }

  private read(s: Stream, n: number): void {
    for (let i = 0; i < n && s.queue.length > 0; i++) {
      const { piece, resp } = s.queue.shift()!;
      this.stats.events += resp.events.length;
      if (piece !== undefined) {
        if (!piece.abandoned) piece.read(resp);
        continue;
      }
      for (const c of this.chains) {
        const p = c.current;
        if (p.stream === s && p.createdRead && !p.ended && !p.abandoned) p.read(resp);
      }
    }
    if (s.queue.length >= this.bound() || s.victims.length === 0) return;
    const victims = s.victims;
    s.victims = [];
    for (const w of victims) s.store.resume(w);
  }

  /**
   * Starts the final drain: clients read everything, refuse nothing and start nothing more than,
   * on each given node, a watch of every key from its compaction revision (the whole history the
   * node keeps) and a random one.
   */
  drain(nodes: readonly SimNode[]): void {
    this.draining = true;
    for (const n of nodes) {
      const kv = n.mvcc!.kv;
      // From the compaction revision itself: the oldest revision a store still serves.
      const from = kv.compactRev > 1n ? kv.compactRev : 1n;
      const all = new Uint8Array([0]);
      const spec = {
        key: all,
        end: all,
        startRev: from,
        prevKv: this.prng.chance(0.5),
        noPut: false,
        noDelete: false,
      };
      this.open(new Chain(this.chains.length), n, undefined, spec);
      this.open(new Chain(this.chains.length), n, undefined);
    }
  }

  /** True once every watch on a live store is caught up and its buffer read. */
  settled(): boolean {
    if (this.chains.some((c) => c.state === 'pending')) return false;
    return this.streams.every(
      (s) =>
        s.queue.length === 0 &&
        s.victims.length === 0 &&
        [...s.live.keys()].every((w) => w.synced && w.progressRev === s.store.currentRev),
    );
  }

  /** Each open watch gets a progress notification at its progress, read at once. */
  finalProgress(): void {
    for (const s of this.streams) {
      for (const [w, piece] of s.live)
        s.queue.push({ piece, resp: response({ header: { revision: w.progressRev } }) });
      this.read(s, s.queue.length);
    }
  }

  /** Runs the watch checker over every chain; throws SimFailure at the first violation. */
  check(history: WatchHistory): void {
    for (const c of this.chains) {
      const pieces = c.pieces.filter((p) => p.responses.length > 0);
      if (pieces.length === 0) continue;
      const r = checkResumedWatch(
        history,
        pieces.map((p) => ({ spec: p.spec, responses: p.responses })),
      );
      if (r.ok) continue;
      const where = pieces.map((p) => `${p.stream.node}@${p.spec.startRev}`).join(' -> ');
      throw new SimFailure(
        `watch ${c.id} (${describeSpec(c.pieces[0]!.spec)}; node@start ${where}): ${r.violation.guarantee}: ${r.violation.message}`,
      );
    }
  }

  /** Chains still waiting for a node (for the drain's failure message). */
  describeUnsettled(): string {
    const pending = this.chains.filter((c) => c.state === 'pending').map((c) => c.id);
    const busy = this.streams.filter((s) => s.queue.length > 0 || s.victims.length > 0).map((s) => s.node);
    const behind = this.streams.flatMap((s) =>
      [...s.live.keys()]
        .filter((w) => !w.synced || w.progressRev !== s.store.currentRev)
        .map((w) => `node ${s.node} watcher ${w.tag} at ${w.progressRev} of ${s.store.currentRev}`),
    );
    return `pending chains [${pending.join(',')}], streams with buffered responses on nodes [${busy.join(',')}], behind: ${behind.join('; ') || 'none'}`;
  }
}

function describeSpec(s: WatchSpec): string {
  const d = new TextDecoder();
  const range =
    s.end.length === 0
      ? `key ${JSON.stringify(d.decode(s.key))}`
      : `range ${JSON.stringify(d.decode(s.key))}..${JSON.stringify(d.decode(s.end))}`;
  const flags = [s.prevKv ? 'prev_kv' : '', s.noPut ? 'noput' : '', s.noDelete ? 'nodelete' : ''].filter(
    (f) => f !== '',
  );
  return `${range} from ${s.startRev}${flags.length > 0 ? ` ${flags.join(' ')}` : ''}`;
}
