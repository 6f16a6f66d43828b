// One Watch call's server side (etcd 3.4's serverWatchStream and mvcc watchStream in one): the
// watchers the client created on this stream by watch ID, the responses for create / cancel /
// progress requests, and the sink the member's WatchableStore hands events to. Everything runs on
// the event loop, so a created response is always written before any event of its watcher (the
// store never delivers inside watch()), and a response is written the moment it is produced: the
// order on the wire is the order of the store's calls.
//
// Flow control: frames go straight to the HTTP/2 stream. When its buffer passes the high-water mark
// (send returns false) the stream is over its bound: every delivery then returns false, which
// parks that watcher in the store holding no events, and reading further requests waits. On drain
// the parked watchers are resumed and the store catches them up from the backend, so memory per
// stream stays bounded by one batch per watcher and nothing is dropped.
import { assert } from '../../base/assert.js';
import { compareBytes } from '../../base/bytes.js';
import { WatchCreateRequest_FilterType, type WatchCreateRequest } from '../../generated/etcdserverpb.js';
import type { WatchRequest } from '../../generated/etcdserverpb.js';
import type { WatchBatch, Watcher, WatchSink, WatchableStore } from '../../server/watch.js';
import { encodeControl, fragmentCounts, WatchEncoder } from './watch-encode.js';

/** clientv3.AutoWatchID: a create request with watch_id 0 lets the server choose. */
export const AUTO_WATCH_ID = 0n;
/** clientv3.InvalidWatchID: refused creates and stream-wide progress responses. */
export const INVALID_WATCH_ID = -1n;
export const ERR_EMPTY_RANGE = 'mvcc: watcher range is empty';
export const ERR_DUPLICATE_ID = 'mvcc: duplicate watch ID provided on the WatchStream';
/** The smallest key: an empty key in a create request means this one. */
const ZERO_KEY = new Uint8Array([0]);

/** What a stream needs from its member. EtcdServer satisfies it. */
export interface WatchHost {
  readonly watchable: Pick<WatchableStore, 'watch' | 'cancel' | 'resume' | 'currentRev'>;
  readonly clusterId: bigint;
  readonly memberId: bigint;
  readonly term: bigint;
}

/** The call's sending side: framed responses out (false = over the high-water mark). */
export interface WatchOutput {
  send(framed: Uint8Array): boolean;
  /** Resolves when the buffer drained (at once if it is not over the mark or the call ended). */
  drain(): Promise<void>;
  /** True once the call has ended; nothing is sent any more. */
  readonly done: boolean;
}

export interface WatchStreamOptions {
  /** Fragmenting watchers split a response of this many bytes (etcd: max-request-bytes + gRPC overhead). */
  maxResponseBytes: number;
  /** Starts the periodic progress tick for progress_notify watchers; returns its stop function. */
  startTicker: (tick: () => void) => () => void;
}

const PREV_KV = 1;
const FRAGMENT = 2;
const PROGRESS_NOTIFY = 4;
/** etcd's progress[id]: no events went out since the last tick, so the next one sends progress. */
const PROGRESS_DUE = 8;

/** One watch ID of the stream. The watcher is gone once compacted; the ID stays until canceled. */
class StreamWatch {
  constructor(
    readonly id: bigint,
    public watcher: Watcher | undefined,
    public flags: number,
  ) {}
}

export class WatchStream implements WatchSink {
  private readonly watches = new Map<bigint, StreamWatch>();
  private nextId = AUTO_WATCH_ID;
  private readonly encoder: WatchEncoder;
  private overBound = false;
  private draining = false;
  /** Watchers whose delivery returned false, resumed on drain. */
  private readonly parked = new Set<Watcher>();
  private writableWaiters: (() => void)[] = [];
  private stopTicker: (() => void) | undefined;
  private closedFlag = false;

