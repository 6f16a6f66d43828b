// Simulated time for the simulator. Time is a count of abstract units ("ms") that only advances
// when the run loop says so; nothing in sim/ reads a real clock. Each node drives its raft with
// `RawNode.tick()` on its own schedule (a per-node interval and phase, which models clock drift
// between machines), so election timeouts fire at different real moments on different nodes.

export class SimClock {
  private t = 0;

  get now(): number {
    return this.t;
  }

  advance(units = 1): void {
    this.t += units;
  }
}

/** When a node's raft ticks: every `interval` units, starting at `phase`. */
export class TickSchedule {
  constructor(
    readonly interval: number,
    private phase: number,
  ) {}

  /** True when the node ticks its raft at time `now`. */
  due(now: number): boolean {
    return now >= this.phase && (now - this.phase) % this.interval === 0;
  }

  /** After a restart the node's clock starts over at `now`. */
  restartAt(now: number): void {
    this.phase = now + 1;
  }
}
