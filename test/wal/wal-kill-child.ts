// Child process of wal-kill.test.ts: opens (or creates) the WAL in argv[2] on the real file system,
// then saves batches of entries forever, printing "ack <index>" after each save resolves. The parent
// SIGKILLs it at a random moment. stdout to a pipe is synchronous on Linux, so a printed ack was
// really sent before the kill.
import { nodeFileSystem } from '../../src/platform/node-fs.js';
import { Wal } from '../../src/wal/index.js';
import { entries } from '../../src/wal/test-helpers.js';

const dir = process.argv[2]!;
const segmentSizeBytes = 64 * 1024;
const meta = new TextEncoder().encode('kill-test');

async function main(): Promise<void> {
  let wal: Wal;
  let last = 0n;
  if (await Wal.exists(nodeFileSystem, dir)) {
    const r = await Wal.open(nodeFileSystem, dir, { segmentSizeBytes });
    wal = r.wal;
    last = r.entries.length === 0 ? 0n : r.entries[r.entries.length - 1]!.index;
  } else {
    wal = await Wal.create(nodeFileSystem, dir, meta, { segmentSizeBytes });
  }
  process.stdout.write(`start ${last}\n`);
  for (let round = 0; ; round++) {
    const n = BigInt(1 + (round % 17));
    await wal.save({ term: 1n, vote: 1n, commit: last }, entries(last + 1n, last + n, 1n, 300));
    last += n;
    process.stdout.write(`ack ${last}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