  constructor(
    private readonly host: WatchHost,
    private readonly out: WatchOutput,
    private readonly opts: WatchStreamOptions,
  ) {
    this.encoder = new WatchEncoder(host.clusterId, host.memberId);
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Number of watch IDs the stream holds (compacted ones included until canceled). */
  get size(): number {
    return this.watches.size;
  }

  handle(req: WatchRequest): void {
    if (this.closedFlag) return;
    if (req.createRequest !== undefined) this.create(req.createRequest);
    else if (req.cancelRequest !== undefined) this.cancel(req.cancelRequest.watchId);
    else if (req.progressRequest !== undefined) this.progress();
  }

  /** Resolves when responses may be written again (at once unless the stream is over its bound). */
  writable(): Promise<void> | undefined {
    if (!this.overBound || this.closedFlag) return undefined;
    return new Promise((resolve) => this.writableWaiters.push(resolve));
  }

  private header(revision: bigint) {
    return this.encoder.header(revision, this.host.term);
  }

  private create(c: WatchCreateRequest): void {
    const store = this.host.watchable;
    const key = c.key.length === 0 ? ZERO_KEY : c.key.slice();
    const end = c.rangeEnd.slice();
    const wsrev = store.currentRev;
    const refuse = (reason: string): void =>
      this.write(
        encodeControl({
          header: this.header(wsrev),
          watchId: INVALID_WATCH_ID,
          created: true,
          canceled: true,
          cancelReason: reason,
        }),
      );
    // "\0" as range end means every key >= key; any other non-empty end is a range that must not be empty.
    const fromKey = end.length === 1 && end[0] === 0;
    if (end.length > 0 && !fromKey && compareBytes(key, end) >= 0) return refuse(ERR_EMPTY_RANGE);
    let id = c.watchId;
    if (id === AUTO_WATCH_ID) {
      while (this.watches.has(this.nextId)) this.nextId++;
      id = this.nextId++;
    } else if (this.watches.has(id)) {
      return refuse(ERR_DUPLICATE_ID);
    }
    const spec = {
      key,
      end,
      startRev: c.startRevision === 0n ? wsrev + 1n : c.startRevision,
      prevKv: c.prevKv,
      noPut: c.filters.includes(WatchCreateRequest_FilterType.NOPUT),
      noDelete: c.filters.includes(WatchCreateRequest_FilterType.NODELETE),
    };
    const flags =
      (c.prevKv ? PREV_KV : 0) |
      (c.fragment ? FRAGMENT : 0) |
      (c.progressNotify ? PROGRESS_NOTIFY | PROGRESS_DUE : 0);
    this.watches.set(id, new StreamWatch(id, store.watch(spec, this, id), flags));
    this.write(encodeControl({ header: this.header(wsrev), watchId: id, created: true }));
    if (c.progressNotify && this.stopTicker === undefined)
      this.stopTicker = this.opts.startTicker(() => this.tick());
  }

  private cancel(id: bigint): void {
    const entry = this.watches.get(id);
    if (entry === undefined) return;
    this.watches.delete(id);
    const w = entry.watcher;
    if (w !== undefined) {
      this.parked.delete(w);
      this.host.watchable.cancel(w);
    }
    this.write(
      encodeControl({ header: this.header(this.host.watchable.currentRev), watchId: id, canceled: true }),
    );
  }

  /**
   * A stream-wide progress request. The revision claimed is the lowest any watcher of the stream
   * has been given everything up to, so no watcher is told of progress it has not received (etcd
   * 3.4 claims the store's revision whatever its watchers got); with no watchers, the store's.
   */
  private progress(): void {
    let rev = this.host.watchable.currentRev;
    for (const e of this.watches.values()) {
      const w = e.watcher;
      if (w !== undefined && w.progressRev < rev) rev = w.progressRev;
    }
    this.write(encodeControl({ header: this.header(rev), watchId: INVALID_WATCH_ID }));
  }

  /**
   * The periodic tick of progress_notify watchers (etcd's progressTicker): a synced watcher that
   * was sent no events since the last tick gets an empty response claiming its own progress.
   */
  tick(): void {
    if (this.closedFlag) return;
    const current = this.host.watchable.currentRev;
    for (const e of this.watches.values()) {
      if ((e.flags & PROGRESS_NOTIFY) === 0) continue;
      const w = e.watcher;
      if ((e.flags & PROGRESS_DUE) !== 0 && w !== undefined && w.synced && !this.overBound) {
        const rev = w.progressRev < current ? w.progressRev : current;
        this.write(encodeControl({ header: this.header(rev), watchId: e.id }));
      }
      e.flags |= PROGRESS_DUE;
    }
  }

  // ---- WatchSink ----

  deliver(watcher: Watcher, batch: WatchBatch): boolean {
    if (this.closedFlag) return true;
    const entry = this.watches.get(watcher.tag);
    assert(
      entry !== undefined && entry.watcher === watcher,
      `delivery to watch ${watcher.tag}, not on this stream`,
    );
    if (batch.events.length > 0) {
      this.sendEvents(entry, batch);
      entry.flags &= ~PROGRESS_DUE;
    }
    if (!this.overBound) return true;
    this.parked.add(watcher);
    return false;
  }

  compacted(watcher: Watcher, compactRev: bigint): void {
    if (this.closedFlag) return;
    const entry = this.watches.get(watcher.tag);
    assert(
      entry !== undefined && entry.watcher === watcher,
      `compaction of watch ${watcher.tag}, not on this stream`,
    );
    entry.watcher = undefined;
    this.parked.delete(watcher);
    // etcd sends it as an event response of revision 0; the ID stays taken until the client cancels.
    this.write(
      encodeControl({
        header: this.header(0n),
        watchId: entry.id,
        canceled: true,
        compactRevision: compactRev,
      }),
    );
  }

  /**
   * The header claims batch.rev: the revision through which this watcher now has everything. That
   * is the store's revision (as etcd sends) whenever the watcher is synced or caught up in one
   * step; in a longer catch-up etcd would claim its current revision before the later steps, and a
   * client resuming from header + 1 (the etcd3 npm client does) would miss events.
   */
  private sendEvents(entry: StreamWatch, batch: WatchBatch): void {
    const rev = batch.rev;
    const term = this.host.term;
    const withPrev = (entry.flags & PREV_KV) !== 0;
    const events = batch.events.map((e) => e.encoded(withPrev));
    const enc = this.encoder;
    if ((entry.flags & FRAGMENT) === 0) {
      this.write(enc.encodeEvents(rev, term, entry.id, events, 0, events.length, false));
      return;
    }
    const lens = events.map((e) => e.length);
    const counts = fragmentCounts(enc.headBytes(rev, term, entry.id), lens, this.opts.maxResponseBytes);
    let from = 0;
    for (let i = 0; i < counts.length; i++) {
      const to = from + counts[i]!;
      this.write(enc.encodeEvents(rev, term, entry.id, events, from, to, i < counts.length - 1));
      from = to;
    }
  }

  // ---- output and flow control ----

  private write(frame: Uint8Array): void {
    if (this.closedFlag) return;
    if (this.out.send(frame)) return;
    if (this.out.done) {
      // The call is over; its end (abort) closes the stream. Nothing more is written meanwhile.
      this.overBound = true;
      return;
    }
    this.overBound = true;
    if (this.draining) return;
    this.draining = true;
    void this.out.drain().then(() => {
      this.draining = false;
      this.onDrain();
    });
  }

  private onDrain(): void {
    if (this.closedFlag || this.out.done) return;
    this.overBound = false;
    const parked = [...this.parked];
    this.parked.clear();
    for (const w of parked) {
      if (this.watches.get(w.tag)?.watcher === w) this.host.watchable.resume(w);
    }
    if (!this.overBound) this.wakeWriters();
  }

  private wakeWriters(): void {
    const waiters = this.writableWaiters;
    this.writableWaiters = [];
    for (const f of waiters) f();
  }

  /** The call ended: every watcher of the stream is canceled. Idempotent. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.stopTicker?.();
    this.stopTicker = undefined;
    const store = this.host.watchable;
    for (const e of this.watches.values()) if (e.watcher !== undefined) store.cancel(e.watcher);
    this.watches.clear();
    this.parked.clear();
    this.wakeWriters();
  }
}
