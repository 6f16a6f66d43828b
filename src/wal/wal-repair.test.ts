// Torn tails are cut off exactly; every other kind of damage makes open fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemFileSystem } from '../base/mem-fs.js';
import { Wal } from './wal.js';
import { WalError } from './errors.js';
import { parseFrame, type Frame } from './record.js';
import { entries, entry, flat } from './test-helpers.js';

const SEG = 16 * 1024;
const DIR = '/wal';

/** A WAL whose last segment ends with three batches: entries 1-3, 4-5, then `last`. */
async function build(last = entries(6n, 6n, 1n, 21), segmentSizeBytes = SEG) {
  const fs = new MemFileSystem();
  const wal = await Wal.create(fs, DIR, new Uint8Array([7]), { segmentSizeBytes });
  await wal.save(undefined, entries(1n, 3n, 1n, 20));
  await wal.save(undefined, entries(4n, 5n, 1n, 20));
  await wal.save(undefined, last);
  await wal.close();
  const names = await fs.readdir(DIR);
  const tail = `${DIR}/${names[names.length - 1]}`;
  return { fs, tail, names, frames: framesOf(await fs.readFile(tail)) };
}

function framesOf(buf: Uint8Array): Frame[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Frame[] = [];
  for (let off = 0; off + 8 <= buf.length && view.getBigUint64(off, true) !== 0n;) {
    const f = parseFrame(buf, view, off);
    if (typeof f === 'string') assert.fail(f);
    out.push(f);
    off = f.end;
  }
  return out;
}

async function rewrite(
  fs: MemFileSystem,
  path: string,
  edit: (b: Uint8Array) => Uint8Array,
): Promise<Uint8Array> {
  const before = await fs.readFile(path);
  const after = edit(before.slice());
  const f = await fs.open(path, 'w');
  await f.write(after, 0);
  await f.close();
  return before;
}

const zeroFrom = (at: number) => (b: Uint8Array) => b.fill(0, at);
const cutAt = (at: number) => (b: Uint8Array) => b.slice(0, at);
const flip = (at: number) => (b: Uint8Array) => ((b[at] = b[at]! ^ 0x10), b);

/** Opens after `edit` of the tail and checks that exactly [offset, end) was cut and zeroed. */
async function expectRepairAt(
  edit: (b: Uint8Array) => Uint8Array,
  at: (frames: Frame[]) => number,
  kept: bigint,
) {
  const { fs, tail, frames } = await build();
  const offset = at(frames);
  const original = await rewrite(fs, tail, edit);
  const r = await Wal.open(fs, DIR, { segmentSizeBytes: SEG });
  assert.equal(r.repaired?.offset, offset);
  assert.equal(r.repaired?.segment, tail.slice(DIR.length + 1));
  assert.deepEqual(flat(r.entries), flat([...entries(1n, 5n, 1n, 20), ...entries(6n, kept, 1n, 21)]));
  await r.wal.close();
  const now = await fs.readFile(tail);
  assert.deepEqual(now.subarray(0, offset), original.subarray(0, offset));
  assert.ok(now.subarray(offset).every((x) => x === 0));
  assert.equal(now.length, SEG);
  // The repaired WAL reopens cleanly and takes new writes where the torn part was.
  const again = await Wal.open(fs, DIR, { segmentSizeBytes: SEG });
  assert.equal(again.repaired, undefined);
  await again.wal.save(undefined, [entry(kept + 1n, 2n)]);
  await again.wal.close();
  const last = await Wal.open(fs, DIR, { segmentSizeBytes: SEG });
  assert.deepEqual(flat(last.entries.slice(-1)), flat([entry(kept + 1n, 2n)]));
  return r.repaired;
}

const lastStart = (f: Frame[]) => f[f.length - 1]!.offset;

void test('torn inside the length word (rest zeroed) is cut at the last record', async () => {
  await expectRepairAt((b) => zeroFrom(lastStartOf(b) + 3)(b), lastStart, 5n);
});

void test('torn inside the length word at the end of the file is cut at the last record', async () => {
  await expectRepairAt((b) => cutAt(lastStartOf(b) + 5)(b), lastStart, 5n);
});

void test('torn inside the record data is cut at the last record', async () => {
  const rep = await expectRepairAt((b) => zeroFrom(lastStartOf(b) + 8 + 13)(b), lastStart, 5n);
  assert.equal(rep.reason, 'wal: crc mismatch');
  await expectRepairAt((b) => cutAt(lastStartOf(b) + 8 + 13)(b), lastStart, 5n);
});

void test('cut inside the padding drops the incomplete record', async () => {
  const rep = await expectRepairAt((b) => cutAt(lastEndOf(b) - 1)(b), lastStart, 5n);
  assert.equal(rep.reason, 'record runs past the end of the file');
});

void test('zeros from inside the padding leave the record whole: nothing to repair', async () => {
  const { fs, tail } = await build();
  await rewrite(fs, tail, (b) => zeroFrom(lastEndOf(b) - 1)(b));
  const r = await Wal.open(fs, DIR, { segmentSizeBytes: SEG });
  assert.equal(r.repaired, undefined);
  assert.equal(r.entries.length, 6);
});

