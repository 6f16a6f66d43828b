// The swarm options of one run, all drawn from the seed (as TigerBeetle's VOPR does): cluster
// size, network quality, partition and crash rates, disk fault rates, raft knobs and workload.
// Different seeds explore very different worlds — a lossless network with constant crashes, a
// flaky one with one-way partitions, tiny messages that carry one entry each — rather than one
// average world. The run prints them with --verbose so a failing seed can be understood.
import type { Prng } from '../src/base/prng.js';
import type { DiskFaultOptions } from './disk.js';
import type { NetworkOptions } from './network.js';
import type { RaftParams } from './node.js';
import type { WorkloadOptions } from './workload.js';
import type { WatchOptions } from './watch-clients.js';

export interface FaultOptions {
  /** Probability per time unit that the partition changes (new cut or heal). */
  partitionRate: number;
  /** Probability that a partition change heals everything instead of cutting. */
  healShare: number;
  /** Probability per time unit and live node of a crash. */
  crashRate: number;
  /** A crashed node restarts after a delay in [min, max] units. */
  restartMin: number;
  restartMax: number;
  /** Probability that a leader about to replicate entries is crashed, isolated or paused. */
  leaderFaultRate: number;
  /** Probability per time unit and live node of a process pause of 0.5-3 election timeouts. */
  pauseRate: number;
}

export interface SwarmOptions {
  /** Machines; with membership changes, only the first `initialVoters` start as the cluster. */
  nodes: number;
  initialVoters: number;
  /** Probability per time unit that the operator attempts a membership change (0: never). */
  membershipRate: number;
  /** Time units per raft tick (each node's own interval is within ±20% of it). */
  tickUnits: number;
  raft: RaftParams;
  network: NetworkOptions;
  disk: DiskFaultOptions;
  faults: FaultOptions;
  workload: WorkloadOptions;
  /** Length of the safety phase, in time units. */
  safetyUnits: number;
  /** The liveness phase must commit new proposals and converge within this many units. */
  livenessUnits: number;
  /** Watch mode (--watch): MVCC stores, watch clients and the watch checker. */
  watch?: WatchOptions;
}

/**
 * Watch clients of one run: a few or many watches, fast or slow readers with small or larger
 * buffers, compactions rare or frequent, catch-up in small or large steps.
 */
export function watchOptions(prng: Prng): WatchOptions {
  return {
    openRate: prng.pick([0.002, 0.01, 0.03]),
    maxWatches: prng.pick([2, 6, 16]),
    cancelRate: prng.pick([0, 0.0005, 0.002]),
    migrateRate: prng.pick([0, 0.0005, 0.002]),
    bufferBound: prng.pick([1, 2, 4, 16]),
    readRate: prng.pick([0.05, 0.2, 0.5, 1]),
    readBurst: prng.pick([1, 2, 8]),
    refuseRate: prng.pick([0, 0, 0.01, 0.1]),
    progressRate: prng.pick([0.001, 0.005, 0.02]),
    compactShare: prng.pick([0.01, 0.03, 0.1]),
    catchUpEventsPerStep: prng.pick([1, 3, 20, 1000]),
  };
}

function pickNodes(prng: Prng): number {
  return prng.pick([1, 2, 3, 3, 3, 4, 5, 5, 5, 6, 7]);
}

/**
 * The "Figure 8" world (Raft paper §5.4.2): one entry per message and one message in flight, so
 * followers acknowledge entries one by one; leaders crash or drop off the network right around
 * their appends (some before any append leaves), and come back quickly. Logs then diverge at the
 * same index under different terms, terms advance, and an old term's entry sits on a majority
 * while its term's leader is gone — the situation in which only the "commit entries of your own
 * term" rule keeps committed entries from being overwritten. No other faults, so these come fast.
 */
function figure8(o: SwarmOptions, prng: Prng): void {
  o.nodes = prng.pick([3, 3, 3, 5]);
  o.raft.maxSizePerMsg = 1;
  o.raft.maxInflightMsgs = 1;
  const leaderFaultRate = prng.pick([0.3, 0.5, 0.5, 0.7]);
  o.faults = {
    ...o.faults,
    partitionRate: 0,
    crashRate: 0,
    restartMin: 10,
    restartMax: 200,
    leaderFaultRate,
  };
  o.network = { ...o.network, lossRate: 0 };
  o.disk = { writeErrorRate: 0, readErrorRate: 0, syncErrorRate: 0 };
}

export function swarmOptions(prng: Prng, nodes?: number): SwarmOptions {
  const o = drawOptions(prng);
  if (prng.chance(0.3)) figure8(o, prng);
  if (nodes !== undefined) o.nodes = nodes;
  o.initialVoters = o.nodes;
  if (o.nodes > 1 && prng.chance(0.3)) {
    o.initialVoters = prng.intBetween(1, o.nodes);
    o.membershipRate = prng.pick([0.001, 0.005, 0.02]);
  }
  return o;
}

function drawOptions(prng: Prng): SwarmOptions {
  const tickUnits = 10;
  const electionTick = prng.pick([5, 10, 10, 20]);
  // A round trip must fit well inside an election timeout, or no election can ever finish.
  const timeoutUnits = electionTick * tickUnits;
  const maxDelay = prng.intBetween(1, Math.max(2, Math.floor(timeoutUnits / (prng.chance(0.3) ? 4 : 10))));
  return {
    nodes: pickNodes(prng),
    initialVoters: 0,
    membershipRate: 0,
    tickUnits,
    raft: {
      electionTick,
      heartbeatTick: prng.intBetween(1, Math.max(1, Math.floor(electionTick / 3))),
      // One entry per message half the time: followers then ack entries one by one, the condition
      // under which a wrong commit rule (Raft paper Figure 8) can commit an old term's entry.
      maxSizePerMsg: prng.chance(0.5) ? 1 : prng.pick([64, 1024, 1024 * 1024]),
      maxInflightMsgs: prng.pick([1, 4, 256]),
      checkQuorum: prng.chance(0.8),
      preVote: prng.chance(0.8),
      snapshotEvery: prng.pick([5, 20, 100, 1000]),
      compactKeep: prng.pick([0, 2, 10]),
    },
    network: {
      minDelay: 1,
      maxDelay,
      lossRate: prng.pick([0, 0, 0.01, 0.05, 0.2]),
      dupRate: prng.pick([0, 0.01, 0.05]),
      reorderRate: prng.pick([0, 0.01, 0.1]),
      reorderDelay: prng.intBetween(10, timeoutUnits),
    },
    disk: {
      writeErrorRate: prng.pick([0, 0, 0.001, 0.005]),
      readErrorRate: prng.pick([0, 0, 0.001]),
      syncErrorRate: prng.pick([0, 0, 0.001, 0.005]),
    },
    faults: {
      partitionRate: prng.pick([0, 0.001, 0.005, 0.02]),
      healShare: prng.pick([0.3, 0.5]),
      crashRate: prng.pick([0, 0.0002, 0.001, 0.003]),
      restartMin: 10,
      restartMax: prng.pick([100, 500, 2000]),
      leaderFaultRate: prng.pick([0, 0.02, 0.1, 0.3]),
      pauseRate: prng.pick([0, 0, 0.0005, 0.002]),
    },
    workload: {
      clients: prng.intBetween(1, 4),
      proposeRate: prng.pick([0.005, 0.02, 0.1]),
      maxOutstanding: prng.intBetween(1, 4),
      retryAfter: prng.intBetween(100, 600),
    },
    safetyUnits: prng.pick([5000, 10000, 20000]),
    livenessUnits: 10000,
  };
}
