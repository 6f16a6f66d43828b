// Measures what KVStore writes and reads cost: a put applied as one of a batch of one-put
// TxnWrites in one backend transaction (the server's apply shape), with and without reading the
// previous KeyValue; a put in its own backend transaction; a range of one key. Reports CPU time
// (user + system) per operation, which other processes on the machine disturb less than wall time,
// and wall time beside it. Run: node dist/src/mvcc/put-cost.bench.js  (a measurement, not a test).
import type { Backend } from '../backend/backend.js';
import { LmdbBackend } from '../backend/lmdb-backend.js';
import { MemoryBackend } from '../backend/memory-backend.js';
import { KVStore } from './kv-store.js';

const KEYS = 10000;
const enc = new TextEncoder();
const keys = Array.from({ length: KEYS }, (_, i) => enc.encode(`/registry/pods/default/pod-${i}`));
const value = new Uint8Array(128).fill(0x61);

function cost(n: number, fn: () => void): string {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  fn();
  const wall = Number(process.hrtime.bigint() - t0) / 1000 / n;
  const c = process.cpuUsage(c0);
  return `${((c.user + c.system) / n).toFixed(2)} us cpu (${wall.toFixed(2)} wall)`;
}

function run(name: string, backend: Backend): void {
  const kv = KVStore.open(backend);
  let i = 0;
  const batch = (prevKv: boolean) => () => {
    for (let r = 0; r < 20; r++) {
      backend.write((tx) => {
        for (let j = 0; j < 1000; j++) {
          const txn = kv.write(tx);
          txn.put(keys[i++ % KEYS]!, value, 0n, { prevKv });
          txn.end();
        }
      });
    }
  };
  batch(true)(); // warm up: create every key, let the JIT settle
  batch(true)();
  cost(20000, batch(false));
  const noPrev = cost(20000, batch(false));
  const withPrev = cost(20000, batch(true));
  const single = cost(1000, () => {
    for (let j = 0; j < 1000; j++) {
      backend.write((tx) => {
        const txn = kv.write(tx);
        txn.put(keys[i++ % KEYS]!, value, 0n);
        txn.end();
      });
    }
  });
  let found = 0;
  for (let j = 0; j < 50000; j++) found += kv.range(keys[j % KEYS]!).kvs.length;
  const range = cost(200000, () => {
    for (let j = 0; j < 200000; j++) found += kv.range(keys[j % KEYS]!).kvs.length;
  });
  if (found !== 250000) throw new Error('range missed keys');
  console.log(`${name}: put in a 1000-entry apply batch: ${withPrev}; without prevKv: ${noPrev}`);
  console.log(`${name}: put in its own backend txn: ${single}`);
  console.log(`${name}: range of one key: ${range}`);
}

const dir = `${process.env['TMPDIR'] ?? '/tmp'}/ketch-put-cost-${process.pid}`;
run('memory', new MemoryBackend());
const lmdb = LmdbBackend.open({ path: dir });
run('lmdb', lmdb);
void lmdb.close().then(() => LmdbBackend.remove(dir));
