// Restore markers (a snapshot replaced the whole log), the marker listing used to pick the snapshot
// to open from, and directories that survive a power cut once created.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemFileSystem } from '../base/mem-fs.js';
import { Wal } from './wal.js';
import { Snapshotter } from './snapshotter.js';
import { entries, flat } from './test-helpers.js';

const DIR = '/data/wal';

async function fresh(segmentSizeBytes = 64 * 1024) {
  const fs = new MemFileSystem();
  const wal = await Wal.create(fs, DIR, new Uint8Array([1]), { segmentSizeBytes });
  return { fs, wal };
}

void test('a restore marker voids the entries before it; those after continue from it', async () => {
  const { fs, wal } = await fresh();
  // A follower with a conflicting log 1..20 (term 1) installs the leader's snapshot at 15 (term 2).
  await wal.save({ term: 1n, vote: 0n, commit: 5n }, entries(1n, 20n, 1n));
  await wal.save({ term: 2n, vote: 0n, commit: 15n }, entries(16n, 17n, 2n), { index: 15n, term: 2n });
  await wal.close();
  const r = await Wal.open(fs, DIR, { snapshot: { index: 15n, term: 2n } });
  assert.deepEqual(flat(r.entries), flat(entries(16n, 17n, 2n)));
  assert.deepEqual(r.entriesAfter, { index: 15n, term: 2n });
  assert.deepEqual(r.hardState, { term: 2n, vote: 0n, commit: 15n });
  assert.equal(r.wal.lastIndex, 17n);
  await r.wal.close();
});

void test('a restore marker without entries leaves an empty log, even when the old log was longer', async () => {
  const { fs, wal } = await fresh();
  await wal.save({ term: 1n, vote: 0n, commit: 0n }, entries(1n, 30n, 1n));
  await wal.save({ term: 3n, vote: 0n, commit: 10n }, [], { index: 10n, term: 3n });
  await wal.save(undefined, entries(11n, 12n, 3n));
  await wal.close();
  const r = await Wal.open(fs, DIR, { snapshot: { index: 10n, term: 3n } });
  assert.deepEqual(flat(r.entries), flat(entries(11n, 12n, 3n)));
  await r.wal.close();
});

void test('read from an older snapshot, a later restore marker says where the entries start', async () => {
  const { fs, wal } = await fresh();
  await wal.save({ term: 1n, vote: 0n, commit: 8n }, entries(1n, 10n, 1n));
  await wal.saveSnapshot({ index: 8n, term: 1n });
  await wal.save({ term: 2n, vote: 0n, commit: 40n }, entries(41n, 42n, 2n), { index: 40n, term: 2n });
  await wal.close();
  const r = await Wal.open(fs, DIR, { snapshot: { index: 8n, term: 1n } });
  assert.deepEqual(r.entriesAfter, { index: 40n, term: 2n });
  assert.deepEqual(flat(r.entries), flat(entries(41n, 42n, 2n)));
  assert.deepEqual(r.snapshot, { index: 40n, term: 2n });
  await r.wal.close();
});

void test('a compaction marker keeps the log; entries saved with a restore must follow it', async () => {
  const { fs, wal } = await fresh();
  await wal.save({ term: 1n, vote: 0n, commit: 8n }, entries(1n, 10n, 1n));
  await wal.saveSnapshot({ index: 5n, term: 1n });
  await assert.rejects(wal.save(undefined, entries(7n, 7n, 2n), { index: 5n, term: 1n }), /must follow/);
  const r = await Wal.open(fs, DIR, { snapshot: { index: 5n, term: 1n } });
  assert.deepEqual(flat(r.entries), flat(entries(6n, 10n, 1n)));
  assert.deepEqual(r.entriesAfter, { index: 5n, term: 1n });
});

void test('snapshotMarkers lists every marker in order with the last hard state, across segments', async () => {
  const { fs, wal } = await fresh(1024);
  for (let i = 0n; i < 6n; i++) {
    await wal.save(
      { term: 1n, vote: 1n, commit: i * 10n + 10n },
      entries(i * 10n + 1n, i * 10n + 10n, 1n, 50),
    );
    await wal.saveSnapshot({ index: i * 10n + 5n, term: 1n });
  }
  await wal.save({ term: 2n, vote: 0n, commit: 90n }, [], { index: 90n, term: 2n });
  assert.ok(wal.segmentNames.length > 2);
  await wal.releaseTo(35n);
  const got = await Wal.snapshotMarkers(fs, DIR);
  const first = got.markers[0]!.index;
  assert.ok(first > 0n && first <= 35n, `first marker ${first}`);
  assert.deepEqual(got.markers[got.markers.length - 1], { index: 90n, term: 2n });
  assert.deepEqual(got.hardState, { term: 2n, vote: 0n, commit: 90n });
  for (let i = 1; i < got.markers.length; i++) assert.ok(got.markers[i]!.index > got.markers[i - 1]!.index);
  await wal.close();
});

void test('snapshotMarkers refuses a missing segment and a damaged older segment', async () => {
  const { fs, wal } = await fresh(1024);
  for (let i = 0n; i < 6n; i++) await wal.save(undefined, entries(i * 10n + 1n, i * 10n + 10n, 1n, 50));
  await wal.close();
  const names = await fs.readdir(DIR);
  const bytes = await fs.readFile(`${DIR}/${names[0]}`);
  bytes[40] = bytes[40]! ^ 1;
  const f = await fs.open(`${DIR}/${names[0]}`, 'w');
  await f.write(bytes, 0);
  await f.close();
  await assert.rejects(
    Wal.snapshotMarkers(fs, DIR),
    /wal: corrupt segment 0000000000000000-0000000000000000\.wal at offset/,
  );
  await fs.unlink(`${DIR}/${names[1]}`);
  await assert.rejects(Wal.snapshotMarkers(fs, DIR), /wal: file not found: segment after/);
});

void test('a snapshot directory created by open survives a power cut with its synced files', async () => {
  const fs = new MemFileSystem();
  const s = await Snapshotter.open(fs, '/new/member/snap');
  const data = new Uint8Array([1, 2, 3]);
  const conf = { voters: [1n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
  await s.save({ metadata: { term: 1n, index: 1n, confState: conf }, data });
  const after = fs.crash();
  const again = await Snapshotter.open(after, '/new/member/snap');
  assert.deepEqual((await again.loadNewest()).snapshot?.data, data);
});

void test('a WAL created under missing parents survives a power cut', async () => {
  const fs = new MemFileSystem();
  const wal = await Wal.create(fs, '/a/b/wal', new Uint8Array([9]));
  await wal.save({ term: 1n, vote: 1n, commit: 0n }, entries(1n, 3n, 1n));
  const r = await Wal.open(fs.crash(), '/a/b/wal');
  assert.deepEqual(flat(r.entries), flat(entries(1n, 3n, 1n)));
});
