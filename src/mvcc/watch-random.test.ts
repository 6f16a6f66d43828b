// Randomised, seeded runs of the watchable store: random write transactions (several keys each,
// several per backend transaction), random watchers at random start revisions, sinks refusing at
// random and resumed later, random cancels, compactions (physical deletion awaited or not) and
// store replacements, with catch-up steps interleaved at random among the writes. Every watcher's
// received stream must equal exactly the expected stream computed from the log of all events
// (ordered, unique, no gaps, whole revisions, prev_kv as asked), through its claimed progress at
// any time, and to the end, or end in compacted at a point it really could not be caught up from.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBackend } from '../backend/memory-backend.js';
import { Prng } from '../base/prng.js';
import { KVStore } from './kv-store.js';
import type { CompactionJob } from './compaction.js';
import {
  applyBatch,
  checkBatches,
  drain,
  expected,
  k,
  makeEnv,
  Recorder,
  runStep,
  show,
  spec,
  type Env,
} from './watch-harness.test.js';
import type { Watcher, WatchBatch, WatchSpec } from './watch-types.js';
import type { TxnWrite } from './kv-txn.js';
import type { Event } from './key-value.js';

const KEYS = ['a', 'b', 'c', 'd', 'p/1', 'p/2', 'p/3', 'q'];
const SEEDS = 60;
const OPS = 250;

interface Tracked {
  w: Watcher;
  /** The first revision it must get. */
  from: bigint;
  canceled: boolean;
}

class RandomSink extends Recorder {
  inWatch = false;
  refusing = true;
  readonly refused = new Set<Watcher>();
  readonly compactRevSeen = new Map<Watcher, bigint>();
  /** Batches handed over by notify (synced) and by catch-up steps (unsynced). */
  syncedBatches = 0;
  catchUpBatches = 0;

  constructor(
    private readonly env: Env,
    private readonly rng: Prng,
  ) {
    super();
    this.refuse = (w: Watcher) => {
      if (!this.refusing || !this.rng.chance(0.15)) return false;
      this.refused.add(w);
      return true;
    };
  }

  override deliver(w: Watcher, b: WatchBatch): boolean {
    assert.equal(this.inWatch, false, 'deliver called inside watch()');
    assert.ok(b.rev <= this.env.ws.syncedRev, 'batch claims a revision not yet notified');
    if (w.synced) this.syncedBatches++;
    else this.catchUpBatches++;
    return super.deliver(w, b);
  }

  override compacted(w: Watcher, compactRev: bigint): void {
    assert.equal(this.inWatch, false, 'compacted called inside watch()');
    this.compactRevSeen.set(w, this.env.kv.compactRev);
    super.compacted(w, compactRev);
  }
}

/** A random spec; its start mostly at or after `low` (the compaction revision), up to a bit ahead. */
function randomSpec(rng: Prng, low: number, current: bigint): WatchSpec {
  const o: Partial<WatchSpec> = {
    prevKv: rng.chance(0.5),
    noPut: rng.chance(0.15),
    noDelete: rng.chance(0.15),
    startRev: rng.chance(0.4) ? 0n : BigInt(rng.intBetween(rng.chance(0.8) ? low : 1, Number(current) + 3)),
  };
  switch (rng.intBelow(5)) {
    case 0:
      return spec('p/', 'p0', o);
    case 1:
      return spec('b', 'd', o);
    case 2:
      return spec(rng.pick(KEYS), '\0', o);
    case 3:
      return spec('\0', '\0', o);
    default:
      return spec(rng.pick(KEYS), '', o);
  }
}

/** One write transaction on distinct keys (etcd refuses a txn touching a key twice). */
function randomTxn(rng: Prng): (t: TxnWrite) => void {
  if (rng.chance(0.1)) return (t) => void t.deleteRange(k('p/'), k('p0'));
  const keys = rng.shuffle([...KEYS]).slice(0, rng.intBetween(1, 3));
  const ops = keys.map((key) => ({ key, del: rng.chance(0.3), value: `v${rng.intBelow(1000)}` }));
  return (t) => {
    for (const o of ops) {
      if (o.del) t.deleteRange(k(o.key));
      else t.put(k(o.key), k(o.value));
    }
  };
}

