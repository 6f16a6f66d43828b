// Measures the cost of one LmdbBackend.write() with 1 and with 100 small puts, and of sync().
// Run: node dist/src/backend/write-cost.bench.js  (a measurement, not a test).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from './backend.js';
import { LmdbBackend } from './lmdb-backend.js';
import { MemoryBackend } from './memory-backend.js';

function measure(backend: Backend, putsPerTxn: number, txns: number): number {
  const value = new Uint8Array(100).fill(7);
  const key = new Uint8Array(17);
  const view = new DataView(key.buffer);
  let n = 0;
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

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ketch-bench-'));
  try {
    const lmdb = LmdbBackend.open({ path: dir });
    const mem = new MemoryBackend();
    for (const [name, b] of [
      ['lmdb', lmdb],
      ['memory', mem],
    ] as const) {
      measure(b, 1, 200);
      console.log(`${name}: write() with 1 put: ${measure(b, 1, 3000).toFixed(1)} us`);
      console.log(`${name}: write() with 100 puts: ${measure(b, 100, 300).toFixed(1)} us`);
    }
    const t0 = process.hrtime.bigint();
    await lmdb.sync();
    console.log(`lmdb: sync(): ${(Number(process.hrtime.bigint() - t0) / 1000).toFixed(1)} us`);
    await lmdb.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
