// WatchableStore: the watchers of a KVStore (etcd's watchable_store.go). It owns which events each
// watcher has been given; sinks own buffering and the wire (watch-types.ts).
//
// - Synced watchers are caught up with the revisions notified so far (`syncedRev`). notify()
//   hands each of them, synchronously, one batch with every event of the notified revisions it
//   watches; their progress is syncedRev itself, so an event on a key touches only that key's
//   watchers, never all of them.
// - Unsynced watchers (historical start, resumed victims, every watcher after rebind) are caught up
//   from the backend's `key` bucket in steps, one per scheduled turn, each reading at most
//   catchUpEventsPerStep events of whole revisions. A step reads only through syncedRev, never
//   past it, and moves the watchers it brings to syncedRev into the synced group in the same turn,
//   so notify() calls between steps can neither skip nor repeat a revision for them.
// - A watcher whose sink refuses a batch (deliver returns false) becomes a victim holding no
//   events; resume() puts it back in the unsynced group from progressRev + 1.
// - A watcher that still needs a revision below the compaction revision is compacted (told
//   through sink.compacted and removed) by a step, never synchronously. A start equal to the
//   compaction revision is served, as etcd serves it (clients resume from compact_revision); the
//   physical compaction keeps every record at its own revision (compaction.ts), tombstones
//   included, so that revision is replayed whole, which etcd 3.4 does not do for deletes.
// - Events are shared: one StoredEvent goes to every watcher it concerns. Its `event.prevKv` may be
//   set because another watcher asked for it; a sink must send encoded(spec.prevKv), never read
//   event.prevKv for a watcher that did not ask.
// - notify() and rebind() must not be called from inside a sink callback; watch(), cancel() and
//   resume() may be.
import { assert } from '../base/assert.js';
import { silentLogger, type Logger } from '../base/log.js';
import { EventType, type Event } from './key-value.js';
import type { KVStore } from './kv-store.js';
import { readHistory, StoredEvent } from './watch-events.js';
import { keyString, WatcherGroup } from './watch-group.js';
import type { WatchBatch, Watcher, WatchSink, WatchSpec } from './watch-types.js';
import { GONE, StoreWatcher, SYNCED, UNSYNCED, VICTIM, type WatcherHome } from './watch-watcher.js';

export const DEFAULT_CATCH_UP_EVENTS_PER_STEP = 1000;

export interface WatchableStoreOptions {
  /** Runs fn later, in its own turn of the event loop (production: setImmediate; tests/sim: a queue). */
  schedule: (fn: () => void) => void;
  /**
   * Upper bound of events read from the backend per catch-up step (default 1000); whole revisions
   * only, so one revision with more events than this is still read whole.
   */
  catchUpEventsPerStep?: number;
  logger?: Logger;
}

type Batches = Map<StoreWatcher, StoredEvent[]>;

export class WatchableStore implements WatcherHome {
  private kv: KVStore;
  private notified: bigint;
  /** notified + 1, kept so the watchers registered between two notifies share one bigint. */
  private notifiedNext: bigint;
  private readonly synced = new WatcherGroup<StoreWatcher>();
  private readonly unsynced = new WatcherGroup<StoreWatcher>();
  private victims = 0;
  private stepScheduled = false;
  private closed = false;
  /** True while sinks are being called: notify and rebind must not come from inside a sink. */
  private inSinks = false;
  private readonly schedule: (fn: () => void) => void;
  private readonly eventsPerStep: number;
  private readonly logger: Logger;

  constructor(kv: KVStore, opts: WatchableStoreOptions) {
    this.kv = kv;
    this.notified = kv.currentRev;
    this.notifiedNext = this.notified + 1n;
    this.schedule = opts.schedule;
    this.eventsPerStep = opts.catchUpEventsPerStep ?? DEFAULT_CATCH_UP_EVENTS_PER_STEP;
    assert(
      Number.isInteger(this.eventsPerStep) && this.eventsPerStep > 0,
      'catchUpEventsPerStep must be positive',
    );
    this.logger = opts.logger ?? silentLogger;
  }

  /** kv.currentRev. */
  get currentRev(): bigint {
    return this.kv.currentRev;
  }

  /** The revision through which every synced watcher has been given its events (their progress). */
  get syncedRev(): bigint {
    return this.notified;
  }

  get watcherCount(): number {
    return this.synced.size + this.unsynced.size + this.victims;
  }

  /** Watchers being caught up from the backend (for tests and metrics). */
  get unsyncedCount(): number {
    return this.unsynced.size;
  }

  /** Watchers whose sink refused a batch and that wait for resume() (for tests and metrics). */
  get victimCount(): number {
    return this.victims;
  }

