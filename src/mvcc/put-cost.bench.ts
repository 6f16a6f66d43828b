// Measures the JS cost of KVStore writes and reads: puts applied as a batch of one-put TxnWrites in
// one backend transaction (the server's apply shape), one put per backend transaction, and a
// range over one key. Run: node dist/src/mvcc/put-cost.bench.js  (a measurement, not a test).
import type { Backend } from '../backend/backend.js';
import { LmdbBackend } from '../backend/lmdb-backend.js';
import { MemoryBackend } from '../backend/memory-backend.js';
import { KVStore } from './kv-store.js';

const KEYS = 10000;
const enc = new TextEncoder();
const keys = Array.from({ length: KEYS }, (_, i) => enc.encode(`/registry/pods/default/pod-${i}`));
const value = new Uint8Array(128).fill(0x61);

function usPer(n: number, fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1000 / n;
}

function run(name: string, backend: Backend): void {
  const kv = KVStore.open(backend);
  const batch = 1000;
  const rounds = 20;
  let i = 0;
  const batched = usPer(batch * rounds, () => {
    for (let r = 0; r < rounds; r++) {
      backend.write((tx) => {
        for (let j = 0; j < batch; j++) {
          const txn = kv.write(tx);
          txn.put(keys[i++ % KEYS]!, value, 0n);
          txn.end();
        }
      });
    }
  });
  const single = usPer(2000, () => {
    for (let j = 0; j < 2000; j++) {
      backend.write((tx) => {
        const txn = kv.write(tx);
        txn.put(keys[i++ % KEYS]!, value, 0n);
        txn.end();
      });
    }
  });
  const ranges = 200000;
  let found = 0;
  const range = usPer(ranges, () => {
    for (let j = 0; j < ranges; j++) found += kv.range(keys[j % KEYS]!).kvs.length;
  });
  if (found !== ranges) throw new Error('range missed keys');
  console.log(
    `${name}: put in a 1000-entry apply batch ${batched.toFixed(2)} us; ` +
      `put in its own backend txn ${single.toFixed(1)} us; range of one key ${range.toFixed(2)} us`,
  );
}

const dir = `${process.env['TMPDIR'] ?? '/tmp'}/ketch-put-cost-${process.pid}`;
run('memory', new MemoryBackend());
const lmdb = LmdbBackend.open({ path: dir });
run('lmdb', lmdb);
void lmdb.close().then(() => LmdbBackend.remove(dir));
