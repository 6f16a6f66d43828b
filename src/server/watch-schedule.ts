// The scheduler the member's WatchableStore runs its catch-up steps on. Steps read the backend, so
// while a snapshot from the leader swaps the backend underneath (snapshots.ts) they must not run:
// pause() holds every step that comes due, resume() — after the store was rebound to the new
// backend — lets them run in their original order. Outside a swap it is `run` (setImmediate in
// production, a queue in tests and the simulator) plus one check.

export type Schedule = (fn: () => void) => void;

/** The production schedule: each step in its own turn of the event loop, after pending I/O. */
export const immediateSchedule: Schedule = (fn) => {
  setImmediate(fn);
};

export class PausableSchedule {
  /** Steps in the order schedule() was called; each run of pump() takes the oldest. */
  private readonly queue: (() => void)[] = [];
  private pausedFlag = false;
  /** Pumps that came due while paused, run again on resume(). */
  private owed = 0;

  constructor(private readonly run: Schedule) {}

  /** Hand this to the WatchableStore. */
  readonly schedule: Schedule = (fn) => {
    this.queue.push(fn);
    this.run(this.pump);
  };

  private readonly pump = (): void => {
    if (this.pausedFlag) {
      this.owed++;
      return;
    }
    this.queue.shift()?.();
  };

  get paused(): boolean {
    return this.pausedFlag;
  }

  /** Steps that come due from now on wait for resume(). */
  pause(): void {
    this.pausedFlag = true;
  }

  /** Lets the held steps run again, oldest first. */
  resume(): void {
    this.pausedFlag = false;
    const owed = this.owed;
    this.owed = 0;
    for (let i = 0; i < owed; i++) this.run(this.pump);
  }
}
