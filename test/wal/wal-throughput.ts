// Measures WAL save throughput on the real file system (not a test: run it by hand).
//   node dist/test/wal/wal-throughput.js [dir]
// For each batch size it saves ~300-byte entries for about two seconds, one save per batch (one
// write + one fdatasync), and prints saves/s, entries/s and the mean save latency, beside the cost
// of a bare write + fdatasync of the same bytes for comparison.
import { mkdtemp, rm, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeFileSystem } from '../../src/platform/node-fs.js';
import { Wal } from '../../src/wal/index.js';
import type { Entry } from '../../src/raft/types.js';

const ENTRY_BYTES = 300;
const SECONDS = 2;

async function bareSync(dir: string, bytes: number): Promise<number> {
  const fh = await open(join(dir, 'bare'), 'w');
  await fh.truncate(64 * 1000 * 1000);
  const buf = new Uint8Array(bytes);
  let off = 0;
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 500) {
    await fh.write(buf, 0, buf.length, off);
    await fh.datasync();
    off += bytes;
    n++;
  }
  const ms = (performance.now() - t0) / n;
  await fh.close();
  return ms;
}

async function measure(base: string, batch: number): Promise<void> {
  const dir = join(base, `wal-${batch}`);
  const wal = await Wal.create(nodeFileSystem, dir, new Uint8Array(16));
  let last = 0n;
  let saves = 0;
  const t0 = performance.now();
  const data = new Uint8Array(ENTRY_BYTES).map((_, i) => i & 0xff);
  while (performance.now() - t0 < SECONDS * 1000) {
    const batchEntries: Entry[] = [];
    for (let i = 1n; i <= BigInt(batch); i++) batchEntries.push({ term: 2n, index: last + i, type: 0, data });
    await wal.save({ term: 2n, vote: 1n, commit: last }, batchEntries);
    last += BigInt(batch);
    saves++;
  }
  const secs = (performance.now() - t0) / 1000;
  await wal.close();
  const bareMs = await bareSync(base, batch * (ENTRY_BYTES + 40));
  console.log(
    `batch ${String(batch).padStart(4)}: ${Math.round(saves / secs)
      .toString()
      .padStart(6)} saves/s ${Math.round(Number(last) / secs)
      .toString()
      .padStart(8)} entries/s  ${((secs * 1000) / saves).toFixed(3)} ms/save` +
      `  (bare write+fdatasync of the same bytes: ${bareMs.toFixed(3)} ms)`,
  );
}

const base = process.argv[2] ?? (await mkdtemp(join(tmpdir(), 'ketch-wal-bench-')));
try {
  for (const batch of [1, 10, 100, 1000]) await measure(base, batch);
} finally {
  if (process.argv[2] === undefined) await rm(base, { recursive: true, force: true });
}
