// kill -9 of a process writing through the LMDB backend: reopening never fails, every transaction
// whose sync() resolved is present, and what is present is exactly a prefix of the write()s: the
// state after the write() whose counter (the child's applied index) is stored, never a gap or a
// part of a write(). Run with the default batching and with small batches flushed between syncs.
import { it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LmdbBackend } from './lmdb-backend.js';
import { COUNTER_KEY, KEEP_TXNS, KEYS_PER_TXN, decodeCounter, txnKey } from './lmdb-crash-child.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const child = join(dirname(fileURLToPath(import.meta.url)), 'lmdb-crash-child.js');

/** Runs the child until it has reported `syncs` completed syncs, then SIGKILLs it. */
function runAndKill(dir: string, syncs: number, batchLimitOps?: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      [child, dir, ...(batchLimitOps === undefined ? [] : [String(batchLimitOps)])],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let lastSynced = 0;
    let seen = 0;
    let buf = '';
    p.stdout.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /^synced (\d+)$/.exec(line);
        if (m === null) continue;
        lastSynced = Number(m[1]);
        if (++seen === syncs) p.kill('SIGKILL');
      }
    });
    p.on('error', reject);
    p.on('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited without being killed (${signal})`));
      else resolve(lastSynced);
    });
  });
}

async function verify(dir: string, lastSynced: number): Promise<number> {
  const b = LmdbBackend.open({ path: dir });
  try {
    return b.read((tx) => {
      const counter = decodeCounter(tx.get('meta', COUNTER_KEY));
      assert.ok(counter >= lastSynced, `counter ${counter} lost synced transaction ${lastSynced}`);
      for (let t = Math.max(1, counter - KEEP_TXNS - 3); t <= counter + 3; t++) {
        const live = t > counter - KEEP_TXNS && t <= counter;
        for (let j = 0; j < KEYS_PER_TXN; j++) {
          const v = tx.get('key', txnKey(t, j));
          if (!live) {
            assert.equal(v, undefined, `txn ${t} key ${j} should not exist (counter ${counter})`);
            continue;
          }
          assert.ok(v !== undefined, `txn ${t} key ${j} missing (counter ${counter})`);
          assert.equal(v.length, t % 7 === 0 ? 9000 : 40);
          assert.ok(v.every((x) => x === (t & 0xff)));
        }
      }
      const total = tx.range('key', new Uint8Array(0), undefined).length;
      assert.equal(total, Math.min(counter, KEEP_TXNS) * KEYS_PER_TXN);
      return counter;
    });
  } finally {
    await b.close();
  }
}

for (const batchLimitOps of [undefined, 30]) {
  const name = batchLimitOps === undefined ? 'default batching' : `flushes every ${batchLimitOps} ops`;
  void it(`survives repeated kill -9 holding a whole prefix with every synced transaction (${name})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ketch-lmdb-crash-'));
    dirs.push(dir);
    let prev = 0;
    for (let round = 0; round < 5; round++) {
      const lastSynced = await runAndKill(dir, 5 + 5 * round, batchLimitOps);
      const counter = await verify(dir, lastSynced);
      assert.ok(counter > prev, 'the child made progress');
      prev = counter;
    }
  });
}
