// SIGKILL while saving, on the real file system: every index the child printed as acknowledged
// must be in the WAL when it is reopened, with its exact bytes, over several kill/restart rounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeFileSystem } from '../../src/platform/node-fs.js';
import { Wal } from '../../src/wal/index.js';
import { entry, flat } from '../../src/wal/test-helpers.js';

const child = join(dirname(fileURLToPath(import.meta.url)), 'wal-kill-child.js');

/** Runs the child until it has printed `acks` acknowledgements (at least), then SIGKILLs it. */
function runAndKill(dir: string, acks: number): Promise<{ start: bigint; acked: bigint }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let count = 0;
    let start: bigint | undefined;
    let acked = 0n;
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (chunk: string) => {
      out += chunk;
      let nl: number;
      while ((nl = out.indexOf('\n')) >= 0) {
        const [word, value] = out.slice(0, nl).split(' ');
        out = out.slice(nl + 1);
        if (word === 'start') start = BigInt(value!);
        if (word === 'ack') {
          acked = BigInt(value!);
          if (++count === acks) p.kill('SIGKILL');
        }
      }
    });
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('error', reject);
    p.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited with ${code}: ${err}`));
      else if (start === undefined) reject(new Error('child never started'));
      else resolve({ start, acked });
    });
  });
}

void test('entries acknowledged before a SIGKILL are all in the WAL afterwards', async () => {
  const base = await mkdtemp(join(tmpdir(), 'ketch-wal-kill-'));
  const dir = join(base, 'wal');
  try {
    let previous = 0n;
    for (const acks of [150, 400, 37, 900, 1]) {
      const { start, acked } = await runAndKill(dir, acks);
      assert.ok(start >= previous, `restart found ${start} entries, fewer than the ${previous} acknowledged`);
      const r = await Wal.open(nodeFileSystem, dir, { segmentSizeBytes: 64 * 1024 });
      await r.wal.close();
      const last = r.entries[r.entries.length - 1]?.index ?? 0n;
      assert.ok(last >= acked, `acknowledged ${acked} but the WAL ends at ${last}`);
      const want = [];
      for (let i = 1n; i <= last; i++) want.push(entry(i, 1n, 300));
      assert.deepEqual(flat(r.entries), flat(want));
      previous = acked;
    }
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});
