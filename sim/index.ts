// Folder `sim/`: the deterministic cluster simulator (issue #3 item 8, DESIGN §6), in the manner of
// TigerBeetle's VOPR. One seed decides everything — cluster size, network, disk faults, crashes,
// raft knobs, workload — and replays exactly. A safety phase runs the cluster under faults while
// the checkers (checkers.ts) watch every leader, commit, apply and stable log; a liveness phase then
// heals a majority (every machine when the membership changes) and requires progress and
// convergence.
//
// Fault model: message delay, loss, duplication, reordering; symmetric, one-way and split
// partitions and their healing; crashes (power cuts: unsynced bytes lost or torn) and restarts
// from disk only; torn writes, failed writes, reads and fsyncs (a node that sees one stops and
// restarts later); process pauses; per-node clock rates; leaders crashed, isolated or paused right
// around their appends (a "Figure 8" mode makes this the main fault); membership changes.
//
// Files: clock.ts (time units, per-node tick schedules), network.ts (delay, loss, duplication,
// reordering, partitions), disk.ts (fault-injecting FileSystem over MemFileSystem), node-storage.ts
// and wal-storage-kind.ts (a node's durable raft state: MemoryStorage or the WAL), state-machine.ts,
// node.ts (RawNode + Ready loop), workload.ts (clients), admin.ts (membership changes), options.ts
// (swarm options), cluster.ts (the world, one time unit at a time), run.ts (`runSeed`), main.ts
// (the CLI; the only file here that may use node:*).
//
// Watch mode (`--watch`, issue #5): every node also applies the operations to an MVCC KVStore with
// a WatchableStore (watch-store.ts; watch-ops.ts says what an operation means to it), simulated
// clients watch through bounded streams with refusals, progress requests, cancels, moves and
// resumption after crashes (watch-clients.ts), the committed MVCC history is checked across nodes
// (watch-history.ts), and at the end every watch goes through src/mvcc/watch-checker.ts.
//
// May import: src/base, src/raft, src/wal, src/backend, src/mvcc, src/generated (and the other
// layers, which it does not need yet).
export { runSeed, type RunOptions, type SeedResult, type SeedStats } from './run.js';
export { SimFailure } from './checkers.js';
