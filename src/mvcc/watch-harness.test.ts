// Test harness of the watchable store tests (named .test.ts so it may use node:*; it holds no tests
// itself): a KVStore over the memory backend with a WatchableStore whose steps run only when a test
// says so, writes that are logged and notified as the server's apply path does, a sink that
// records everything, and the expected stream of a watcher computed from the log of every event.
import assert from 'node:assert/strict';
import { compareBytes, utf8 } from '../base/bytes.js';
import { MemoryBackend } from '../backend/memory-backend.js';
import { Event as EventCodec } from '../generated/mvccpb.js';
import { EventType, type Event } from './key-value.js';
import { KVStore } from './kv-store.js';
import type { TxnWrite } from './kv-txn.js';
import { WatchableStore } from './watchable-store.js';
import type { WatchBatch, Watcher, WatchSink, WatchSpec } from './watch-types.js';

export const k = utf8;
export const FROM_KEY = new Uint8Array([0]);

export interface Env {
  kv: KVStore;
  ws: WatchableStore;
  /** Scheduled catch-up steps, run by runStep/drain. */
  queue: (() => void)[];
  /** Every event of every committed write, in revision order, as the txn produced it. */
  log: Event[];
}

export function makeEnv(catchUpEventsPerStep?: number): Env {
  const kv = KVStore.open(new MemoryBackend(), { yieldBetweenBatches: () => Promise.resolve() });
  const queue: (() => void)[] = [];
  const ws = new WatchableStore(kv, { schedule: (fn) => queue.push(fn), catchUpEventsPerStep });
  return { kv, ws, queue, log: [] };
}

/** Runs one scheduled step; false when none was scheduled. */
export function runStep(env: Env): boolean {
  const fn = env.queue.shift();
  if (fn === undefined) return false;
  fn();
  return true;
}

/** Runs steps until none is scheduled; returns how many ran. */
export function drain(env: Env, max = 100000): number {
  let n = 0;
  while (runStep(env)) assert.ok(++n < max, 'catch-up does not converge');
  return n;
}

/** Applies several write transactions in one backend transaction, then notifies their events. */
export function applyBatch(env: Env, txns: ((t: TxnWrite) => void)[], notify = true): Event[] {
  const events = env.kv.backend.write((tx) => {
    const out: Event[] = [];
    for (const f of txns) {
      const t = env.kv.write(tx);
      f(t);
      out.push(...t.end());
    }
    return out;
  });
  env.log.push(...events);
  if (notify) env.ws.notify(events);
  return events;
}

export function put(env: Env, key: string, value: string): Event[] {
  return applyBatch(env, [(t) => void t.put(k(key), k(value))]);
}

export function del(env: Env, key: string, end?: string): Event[] {
  return applyBatch(env, [(t) => void t.deleteRange(k(key), end === undefined ? undefined : k(end))]);
}

export function spec(key: string, end = '', o: Partial<WatchSpec> = {}): WatchSpec {
  const e = end === '\0' ? FROM_KEY : k(end);
  return { key: k(key), end: e, startRev: 0n, prevKv: false, noPut: false, noDelete: false, ...o };
}

/** A sink that records every batch and compaction, and refuses batches when told to. */
export class Recorder implements WatchSink {
  readonly batches = new Map<Watcher, WatchBatch[]>();
  readonly compactions = new Map<Watcher, bigint>();
  refuse: (w: Watcher, b: WatchBatch) => boolean = () => false;
  /** Called inside deliver (to test re-entrant calls into the store). */
  onDeliver: ((w: Watcher, b: WatchBatch) => void) | undefined;
  deliverCalls = 0;

  deliver(w: Watcher, b: WatchBatch): boolean {
    this.deliverCalls++;
    const list = this.batches.get(w);
    if (list === undefined) this.batches.set(w, [b]);
    else list.push(b);
    this.onDeliver?.(w, b);
    return !this.refuse(w, b);
  }

  compacted(w: Watcher, compactRev: bigint): void {
    assert.equal(this.compactions.has(w), false, 'compacted twice');
    this.compactions.set(w, compactRev);
  }

  /** Everything the watcher received, each event in the form it asked for (prev_kv or not). */
  received(w: Watcher): Uint8Array[] {
    return (this.batches.get(w) ?? []).flatMap((b) => b.events.map((e) => e.encoded(w.spec.prevKv)));
  }
}

export function inRange(key: Uint8Array, s: WatchSpec): boolean {
  if (s.end.length === 0) return compareBytes(key, s.key) === 0;
  if (compareBytes(key, s.key) < 0) return false;
  return (s.end.length === 1 && s.end[0] === 0) || compareBytes(key, s.end) < 0;
}

/** The events of the log a watcher must get from revision `from` through `through`, encoded. */
export function expected(log: readonly Event[], s: WatchSpec, from: bigint, through: bigint): Uint8Array[] {
  return log
    .filter((e) => e.kv.modRevision >= from && e.kv.modRevision <= through && inRange(e.kv.key, s))
    .filter((e) => !(e.type === EventType.PUT ? s.noPut : s.noDelete))
    .map((e) => EventCodec.encode(s.prevKv ? e : { type: e.type, kv: e.kv }));
}

/** Readable form of encoded events for assertion messages. */
export function show(events: readonly Uint8Array[]): string[] {
  return events.map((b) => {
    const e = EventCodec.decode(b);
    const kv = e.kv!;
    const t = e.type === EventType.PUT ? 'PUT' : 'DEL';
    const prev = e.prevKv === undefined ? '' : ` prev=${Buffer.from(e.prevKv.value).toString()}`;
    return `${t} ${Buffer.from(kv.key).toString()}@${kv.modRevision}=${Buffer.from(kv.value).toString()}${prev}`;
  });
}

/** Batches never split a revision, ascend, and claim at least their last event's revision. */
export function checkBatches(batches: readonly WatchBatch[]): void {
  let lastRev = -1n;
  let lastClaim = -1n;
  for (const b of batches) {
    assert.ok(b.events.length > 0, 'empty batch delivered');
    const first = b.events[0]!.event.kv!.modRevision;
    assert.ok(first > lastRev, `revision ${first} split across batches or repeated (after ${lastRev})`);
    for (const e of b.events) {
      const r = e.event.kv!.modRevision;
      assert.ok(r >= lastRev, 'events out of order in a batch');
      lastRev = r;
    }
    assert.ok(b.rev >= lastRev, `batch claims ${b.rev} below its last event ${lastRev}`);
    assert.ok(b.rev > lastClaim, `batch rev ${b.rev} not after the previous ${lastClaim}`);
    lastClaim = b.rev;
  }
}
