// The simulator must catch a broken commit rule, a disk that loses what it acknowledged, and a
// watchable store that loses one event. The mutant lets a leader commit an entry of an
// earlier term as soon as a quorum stores it (it drops RaftLog.maybeCommit's "the entry is of the
// current term" check) — the unsafe rule of the Raft paper's Figure 8. Under the simulator's
// faults (leaders crashed or isolated right after replicating to a minority, one entry per
// message) some seed must show a state-machine safety violation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RaftLog } from '../src/raft/raft-log.js';
import type { FileHandle, OpenFlags } from '../src/base/fs.js';
import { WatchableStore } from '../src/mvcc/watchable-store.js';
import type { WatchSink } from '../src/mvcc/watch-types.js';
import { SimDisk } from './disk.js';
import { runSeed } from './run.js';

const BUDGET = 500;

test('committing an entry of a previous term by counting replicas is caught', async () => {
  const original = Object.getOwnPropertyDescriptor(RaftLog.prototype, 'maybeCommit')!;
  RaftLog.prototype.maybeCommit = function (this: RaftLog, maxIndex: bigint): boolean {
    if (maxIndex > this.committed) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  };
  let caught: { seed: number; failure: string; tried: number } | undefined;
  try {
    for (let i = 0; i < BUDGET && caught === undefined; i++) {
      const seed = 9000 + i;
      const r = await runSeed(seed);
      if (!r.ok) caught = { seed, failure: r.failure!, tried: i + 1 };
    }
  } finally {
    Object.defineProperty(RaftLog.prototype, 'maybeCommit', original);
  }
  assert.ok(caught !== undefined, `the mutant survived ${BUDGET} seeds`);
  console.log(`mutant caught after ${caught.tried} seeds (seed ${caught.seed}): ${caught.failure}`);
  assert.match(caught.failure, /state-machine safety/);
});

test('a disk whose fsyncs do nothing is caught (the crash model drops what was never synced)', async () => {
  const original = Object.getOwnPropertyDescriptor(SimDisk.prototype, 'open')!;
  const open = original.value as SimDisk['open'];
  SimDisk.prototype.open = async function (
    this: SimDisk,
    path: string,
    flags: OpenFlags,
  ): Promise<FileHandle> {
    const h = await open.call(this, path, flags);
    h.datasync = async () => {};
    h.sync = async () => {};
    return h;
  };
  // Most such runs end with the WAL refusing to open a log that lost synced-looking data; the
  // checkers must also see the damage itself in some runs (lost votes, lost commits).
  let refusals = 0;
  let caught: { seed: number; failure: string } | undefined;
  try {
    for (let seed = 7000; seed < 7200 && caught === undefined; seed++) {
      const r = await runSeed(seed);
      if (r.ok) continue;
      if (/state-machine safety|election safety|durability|log matching/.test(r.failure!))
        caught = { seed, failure: r.failure! };
      else refusals++;
    }
  } finally {
    Object.defineProperty(SimDisk.prototype, 'open', original);
  }
  assert.ok(caught !== undefined, 'the checkers never saw the effect of a disk without fsync in 200 seeds');
  console.log(
    `no-fsync disk: ${refusals} runs stopped by the WAL refusing its log, then a checker at seed ${caught.seed}: ${caught.failure.slice(0, 160)}`,
  );
});

test('a watchable store that drops one event is caught by the watch checker', async () => {
  const original = Object.getOwnPropertyDescriptor(WatchableStore.prototype, 'watch')!;
  const watch = original.value as WatchableStore['watch'];
  let batches = 0;
  // Every sink is wrapped: the 50th batch of the run loses its first event.
  WatchableStore.prototype.watch = function (this: WatchableStore, spec, sink, tag) {
    const dropping: WatchSink = {
      deliver: (w, batch) =>
        ++batches === 50
          ? sink.deliver(w, { events: batch.events.slice(1), rev: batch.rev })
          : sink.deliver(w, batch),
      compacted: (w, rev) => sink.compacted(w, rev),
    };
    return watch.call(this, spec, dropping, tag);
  };
  let caught: { seed: number; failure: string } | undefined;
  let reached = 0;
  try {
    for (let seed = 2000000; seed < 2000060 && caught === undefined; seed++) {
      batches = 0;
      const r = await runSeed(seed, { watch: true });
      if (batches >= 50) reached++;
      if (!r.ok) caught = { seed, failure: r.failure! };
    }
  } finally {
    Object.defineProperty(WatchableStore.prototype, 'watch', original);
  }
  assert.ok(
    caught !== undefined,
    `the dropped event went unseen in ${reached} seeds that reached the 50th batch`,
  );
  console.log(`dropped event caught at seed ${caught.seed}: ${caught.failure.slice(0, 200)}`);
  assert.match(caught.failure, /watch \d+ .*: (reliable|bookmarkable|atomic): /);
});