  /**
   * Registers a watcher. startRev 0n => synced from the next revision; a startRev after the
   * current revision => synced, given nothing before startRev. A startRev <= current goes to the
   * unsynced group and is caught up in scheduled steps (or compacted there). After close() the
   * watcher is returned already gone.
   */
  watch(spec: WatchSpec, sink: WatchSink, tag: bigint): Watcher {
    const start = spec.startRev;
    if (this.closed) return new StoreWatcher(spec, sink, tag, this, GONE, this.notifiedNext);
    if (start === 0n || start > this.notified) {
      const next = start > this.notifiedNext ? start : this.notifiedNext;
      const w = new StoreWatcher(spec, sink, tag, this, SYNCED, next);
      this.synced.add(w);
      return w;
    }
    const w = new StoreWatcher(spec, sink, tag, this, UNSYNCED, start);
    this.unsynced.add(w);
    this.scheduleStep();
    return w;
  }

  /** Removes the watcher; false if it was already gone (canceled, compacted, closed). */
  cancel(watcher: Watcher): boolean {
    const w = this.own(watcher);
    switch (w.state) {
      case SYNCED:
        assert(this.synced.delete(w), 'synced watcher missing from the synced group');
        // Freeze its progress where the synced group stands.
        w.next = this.notifiedNext;
        break;
      case UNSYNCED:
        assert(this.unsynced.delete(w), 'unsynced watcher missing from the unsynced group');
        break;
      case VICTIM:
        this.victims--;
        break;
      default:
        return false;
    }
    w.state = GONE;
    return true;
  }

  /** The sink drained after deliver() returned false: catch the watcher up from progressRev + 1. */
  resume(watcher: Watcher): void {
    const w = this.own(watcher);
    if (w.state !== VICTIM || this.closed) return;
    this.victims--;
    if (w.next > this.notified) {
      w.state = SYNCED;
      this.synced.add(w);
      return;
    }
    w.state = UNSYNCED;
    this.unsynced.add(w);
    this.scheduleStep();
  }

  /**
   * Called once per applied batch AFTER its backend transaction committed, with that batch's
   * events in revision order (kv.currentRev already covers them). Every revision must be notified
   * exactly once, in order: a repeated revision is a broken invariant. A skipped revision (a write
   * path that did not notify) is repaired rather than lost: every synced watcher is caught up
   * from the backend instead. A synced watcher whose filters leave none of the events gets no
   * deliver() call; its progressRev still advances.
   */
  notify(events: readonly Event[]): void {
    assert(!this.inSinks, 'notify called from inside a sink callback');
    if (this.closed || events.length === 0) return;
    const first = events[0]!.kv.modRevision;
    assert(first > this.notified, `notify of revision ${first}, already notified through ${this.notified}`);
    let last = first;
    for (const ev of events) {
      const r = ev.kv.modRevision;
      assert(r === last || r === last + 1n, `notify with revision ${r} after ${last}: not in order`);
      last = r;
    }
    assert(last <= this.kv.currentRev, `notify of revision ${last} beyond the store's ${this.kv.currentRev}`);
    if (first !== this.notifiedNext) {
      this.logger.warn('watch notification skipped revisions; catching synced watchers up from the store', {
        'notified-revision': this.notified.toString(),
        'first-revision': first.toString(),
      });
      this.demoteSynced(last);
      return;
    }
    const batches = this.synced.size === 0 ? undefined : this.match(this.synced, events.map(sharedEvent));
    this.setNotified(last);
    if (batches !== undefined) this.callSinks(() => this.deliverSynced(batches, last));
  }

  /**
   * The KVStore was replaced (snapshot install): every watcher becomes unsynced from
   * progressRev + 1 against the new store (compacted if that is below its compaction).
   */
  rebind(kv: KVStore): void {
    assert(!this.inSinks, 'rebind called from inside a sink callback');
    if (this.closed) return;
    this.kv = kv;
    this.demoteSynced(kv.currentRev);
  }

  /** Tells the store a compaction happened (after kv.compact); unsynced watchers below it are compacted. */
  compacted(compactRev: bigint): void {
    if (this.closed) return;
    assert(
      compactRev <= this.kv.compactRev,
      `compacted(${compactRev}) but the store is compacted at ${this.kv.compactRev}`,
    );
    if (this.unsynced.size > 0) this.scheduleStep();
  }

  /** Stops scheduled work; no sink is called again and every watcher is gone. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.synced.toArray()) {
      w.next = this.notifiedNext;
      w.state = GONE;
    }
    for (const w of this.unsynced.toArray()) w.state = GONE;
    this.synced.clear();
    this.unsynced.clear();
    // Victims are held by no group; their state is checked against `closed` on resume/cancel.
    this.victims = 0;
  }

  private own(watcher: Watcher): StoreWatcher {
    assert(watcher instanceof StoreWatcher && watcher.home === this, 'watcher of another store');
    if (this.closed && watcher.state === VICTIM) watcher.state = GONE;
    return watcher;
  }

  private setNotified(rev: bigint): void {
    this.notified = rev;
    this.notifiedNext = rev + 1n;
  }

  /** Every synced watcher becomes unsynced from its progress + 1; syncedRev becomes rev. */
  private demoteSynced(rev: bigint): void {
    const from = this.notifiedNext;
    this.setNotified(rev);
    for (const w of this.synced.toArray()) {
      if (w.next < from) w.next = from;
      w.state = UNSYNCED;
      this.unsynced.add(w);
    }
    this.synced.clear();
    if (this.unsynced.size > 0) this.scheduleStep();
  }

