// One seed, start to finish: draw the swarm options, boot the cluster, run the safety phase under
// faults, then the liveness phase (a healed majority core, no more faults) which must acknowledge
// new proposals and apply every acknowledged one on every core node within its bound. Any checker
// violation, raft assertion or unexpected error fails the seed with a one-line reason.
import { Prng } from '../src/base/prng.js';
import { SimFailure } from './checkers.js';
import { Cluster } from './cluster.js';
import { MemoryStorageKind, type StorageKind } from './node-storage.js';
import { swarmOptions, watchOptions, type SwarmOptions } from './options.js';

export interface RunOptions {
  /** Cluster size (1–7); drawn from the seed when absent. */
  nodes?: number;
  /** 'wal' (default): src/wal over the simulated disk; 'memory': MemoryStorage, atomic saves. */
  storage?: 'wal' | 'memory';
  /** Receives one line per notable event. */
  log?: (line: string) => void;
  /** Membership changes on every seed with 2+ machines (the swarm otherwise picks ~30% of them). */
  membership?: boolean;
  /**
   * Watch mode: nodes also apply the operations to an MVCC store with watchers, clients watch, and
   * the watch checker judges every watch at the end (the options are drawn from the seed too).
   */
  watch?: boolean;
  /** Overrides of the drawn options (tests use this to shorten runs). */
  tweak?: (o: SwarmOptions) => void;
}

export interface SeedStats {
  nodes: number;
  units: number;
  leaders: number;
  maxCommitted: bigint;
  acked: number;
  crashes: number;
  restarts: number;
  partitions: number;
  messages: number;
  livenessUnits: number;
  diskFaults: number;
  walRepairs: number;
  leaderFaults: number;
  snapshotsSent: number;
  snapshotsRestored: number;
  compactions: number;
  confChanges: number;
  pauses: number;
  /** Watch mode: revisions and MVCC compactions committed; watches opened, resumed, events read, refusals, compacted. */
  revisions: bigint;
  mvccCompactions: number;
  watches: number;
  watchResumes: number;
  watchEvents: number;
  watchRefusals: number;
  watchCompacted: number;
}

export interface SeedResult {
  ok: boolean;
  failure?: string;
  stats: SeedStats;
}

/** The new acknowledged operations the liveness phase requires. */
const LIVENESS_ACKS = 3;
/** Watch mode: every watch must be caught up and read within this many units after liveness. */
const WATCH_DRAIN_UNITS = 5000;