/** A replacement store: a copy of the backend (as a snapshot would carry) that saw more writes. */
function replaceStore(env: Env, rng: Prng): void {
  const copy = new MemoryBackend();
  copy.write((tx) =>
    env.kv.backend.read((r) => {
      for (const b of ['key', 'meta'] as const) {
        r.forEach(b, new Uint8Array(0), undefined, (kk, v) => tx.put(b, kk, v));
      }
    }),
  );
  const old = env.kv;
  env.kv = KVStore.open(copy, { yieldBetweenBatches: () => Promise.resolve() });
  old.close();
  const more = rng.intBelow(4);
  for (let i = 0; i < more; i++) applyBatch(env, [randomTxn(rng)], false);
  env.ws.rebind(env.kv);
}

/** Revisions the store was compacted at: their events' prev_kv is gone with the revision before. */
const compactRevsOf = new WeakMap<Env, Set<bigint>>();

/**
 * The readable stream with prev_kv left out of events at a compaction revision: a watcher that
 * reads such a revision back from the store after the compaction cannot get it (nor does etcd).
 */
function comparable(env: Env, lines: string[]): string[] {
  const revs = compactRevsOf.get(env);
  if (revs === undefined) return lines;
  return lines.map((l) => {
    const m = /@(\d+)=/.exec(l);
    return m !== null && revs.has(BigInt(m[1]!)) ? l.replace(/ prev=.*$/, '') : l;
  });
}

function checkProgress(env: Env, sink: RandomSink, tracked: readonly Tracked[], seed: number): void {
  for (const t of tracked) {
    const got = comparable(env, show(sink.received(t.w)));
    const want = comparable(env, show(expected(env.log, t.w.spec, t.from, t.w.progressRev)));
    assert.deepEqual(got, want, `seed ${seed}: stream of a watcher through its progress ${t.w.progressRev}`);
  }
}

interface Stats {
  compacted: number;
  refused: number;
  syncedBatches: number;
  catchUpBatches: number;
  rebinds: number;
}

/** One seeded run: OPS random operations, then everything resumed and drained, then verified. */
class Run {
  readonly rng: Prng;
  readonly env: Env;
  readonly sink: RandomSink;
  readonly tracked: Tracked[] = [];
  /** Events committed but not notified yet. */
  readonly pending: Event[] = [];
  job: CompactionJob | undefined;
  rebinds = 0;
  resumed = 0;

  constructor(readonly seed: number) {
    this.rng = new Prng(seed);
    this.env = makeEnv(this.rng.intBetween(1, 6));
    this.sink = new RandomSink(this.env, this.rng);
  }

  async op(i: number): Promise<void> {
    const { env, sink, rng } = this;
    const r = rng.float();
    if (r < 0.35) return this.write();
    if (r < 0.5) return this.addWatcher(i);
    if (r < 0.54) return this.pending.length > 0 ? env.ws.notify(this.pending.splice(0)) : undefined;
    if (r < 0.56) return env.kv.currentRev > env.kv.compactRev + 1n ? this.compact() : undefined;
    if (r < 0.62) return this.tracked.length > 0 ? this.cancel() : undefined;
    if (r < 0.7) return sink.refused.size > 0 ? this.resume() : undefined;
    if (r < 0.71) return this.replace();
    runStep(env);
  }

  write(): void {
    const n = this.rng.intBetween(1, 3);
    // Sometimes the notification comes later than the commit, with steps running in between.
    const late = this.rng.chance(0.2) || this.pending.length > 0;
    const events = applyBatch(
      this.env,
      Array.from({ length: n }, () => randomTxn(this.rng)),
      !late,
    );
    if (late) this.pending.push(...events);
  }

  addWatcher(i: number): void {
    const s = randomSpec(this.rng, Math.max(1, Number(this.env.kv.compactRev)), this.env.kv.currentRev);
    const from = s.startRev === 0n ? this.env.ws.syncedRev + 1n : s.startRev;
    this.sink.inWatch = true;
    const w = this.env.ws.watch(s, this.sink, BigInt(i));
    this.sink.inWatch = false;
    this.tracked.push({ w, from, canceled: false });
  }