  /**
   * Each watcher of the group with the events it takes: revision at or after its `next`, not
   * filtered out. Events that a matched watcher wants with prev_kv and that lack it get it read.
   */
  private match(group: WatcherGroup<StoreWatcher>, events: readonly StoredEvent[]): Batches {
    const batches: Batches = new Map();
    for (const se of events) {
      const ev = se.event;
      const rev = ev.kv.modRevision;
      const skip = ev.type === EventType.PUT ? 'noPut' : 'noDelete';
      let wantsPrev = false;
      group.match(keyString(ev.kv.key), (w) => {
        if (rev < w.next || w.spec[skip]) return;
        if (w.spec.prevKv) wantsPrev = true;
        const list = batches.get(w);
        if (list === undefined) batches.set(w, [se]);
        else list.push(se);
      });
      if (wantsPrev && ev.prevKv === undefined) this.readPrevKv(se);
    }
    return batches;
  }

  /** The key's KeyValue at modRevision - 1, read only for watchers that asked for prev_kv. */
  private readPrevKv(se: StoredEvent): void {
    const kv = se.event.kv;
    // A put of version 1 created the key: there is nothing before it.
    if (se.event.type === EventType.PUT && kv.version <= 1n) return;
    const at = kv.modRevision - 1n;
    if (at < this.kv.compactRev) return;
    const prev = this.kv.range(kv.key, undefined, { rev: at }).kvs[0];
    if (prev !== undefined) se.setPrevKv(prev);
  }

  private deliverSynced(batches: Batches, rev: bigint): void {
    for (const [w, events] of batches) {
      if (this.closed) return;
      // A sink may cancel other watchers from inside deliver().
      if (w.state !== SYNCED) continue;
      if (!w.sink.deliver(w, { events, rev }) && w.state === SYNCED) {
        assert(this.synced.delete(w), 'synced watcher missing from the synced group');
        this.makeVictim(w, rev);
      }
    }
  }

  private callSinks(fn: () => void): void {
    this.inSinks = true;
    try {
      fn();
    } finally {
      this.inSinks = false;
    }
  }

  private makeVictim(w: StoreWatcher, rev: bigint): void {
    w.state = VICTIM;
    w.next = rev + 1n;
    this.victims++;
  }

  private scheduleStep(): void {
    if (this.stepScheduled || this.closed) return;
    this.stepScheduled = true;
    this.schedule(() => this.step());
  }

  /** One catch-up step: compaction, then one bounded read of history for the lowest watchers. */
  private step(): void {
    this.stepScheduled = false;
    if (this.closed) return;
    this.callSinks(() => {
      const low = this.sortUnsynced();
      if (low !== undefined && !this.closed) this.catchUp(low);
    });
    if (this.unsynced.size > 0) this.scheduleStep();
  }

  /**
   * Compacts the unsynced watchers that need a compacted revision, moves those that need nothing
   * yet (next after syncedRev) to the synced group, and returns the lowest `next` of the rest.
   */
  private sortUnsynced(): bigint | undefined {
    const compactRev = this.kv.compactRev;
    const compacted: StoreWatcher[] = [];
    let low: bigint | undefined;
    for (const w of this.unsynced.toArray()) {
      if (w.next < compactRev) {
        this.unsynced.delete(w);
        w.state = GONE;
        compacted.push(w);
      } else if (w.next > this.notified) {
        this.unsynced.delete(w);
        w.state = SYNCED;
        this.synced.add(w);
      } else if (low === undefined || w.next < low) low = w.next;
    }
    for (const w of compacted) {
      if (this.closed) break;
      w.sink.compacted(w, compactRev);
    }
    return low;
  }

  /**
   * Reads history from `low` through at most syncedRev (whole revisions, bounded), gives each
   * unsynced watcher at or below what was read its events, and moves those that reached
   * syncedRev to the synced group.
   */
  private catchUp(low: bigint): void {
    const target = this.notified;
    const read = readHistory(this.kv.backend, low, target, this.eventsPerStep);
    const through = read.through;
    // Everything the deliveries below concern is fixed before any sink runs: a sink may cancel,
    // resume or add watchers from inside deliver().
    const served = this.unsynced.toArray().filter((w) => w.next <= through);
    const batches = this.match(this.unsynced, read.events);
    const next = through + 1n;
    for (const w of served) w.next = next;
    for (const w of served) {
      if (this.closed) return;
      if (w.state !== UNSYNCED) continue;
      const events = batches.get(w);
      if (events !== undefined && !w.sink.deliver(w, { events, rev: through } satisfies WatchBatch)) {
        if (w.state !== UNSYNCED) continue;
        assert(this.unsynced.delete(w), 'unsynced watcher missing from the unsynced group');
        this.makeVictim(w, through);
        continue;
      }
      if (through === target && w.state === UNSYNCED) {
        assert(this.unsynced.delete(w), 'unsynced watcher missing from the unsynced group');
        w.state = SYNCED;
        this.synced.add(w);
      }
    }
  }
}

function sharedEvent(ev: Event): StoredEvent {
  return new StoredEvent(ev);
}