async function storageKind(name: 'wal' | 'memory'): Promise<StorageKind> {
  if (name === 'memory') return new MemoryStorageKind();
  const { WalStorageKind } = await import('./wal-storage-kind.js');
  return new WalStorageKind();
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function describeError(err: unknown): string {
  if (err instanceof SimFailure) return err.message;
  if (err instanceof Error)
    return `${err.name}: ${err.message}${err.stack ? ` @ ${err.stack.split('\n')[1]?.trim()}` : ''}`;
  return String(err);
}

export async function runSeed(seed: number, opts: RunOptions = {}): Promise<SeedResult> {
  const prng = new Prng(seed);
  const swarm = swarmOptions(prng.fork(), opts.nodes);
  if (opts.membership === true && swarm.nodes >= 2 && swarm.membershipRate === 0) swarm.membershipRate = 0.02;
  if (opts.watch === true) swarm.watch = watchOptions(prng.fork());
  opts.tweak?.(swarm);
  const c = new Cluster(prng.fork(), swarm, await storageKind(opts.storage ?? 'wal'), opts.log);
  opts.log?.(`seed ${seed} options ${JSON.stringify(swarm)}`);
  let failure: string | undefined;
  let livenessStart = 0;
  try {
    await c.boot();
    for (let t = 0; t < swarm.safetyUnits; t++) {
      await c.unit();
      if (t % 250 === 249) c.checkLogMatching();
    }
    livenessStart = c.clock.now;
    await c.enterLiveness();
    failure = await runLiveness(c, swarm.livenessUnits);
    c.checkLogMatching();
    if (failure === undefined && c.watch !== undefined) failure = await finishWatches(c);
  } catch (err) {
    failure = describeError(err);
  }
  const stats: SeedStats = {
    nodes: swarm.nodes,
    units: c.clock.now,
    leaders: c.checkers.stats.leaders,
    maxCommitted: c.checkers.stats.maxCommitted,
    acked: c.workload.stats.acked,
    crashes: c.stats.crashes,
    restarts: c.stats.restarts,
    partitions: c.stats.partitions,
    messages: c.network.stats.sent,
    livenessUnits: livenessStart === 0 ? 0 : c.clock.now - livenessStart,
    diskFaults: sum(c.nodes.map((n) => n.disk.stats.faults)),
    walRepairs: c.kind.stats.repairs,
    leaderFaults: c.stats.leaderFaults,
    snapshotsSent: c.stats.snapshotsSent,
    snapshotsRestored: sum(c.nodes.map((n) => n.stats.restored)),
    compactions: sum(c.nodes.map((n) => n.stats.snapshots)),
    confChanges: c.checkers.stats.confChanges,
    pauses: c.stats.pauses,
    revisions: c.history?.maxRev ?? 0n,
    mvccCompactions: c.history?.compactionCount ?? 0,
    watches: c.watch?.stats.watches ?? 0,
    watchResumes: c.watch?.stats.resumed ?? 0,
    watchEvents: c.watch?.stats.events ?? 0,
    watchRefusals: c.watch?.stats.refusals ?? 0,
    watchCompacted: c.watch?.stats.compacted ?? 0,
  };
  if (failure !== undefined) opts.log?.(`FAILED at ${c.clock.now}: ${failure}`);
  return failure === undefined
    ? { ok: true, stats }
    : { ok: false, failure: `[t=${c.clock.now}] ${failure}`, stats };
}

/** Runs until the core has acknowledged new work and applied every acknowledged operation. */
async function runLiveness(c: Cluster, bound: number): Promise<string | undefined> {
  for (let t = 0; t < bound; t++) {
    await c.unit();
    if (t % 250 === 249) c.checkLogMatching();
    if (c.workload.stats.ackedSinceMark < LIVENESS_ACKS) continue;
    c.workload.active = false;
    const acked = [...c.checkers.acked];
    const members = c.members();
    if (members.every((n) => n.up && acked.every((k) => n.sm!.ops.has(k)))) {
      c.checkers.checkAcked(members.map((n) => ({ id: n.id, ops: n.sm!.ops })));
      return undefined;
    }
  }
  if (c.workload.stats.ackedSinceMark < LIVENESS_ACKS) {
    return `liveness: the healed core ${c.core.join(',')} acknowledged ${c.workload.stats.ackedSinceMark} of ${LIVENESS_ACKS} new proposals within ${bound} units`;
  }
  c.checkers.checkAcked(c.members().map((n) => ({ id: n.id, ops: n.sm?.ops ?? new Set<string>() })));
  return `liveness: the healed core ${c.core.join(',')} did not converge within ${bound} units`;
}

/**
 * Watch mode, after liveness: clients read everything and refuse nothing until every watch on a
 * live node is caught up with its store; each then gets a progress notification at its progress,
 * and the checker judges every watch against the committed history.
 */
async function finishWatches(c: Cluster): Promise<string | undefined> {
  const w = c.watch!;
  w.drain(c.members().filter((n) => n.up));
  for (let t = 0; t < WATCH_DRAIN_UNITS; t++) {
    await c.unit();
    if (!w.settled()) continue;
    w.finalProgress();
    w.check(c.history!.history());
    return undefined;
  }
  return `watch liveness: watches not caught up within ${WATCH_DRAIN_UNITS} units: ${w.describeUnsettled()}`;
}