  async compact(): Promise<void> {
    const kv = this.env.kv;
    const lo = kv.compactRev < 1n ? 1 : Number(kv.compactRev) + 1;
    const rev = BigInt(this.rng.intBetween(lo, Number(kv.currentRev)));
    this.job = kv.backend.write((tx) => kv.compact(tx, rev));
    this.env.ws.compacted(rev);
    const revs = compactRevsOf.get(this.env) ?? new Set<bigint>();
    revs.add(rev);
    compactRevsOf.set(this.env, revs);
    // Half the time the physical deletion happens at once, half the time later.
    if (this.rng.chance(0.5)) await this.job.done;
  }

  cancel(): void {
    const t = this.rng.pick(this.tracked);
    const live = !t.canceled && !this.sink.compactions.has(t.w);
    assert.equal(this.env.ws.cancel(t.w), live);
    assert.equal(this.env.ws.cancel(t.w), false);
    t.canceled = true;
  }

  resume(): void {
    const w = this.rng.pick([...this.sink.refused]);
    this.sink.refused.delete(w);
    this.resumed++;
    this.env.ws.resume(w);
  }

  async replace(): Promise<void> {
    if (this.job !== undefined) await this.job.done;
    // A snapshot is installed after what was applied before it was notified.
    if (this.pending.length > 0) this.env.ws.notify(this.pending.splice(0));
    replaceStore(this.env, this.rng);
    this.rebinds++;
  }

  async finish(): Promise<Stats> {
    const { env, sink } = this;
    if (this.pending.length > 0) env.ws.notify(this.pending.splice(0));
    sink.refusing = false;
    while (sink.refused.size > 0 || env.queue.length > 0) {
      for (const w of sink.refused) env.ws.resume(w);
      sink.refused.clear();
      drain(env);
    }
    if (this.job !== undefined) await this.job.done;
    const compacted = verify(env, sink, this.tracked, this.seed);
    const { syncedBatches, catchUpBatches } = sink;
    return { compacted, refused: this.resumed, syncedBatches, catchUpBatches, rebinds: this.rebinds };
  }
}

async function run(seed: number): Promise<Stats> {
  const r = new Run(seed);
  for (let i = 0; i < OPS; i++) {
    await r.op(i);
    if (i % 10 === 0) checkProgress(r.env, r.sink, r.tracked, seed);
  }
  return r.finish();
}

/** Checks every watcher's final stream; returns how many were compacted. */
function verify(env: Env, sink: RandomSink, tracked: readonly Tracked[], seed: number): number {
  let compacted = 0;
  assert.equal(env.ws.victimCount, 0);
  assert.equal(env.ws.unsyncedCount, 0);
  for (const t of tracked) {
    const w = t.w;
    checkBatches(sink.batches.get(w) ?? []);
    const c = sink.compactions.get(w);
    if (c !== undefined) {
      compacted++;
      assert.equal(
        c,
        sink.compactRevSeen.get(w),
        `seed ${seed}: compacted with the store's compaction revision`,
      );
      assert.ok(
        w.progressRev + 1n < c,
        `seed ${seed}: compacted though it needed ${w.progressRev + 1n} >= ${c}`,
      );
    } else if (!t.canceled) {
      assert.equal(w.synced, true, `seed ${seed}: a live watcher ends synced`);
      assert.equal(w.progressRev, env.kv.currentRev);
    }
    const got = comparable(env, show(sink.received(w)));
    assert.deepEqual(
      got,
      comparable(env, show(expected(env.log, w.spec, t.from, w.progressRev))),
      `seed ${seed}: final stream`,
    );
  }
  assert.equal(env.ws.watcherCount, tracked.filter((t) => !t.canceled && !sink.compactions.has(t.w)).length);
  return compacted;
}

void describe('WatchableStore, randomised', () => {
  void it(`keeps every watcher's stream exact across ${SEEDS} seeds`, async () => {
    const total: Stats = { compacted: 0, refused: 0, syncedBatches: 0, catchUpBatches: 0, rebinds: 0 };
    for (let seed = 1; seed <= SEEDS; seed++) {
      const st = await run(seed);
      for (const key of Object.keys(total) as (keyof Stats)[]) total[key] += st[key];
    }
    // The runs must exercise every path, not only skip them.
    if (process.env['WATCH_RANDOM_STATS'] !== undefined) console.log(total);
    for (const [what, n] of Object.entries(total)) assert.ok(n >= SEEDS, `too few ${what}: ${n}`);
  });
});
