// Measures the cost of one LmdbBackend.write() with 1 and with 100 small puts (batched commits,
// flush amortized; with no flush at all; with a flush after every write), of a point read with
// an empty and a full pending overlay, and of sync().
// Run: node dist/src/backend/write-cost.bench.js  (a measurement, not a test).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from './backend.js';
import { LmdbBackend } from './lmdb-backend.js';
import { MemoryBackend } from './memory-backend.js';

const value = new Uint8Array(100).fill(7);
const key = new Uint8Array(17);
const view = new DataView(key.buffer);
let n = 0;

function measure(backend: Backend, putsPerTxn: number, txns: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < txns; i++) {
    backend.write((tx) => {
      for (let j = 0; j < putsPerTxn; j++) {
        view.setBigUint64(0, BigInt(++n));
        tx.put('key', key, value);
      }
    });
  }
  return Number(process.hrtime.bigint() - t0) / 1000 / txns;
}

function measureGet(backend: Backend, reads: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reads; i++) {
    view.setBigUint64(0, BigInt(1 + (i % n)));
    backend.read((tx) => tx.peek('key', key));
  }
  return Number(process.hrtime.bigint() - t0) / 1000 / reads;
}

async function main(): Promise<void> {
  const dirs: string[] = [];
  const open = (opts: { batchLimitOps?: number; batchIntervalMs?: number }): LmdbBackend => {
    const dir = mkdtempSync(join(tmpdir(), 'ketch-bench-'));
    dirs.push(dir);
    return LmdbBackend.open({ path: dir, ...opts });
  };
  try {
    const cases: [string, Backend][] = [
      ['lmdb batched (default)', open({})],
      ['lmdb never flushed', open({ batchLimitOps: 1e9, batchIntervalMs: 1e9 })],
      ['lmdb flush every write', open({ batchLimitOps: 1 })],
      ['memory', new MemoryBackend()],
    ];
    for (const [name, b] of cases) {
      n = 0;
      measure(b, 1, 200);
      console.log(`${name}: write() with 1 put: ${measure(b, 1, 20000).toFixed(1)} us`);
      console.log(`${name}: write() with 100 puts: ${measure(b, 100, 300).toFixed(1)} us`);
      console.log(`${name}: peek(): ${measureGet(b, 100000).toFixed(2)} us`);
      if (b instanceof LmdbBackend) {
        const pending = b.pendingCount();
        const t0 = process.hrtime.bigint();
        await b.sync();
        const us = Number(process.hrtime.bigint() - t0) / 1000;
        console.log(`${name}: sync() with ${pending} pending: ${us.toFixed(0)} us`);
        console.log(`${name}: peek() after sync: ${measureGet(b, 100000).toFixed(2)} us`);
      }
      await b.close();
    }
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

void main();