void test('a zeroed last write is the end of the log: nothing to repair, the write is gone', async () => {
  const { fs, tail } = await build();
  await rewrite(fs, tail, (b) => zeroFrom(lastStartOf(b))(b));
  const r = await Wal.open(fs, DIR, { segmentSizeBytes: SEG });
  assert.equal(r.repaired, undefined);
  assert.deepEqual(flat(r.entries), flat(entries(1n, 5n, 1n, 20)));
});

void test('a bad crc in the last record is cut off exactly', async () => {
  const rep = await expectRepairAt((b) => flip(lastStartOf(b) + 8 + 4)(b), lastStart, 5n);
  assert.equal(rep.reason, 'wal: crc mismatch');
  await expectRepairAt((b) => flip(lastStartOf(b) + 8 + 30)(b), lastStart, 5n);
});

void test('damage inside the last write keeps the intact records before it in that write', async () => {
  const { fs, tail, frames } = await build(entries(6n, 8n, 1n, 21));
  await rewrite(fs, tail, flip(frames[frames.length - 2]!.offset + 20));
  const r = await Wal.open(fs, DIR, { segmentSizeBytes: SEG });
  assert.equal(r.repaired?.offset, frames[frames.length - 2]!.offset);
  assert.deepEqual(flat(r.entries), flat([...entries(1n, 5n, 1n, 20), entry(6n, 1n, 21)]));
});

void test('a bad record followed by an intact later write is corruption, not a torn tail', async () => {
  const { fs, tail, frames } = await build();
  // frames: crc, metadata, snapshot, entries 1-3, entries 4-5, entry 6. Damage entry 2.
  await rewrite(fs, tail, flip(frames[4]!.offset + 20));
  await assert.rejects(Wal.open(fs, DIR, { segmentSizeBytes: SEG }), (e) => {
    assert.ok(e instanceof WalError && e.corrupt);
    assert.match(
      e.message,
      /^wal: corrupt segment 0000000000000000-0000000000000000\.wal at offset \d+: wal: crc mismatch; an intact later write follows at offset \d+$/,
    );
    return true;
  });
});

void test('a zeroed length word with a later write after it is corruption', async () => {
  const { fs, tail, frames } = await build();
  await rewrite(fs, tail, (b) => b.fill(0, frames[6]!.offset, frames[6]!.offset + 8));
  await assert.rejects(
    Wal.open(fs, DIR, { segmentSizeBytes: SEG }),
    /zero length word followed by non-zero bytes; an intact later write follows/,
  );
});

async function multiSegment() {
  const fs = new MemFileSystem();
  const wal = await Wal.create(fs, DIR, new Uint8Array([7]), { segmentSizeBytes: 1024 });
  for (let i = 0n; i < 8n; i++)
    await wal.save({ term: 1n, vote: 1n, commit: 0n }, entries(i * 5n + 1n, i * 5n + 5n, 1n, 40));
  await wal.close();
  const names = await fs.readdir(DIR);
  assert.ok(names.length >= 3);
  return { fs, names };
}

void test('damage at the end of a segment that is not the last fails open', async () => {
  const { fs, names } = await multiSegment();
  const path = `${DIR}/${names[1]}`;
  await rewrite(fs, path, (b) => flip(b.length - 12)(b));
  await assert.rejects(Wal.open(fs, DIR), (e) => {
    assert.ok(e instanceof WalError && e.corrupt);
    assert.ok(e.message.startsWith(`wal: corrupt segment ${names[1]} at offset `), e.message);
    assert.ok(e.message.endsWith('(only the last segment may have a torn tail)'), e.message);
    return true;
  });
});

void test('a truncated segment that is not the last fails open', async () => {
  const { fs, names } = await multiSegment();
  await rewrite(fs, `${DIR}/${names[0]}`, (b) => cutAt(b.length - 3)(b));
  await assert.rejects(Wal.open(fs, DIR), /record runs past the end of the file \(only the last segment/);
});

void test('a broken crc chain between segments fails open', async () => {
  const { fs, names } = await multiSegment();
  // Byte 12 is inside the crc field of the crc record that opens the segment.
  await rewrite(fs, `${DIR}/${names[1]}`, flip(12));
  await assert.rejects(Wal.open(fs, DIR), /at offset 0: wal: crc mismatch between segments/);
});

void test('a last segment with no valid record fails open', async () => {
  const fs = new MemFileSystem();
  const wal = await Wal.create(fs, DIR, new Uint8Array([7]), { segmentSizeBytes: 1024 });
  for (let i = 1n; wal.segmentNames.length === 1; i++) await wal.save(undefined, [entry(i, 1n, 100)]);
  await wal.close();
  const names = await fs.readdir(DIR);
  // The new last segment holds only its header write; break its crc record.
  await rewrite(fs, `${DIR}/${names[names.length - 1]}`, flip(12));
  await assert.rejects(
    Wal.open(fs, DIR),
    /at offset 0: wal: crc mismatch between segments: the last segment holds no valid record/,
  );
});

void test('a missing segment in the sequence fails open', async () => {
  const { fs, names } = await multiSegment();
  await fs.unlink(`${DIR}/${names[1]}`);
  await assert.rejects(Wal.open(fs, DIR), /wal: file not found: segment after/);
});

function lastStartOf(b: Uint8Array): number {
  const f = framesOf(b);
  return f[f.length - 1]!.offset;
}

function lastEndOf(b: Uint8Array): number {
  const f = framesOf(b);
  return f[f.length - 1]!.end;
}
