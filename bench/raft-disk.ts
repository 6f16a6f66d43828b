// `npm run bench -- raft`, the disk part: what the WAL gets out of this disk. In one run, in a temp
// dir on the real disk (src/platform/node-fs.ts, the FileSystem the server uses):
//  1. the raw fdatasync rate: overwrite the next 4 KiB of an allocated file, fdatasync, repeat —
//     the ceiling on synced writes per second that any WAL on this disk has;
//  2. WAL append + fdatasync throughput with group commit: Wal.save of N entries of ~256 bytes
//     (one write + one fdatasync per save) for several N. Records/s grows with N while saves/s
//     stays near the raw rate: that is what group commit buys.
// Each loop is bounded by a count and a time limit. Not a test: figures depend on the machine.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeFileSystem } from '../src/platform/node-fs.js';
import type { Entry } from '../src/raft/types.js';
import { Wal } from '../src/wal/wal.js';
import { RecordType, encodeBatch } from '../src/wal/record.js';

export interface WalDiskOptions {
  /** Where the temp dir is made (default os.tmpdir()); it must be on the disk to measure. */
  parentDir?: string;
  /** Bounds of the raw loop. */
  rawCount?: number;
  rawMaxSec?: number;
  /** Entries per save (records per fdatasync), one row each. */
  batchSizes?: number[];
  /** Entry payload bytes. */
  recordBytes?: number;
  /** Bounds of each WAL row. */
  savesPerRow?: number;
  rowMaxSec?: number;
}

export interface WalDiskRow {
  recordsPerSync: number;
  saves: number;
  elapsedSec: number;
  savesPerSec: number;
  walRecordsPerSec: number;
  /** WAL bytes written (frames, headers, padding included) per second, in MB (10^6 bytes). */
  walMBPerSec: number;
}

export interface WalDiskResult {
  rawFsyncPerSec: number;
  rawFsyncs: number;
  /** The row with the largest batch. */
  walRecordsPerSec: number;
  walMBPerSec: number;
  recordsPerSync: number;
  rows: WalDiskRow[];
  dir: string;
}

const RAW_BLOCK = 4096;

async function rawFsyncRate(
  dir: string,
  count: number,
  maxSec: number,
): Promise<{ perSec: number; n: number }> {
  const f = await nodeFileSystem.open(path.join(dir, 'raw'), 'wx');
  try {
    // Really allocated (zeros written and synced), so the loop measures the device's flush and
    // not the file system allocating a block on each write.
    const zeros = new Uint8Array(1024 * RAW_BLOCK);
    for (let at = 0; at < count * RAW_BLOCK; at += zeros.length) await f.write(zeros, at);
    await f.sync();
    const block = new Uint8Array(RAW_BLOCK).fill(0xa5);
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(Math.round(maxSec * 1e9));
    let n = 0;
    while (n < count && process.hrtime.bigint() < deadline) {
      await f.write(block, n * RAW_BLOCK);
      await f.datasync();
      n++;
    }
    const sec = Number(process.hrtime.bigint() - start) / 1e9;
    return { perSec: n / sec, n };
  } finally {
    await f.close();
  }
}

function batchOf(first: bigint, n: number, bytes: number): Entry[] {
  const data = new Uint8Array(bytes).fill(0x5a);
  return Array.from({ length: n }, (_, i) => ({ term: 1n, index: first + BigInt(i), type: 0, data }));
}

async function walRow(dir: string, n: number, o: Required<WalDiskOptions>): Promise<WalDiskRow> {
  const wal = await Wal.create(nodeFileSystem, path.join(dir, `wal-${n}`), new Uint8Array(16));
  try {
    const batchBytes = encodeBatch(
      batchOf(1n, n, o.recordBytes).map((entry) => ({ type: RecordType.Entry, entry })),
      0,
    ).bytes.length;
    let next = 1n;
    let saves = 0;
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(Math.round(o.rowMaxSec * 1e9));
    while (saves < o.savesPerRow && process.hrtime.bigint() < deadline) {
      const batch = batchOf(next, n, o.recordBytes);
      await wal.save({ term: 1n, vote: 1n, commit: next - 1n }, batch);
      next += BigInt(n);
      saves++;
    }
    const elapsedSec = Number(process.hrtime.bigint() - start) / 1e9;
    return {
      recordsPerSync: n,
      saves,
      elapsedSec,
      savesPerSec: saves / elapsedSec,
      walRecordsPerSec: (saves * n) / elapsedSec,
      walMBPerSec: (saves * batchBytes) / elapsedSec / 1e6,
    };
  } finally {
    await wal.close();
  }
}

/** Measures the raw fdatasync rate and WAL group-commit throughput in one temp dir, then removes it. */
export async function benchWalDisk(opts: WalDiskOptions = {}): Promise<WalDiskResult> {
  const o: Required<WalDiskOptions> = {
    parentDir: opts.parentDir ?? os.tmpdir(),
    rawCount: opts.rawCount ?? 5000,
    rawMaxSec: opts.rawMaxSec ?? 3,
    batchSizes: opts.batchSizes ?? [1, 16, 128, 1024],
    recordBytes: opts.recordBytes ?? 256,
    savesPerRow: opts.savesPerRow ?? 2000,
    rowMaxSec: opts.rowMaxSec ?? 3,
  };
  const dir = await mkdtemp(path.join(o.parentDir, 'ketch-bench-wal-'));
  try {
    const raw = await rawFsyncRate(dir, o.rawCount, o.rawMaxSec);
    const rows: WalDiskRow[] = [];
    for (const n of o.batchSizes) rows.push(await walRow(dir, n, o));
    const top = rows[rows.length - 1]!;
    return {
      rawFsyncPerSec: raw.perSec,
      rawFsyncs: raw.n,
      walRecordsPerSec: top.walRecordsPerSec,
      walMBPerSec: top.walMBPerSec,
      recordsPerSync: top.recordsPerSync,
      rows,
      dir,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const fmt = (x: number, digits = 0): string =>
  x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** A Markdown table of the result, headed by the command that produced it. */
export function formatWalDiskTable(r: WalDiskResult, command: string): string {
  const lines = [
    `${command}`,
    `disk: temp dir under ${path.dirname(r.dir)}; raw 4 KiB write + fdatasync: ${fmt(r.rawFsyncPerSec)}/s (${r.rawFsyncs} syncs)`,
    '',
    '| records per fdatasync | saves/s | WAL records/s | WAL MB/s | saves/s vs raw |',
    '| ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of r.rows) {
    lines.push(
      `| ${row.recordsPerSync} | ${fmt(row.savesPerSec)} | ${fmt(row.walRecordsPerSec)} | ${fmt(row.walMBPerSec, 2)} | ${fmt(row.savesPerSec / r.rawFsyncPerSec, 2)} |`,
    );
  }
  return lines.join('\n');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const r = await benchWalDisk();
  process.stdout.write(`${formatWalDiskTable(r, 'node dist/bench/raft-disk.js')}\n`);
}
