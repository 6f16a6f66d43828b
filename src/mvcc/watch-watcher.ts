// The watcher as the watchable store keeps it: its spec, sink and tag, where it stands (synced,
// unsynced, victim or gone) and the next revision it may be given. Kept small on purpose: a server
// may hold 100,000 of them, so a synced watcher stores no progress of its own (it reads the
// store's syncedRev) and nothing per event.
import type { Watcher, WatchSink, WatchSpec } from './watch-types.js';

/** In the synced group: given every revision notified so far. */
export const SYNCED = 0;
/** In the unsynced group: being caught up from the backend. */
export const UNSYNCED = 1;
/** In no group: its sink refused a batch and has not called resume() yet. */
export const VICTIM = 2;
/** Canceled, compacted or closed. */
export const GONE = 3;

/** What a watcher needs of its store. */
export interface WatcherHome {
  /** The revision through which synced watchers have been given everything. */
  readonly syncedRev: bigint;
}

export class StoreWatcher implements Watcher {
  constructor(
    readonly spec: WatchSpec,
    readonly sink: WatchSink,
    readonly tag: bigint,
    readonly home: WatcherHome,
    /** SYNCED, UNSYNCED, VICTIM or GONE. */
    public state: number,
    /**
     * The first revision this watcher may still be given. Unsynced, victim, gone: progressRev + 1.
     * Synced: a lower bound only (a start in the future), progress being the store's syncedRev.
     */
    public next: bigint,
  ) {}

  get progressRev(): bigint {
    return this.state === SYNCED ? this.home.syncedRev : this.next - 1n;
  }

  get synced(): boolean {
    return this.state === SYNCED;
  }
}
