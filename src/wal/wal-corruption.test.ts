// Disk damage the WAL must refuse or repair exactly as designed (see reader.ts): a flipped bit or
// a zero-filled 512-byte sector in the middle of the last segment or of an older one, and damage
// confined to the last write of the last segment (indistinguishable from a torn write: repaired).
// Refusals name the segment and the offset; a refused WAL is left untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemFileSystem } from '../base/mem-fs.js';
import { Wal } from './wal.js';
import { WalError } from './errors.js';
import { applySaves, entries, flat } from './test-helpers.js';
import type { Entry } from '../raft/types.js';

const DIR = '/wal';
const SECTOR = 512;

/** 40 saves of 5 entries across segments of 4 KiB; returns the log and the segment names. */
async function build(): Promise<{ fs: MemFileSystem; names: string[]; log: Entry[] }> {
  const fs = new MemFileSystem();
  const wal = await Wal.create(fs, DIR, new Uint8Array([1]), { segmentSizeBytes: 4096 });
  let log: Entry[] = [];
  for (let i = 0n; i < 40n; i++) {
    const batch = entries(i * 5n + 1n, i * 5n + 5n, 1n, 30);
    await wal.save({ term: 1n, vote: 1n, commit: i * 5n }, batch);
    log = applySaves(log, batch);
  }
  await wal.close();
  const names = await fs.readdir(DIR);
  assert.ok(names.length >= 4, `${names.length} segments`);
  return { fs, names, log };
}

function flipMiddle(b: Uint8Array): void {
  const at = Math.floor(usedBytes(b) / 2);
  b[at] = b[at]! ^ 0x04;
}

/** Length of the used part of a segment: up to its last non-zero byte. */
function usedBytes(b: Uint8Array): number {
  let i = b.length;
  while (i > 0 && b[i - 1] === 0) i--;
  return i;
}

async function damage(fs: MemFileSystem, path: string, edit: (b: Uint8Array) => void): Promise<Uint8Array> {
  const bytes = await fs.readFile(path);
  edit(bytes);
  const f = await fs.open(path, 'r+');
  await f.write(bytes, 0);
  await f.close();
  return bytes;
}

async function expectRefused(fs: MemFileSystem, name: string, extra: RegExp): Promise<void> {
  const before = await fs.readFile(`${DIR}/${name}`);
  await assert.rejects(Wal.open(fs, DIR, { segmentSizeBytes: 4096 }), (e) => {
    assert.ok(e instanceof WalError && e.corrupt, String(e));
    const esc = name.replace(/\./g, '\\.');
    assert.match(e.message, new RegExp(`^wal: corrupt segment ${esc} at offset \\d+: `));
    assert.match(e.message, extra);
    return true;
  });
  assert.deepEqual(await fs.readFile(`${DIR}/${name}`), before, 'a refused open changes nothing');
}

void test('a flipped bit in the middle of the last segment is refused (a later write is intact)', async () => {
  const { fs, names } = await build();
  const last = names[names.length - 1]!;
  await damage(fs, `${DIR}/${last}`, flipMiddle);
  await expectRefused(fs, last, /; an intact later write follows at offset \d+$/);
});

void test('a flipped bit in the middle of an older segment is refused', async () => {
  const { fs, names } = await build();
  await damage(fs, `${DIR}/${names[1]}`, flipMiddle);
  await expectRefused(fs, names[1]!, /\(only the last segment may have a torn tail\)$/);
});

void test('a zero-filled sector in the middle of the last segment is refused', async () => {
  const { fs, names } = await build();
  const last = names[names.length - 1]!;
  const bytes = await fs.readFile(`${DIR}/${last}`);
  assert.ok(usedBytes(bytes) > 2 * SECTOR + 200, `last segment uses ${usedBytes(bytes)} bytes`);
  await damage(fs, `${DIR}/${last}`, (b) => b.fill(0, SECTOR, 2 * SECTOR));
  await expectRefused(fs, last, /; an intact later write follows at offset \d+$/);
});

void test('a zero-filled sector in an older segment is refused', async () => {
  const { fs, names } = await build();
  await damage(fs, `${DIR}/${names[0]}`, (b) => b.fill(0, SECTOR, 2 * SECTOR));
  await expectRefused(fs, names[0]!, /\(only the last segment may have a torn tail\)$/);
});

void test('a zero-filled sector over the last write of the last segment is cut off like a torn write', async () => {
  const { fs, names, log } = await build();
  const last = names[names.length - 1]!;
  const bytes = await fs.readFile(`${DIR}/${last}`);
  const end = usedBytes(bytes);
  // The sector holding the end of the last write, zeroed from the start of that write on.
  const sectorStart = Math.floor((end - 1) / SECTOR) * SECTOR;
  const r0 = await Wal.open(fs, DIR, { segmentSizeBytes: 4096 });
  await r0.wal.close();
  await damage(fs, `${DIR}/${last}`, (b) => b.fill(0, sectorStart, sectorStart + SECTOR));
  const r = await Wal.open(fs, DIR, { segmentSizeBytes: 4096 });
  // Every record that started before the sector and ends before it is kept, in order.
  const kept = r.entries.length;
  assert.ok(kept < log.length && kept >= log.length - 10, `${kept} of ${log.length}`);
  assert.deepEqual(flat(r.entries), flat(log.slice(0, kept)));
  await r.wal.close();
});

void test('a truncated older segment is refused, naming the file and the offset', async () => {
  const { fs, names } = await build();
  const path = `${DIR}/${names[1]}`;
  const bytes = await fs.readFile(path);
  const f = await fs.open(path, 'r+');
  await f.truncate(usedBytes(bytes) - 20);
  await f.close();
  await assert.rejects(
    Wal.open(fs, DIR, { segmentSizeBytes: 4096 }),
    new RegExp(
      `^WalError: wal: corrupt segment ${names[1]!.replace(/\./g, '\\.')} at offset \\d+: record runs past the end of the file \\(only the last segment may have a torn tail\\)$`,
    ),
  );
});

void test('the last segment truncated inside its last write is repaired; every earlier save is kept', async () => {
  const { fs, names, log } = await build();
  const path = `${DIR}/${names[names.length - 1]}`;
  const bytes = await fs.readFile(path);
  const f = await fs.open(path, 'r+');
  await f.truncate(usedBytes(bytes) - 20);
  await f.close();
  const r = await Wal.open(fs, DIR, { segmentSizeBytes: 4096 });
  assert.ok(r.repaired !== undefined);
  assert.equal(r.repaired.segment, names[names.length - 1]);
  assert.deepEqual(flat(r.entries), flat(log.slice(0, r.entries.length)));
  assert.ok(r.entries.length >= log.length - 5);
});
