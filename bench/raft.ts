// `npm run bench -- raft`: the consensus core and the disk under it, measured in one run.
// 1. proposals/s through a three-member in-memory raft group (bench/raft-core.ts), per batch size;
// 2. WAL append + fdatasync with group commit, beside the raw fdatasync rate of the same disk
//    (bench/raft-disk.ts).
// Bounded by count and time; prints Markdown on stdout.
import { benchRaftCore } from './raft-core.js';
import { benchWalDisk, formatWalDiskTable } from './raft-disk.js';

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

export async function runRaftBench(command: string): Promise<void> {
  const lines = [
    `command: \`${command}\``,
    '',
    '### raft core: 3 members in memory (RawNode + MemoryStorage, in-process messages, 256-byte entries)',
    '',
    '| proposals per pump | proposals | seconds | proposals/s |',
    '| ---: | ---: | ---: | ---: |',
  ];
  for (const batch of [1, 10, 100]) {
    const r = benchRaftCore({ batch, proposals: batch === 1 ? 20_000 : 100_000, maxMs: 5_000 });
    lines.push(`| ${batch} | ${fmt(r.proposals)} | ${r.elapsedSec.toFixed(2)} | ${fmt(r.proposalsPerSec)} |`);
  }
  process.stdout.write(`${lines.join('\n')}\n\n### WAL on this disk\n\n`);
  const disk = await benchWalDisk();
  process.stdout.write(`${formatWalDiskTable(disk, command)}\n`);
}
