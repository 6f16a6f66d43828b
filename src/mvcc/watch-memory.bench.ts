// Measures what idle watchers cost the watchable store: V8 heap bytes per watcher with 100,000
// single-key watchers (keys like /registry/pods/ns/pod-N), and for comparison 100,000 prefix
// watchers, as process.memoryUsage().heapUsed deltas after full GCs. "store" counts what
// WatchableStore adds (watcher objects, group maps, interval tree); "with spec" adds the WatchSpec
// and its key bytes the caller hands in, i.e. the whole cost of holding the watch. Then the CPU
// cost of a put and its notify among them (against 1,000 watchers for comparison), which must not
// grow with the watcher count.
// Run: node --expose-gc dist/src/mvcc/watch-memory.bench.js  (a measurement, not a test).
import { MemoryBackend } from '../backend/memory-backend.js';
import { KVStore } from './kv-store.js';
import { WatchableStore } from './watchable-store.js';
import type { WatchBatch, Watcher, WatchSink, WatchSpec } from './watch-types.js';

const N = 100000;
/** One empty end shared by every single-key spec, as a caller that builds many should do. */
const NO_END = new Uint8Array(0);
const enc = new TextEncoder();
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

function heap(): number {
  for (let i = 0; i < 4; i++) gc!();
  return process.memoryUsage().heapUsed;
}

let delivered = 0;
const sink: WatchSink = {
  deliver(_w: Watcher, b: WatchBatch): boolean {
    delivered += b.events.length;
    return true;
  },
  compacted(): void {},
};

function specs(prefix: boolean, n: number): WatchSpec[] {
  return Array.from({ length: n }, (_, i) => {
    const key = enc.encode(`/registry/pods/ns/pod-${i}${prefix ? '/' : ''}`);
    const end = prefix ? enc.encode(`/registry/pods/ns/pod-${i}0`) : NO_END;
    return { key, end, startRev: 0n, prevKv: false, noPut: false, noDelete: false };
  });
}

function measure(name: string, prefix: boolean, n = N): void {
  const kv = KVStore.open(new MemoryBackend());
  const ws = new WatchableStore(kv, { schedule: (fn) => setImmediate(fn) });
  const h0 = heap();
  const all = specs(prefix, n);
  const h1 = heap();
  const watchers: Watcher[] = all.map((s, i) => ws.watch(s, sink, BigInt(i)));
  const h2 = heap();
  const store = (h2 - h1) / n;
  const whole = (h2 - h0) / n;
  console.log(`${name} x ${n}: ${store.toFixed(0)} B/watcher store, ${whole.toFixed(0)} B/watcher with spec`);
  // One put at a time on keys that have a watcher, each notified alone (the synced path).
  const value = new Uint8Array(64).fill(0x61);
  const puts = 20000;
  const c0 = process.cpuUsage();
  for (let i = 0; i < puts; i++) {
    const key = enc.encode(`/registry/pods/ns/pod-${(i * 7919) % n}${prefix ? '/x' : ''}`);
    const events = kv.backend.write((tx) => {
      const t = kv.write(tx);
      t.put(key, value);
      return t.end();
    });
    ws.notify(events);
  }
  const c = process.cpuUsage(c0);
  console.log(`  put + notify among ${n} watchers: ${((c.user + c.system) / puts).toFixed(2)} us cpu each`);
  if (delivered < puts) throw new Error(`only ${delivered} events delivered`);
  delivered = 0;
  if (watchers.length !== ws.watcherCount) throw new Error('watcher count');
  ws.close();
}

measure('single-key', false, 1000);
measure('single-key', false);
measure('prefix', true, 1000);
measure('prefix', true);
