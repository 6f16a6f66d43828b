// Folder `sim/`: the deterministic cluster simulator (issue #3 item 8, DESIGN §6), in the manner of
// TigerBeetle's VOPR. One seed decides everything — cluster size, network, disk faults, crashes,
// raft knobs, workload — and replays exactly. A safety phase runs the cluster under faults while
// the checkers (checkers.ts) watch every leader, commit, apply and stable log; a liveness phase then
// heals a majority and requires progress and convergence.
//
// Files: clock.ts (time units, per-node tick schedules), network.ts (delay, loss, duplication,
// reordering, partitions), disk.ts (fault-injecting FileSystem over MemFileSystem), node-storage.ts
// and wal-storage-kind.ts (a node's durable raft state: MemoryStorage or the WAL), state-machine.ts,
// node.ts (RawNode + Ready loop), workload.ts (clients), options.ts (swarm options), cluster.ts (the
// world, one time unit at a time), run.ts (`runSeed`), main.ts (the CLI; the only file here that
// may use node:*).
//
// May import: src/base, src/raft, src/wal (and the other layers, which it does not need yet).
export { runSeed, type RunOptions, type SeedResult, type SeedStats } from './run.js';
export { SimFailure } from './checkers.js';
