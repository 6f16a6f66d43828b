import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemFileSystem } from '../base/mem-fs.js';
import { Wal } from './wal.js';
import { WalError } from './errors.js';
import { entries, entry, flat } from './test-helpers.js';

const meta = new TextEncoder().encode('cluster-meta');
const SMALL = 4096;

async function fresh(segmentSizeBytes = SMALL): Promise<{ fs: MemFileSystem; wal: Wal }> {
  const fs = new MemFileSystem();
  await fs.mkdirp('/data');
  await fs.syncDir('/');
  const wal = await Wal.create(fs, '/data/wal', meta, { segmentSizeBytes });
  return { fs, wal };
}

void test('round trip: metadata, hard state and entries come back as saved', async () => {
  const { fs, wal } = await fresh();
  await wal.save({ term: 1n, vote: 3n, commit: 0n }, entries(1n, 3n, 1n));
  await wal.save({ term: 1n, vote: 3n, commit: 3n }, entries(4n, 5n, 1n, 100));
  await wal.close();
  const r = await Wal.open(fs, '/data/wal', { segmentSizeBytes: SMALL });
  assert.deepEqual(r.metadata, meta);
  assert.deepEqual(r.hardState, { term: 1n, vote: 3n, commit: 3n });
  assert.deepEqual(flat(r.entries), flat([...entries(1n, 3n, 1n), ...entries(4n, 5n, 1n, 100)]));
  assert.deepEqual(r.snapshot, { index: 0n, term: 0n });
  assert.equal(r.repaired, undefined);
  assert.equal(r.wal.lastIndex, 5n);
  await r.wal.close();
});

void test('a fresh WAL opens with no entries and an empty hard state', async () => {
  const { fs, wal } = await fresh();
  await wal.close();
  const r = await Wal.open(fs, '/data/wal');
  assert.deepEqual(r.entries, []);
  assert.deepEqual(r.hardState, { term: 0n, vote: 0n, commit: 0n });
  assert.deepEqual(await fs.readdir('/data'), ['wal']);
  assert.deepEqual(await fs.readdir('/data/wal'), ['0000000000000000-0000000000000000.wal']);
});

void test('create refuses a directory that already holds a WAL; exists() tells', async () => {
  const { fs, wal } = await fresh();
  await wal.close();
  assert.equal(await Wal.exists(fs, '/data/wal'), true);
  assert.equal(await Wal.exists(fs, '/data/none'), false);
  await assert.rejects(Wal.create(fs, '/data/wal', meta), /wal: directory already holds a WAL/);
});

void test('create survives a crash: afterwards there is a whole WAL', async () => {
  const fs = new MemFileSystem();
  await fs.mkdirp('/d');
  await fs.syncDir('/');
  const wal = await Wal.create(fs, '/d/wal', meta);
  await wal.save({ term: 1n, vote: 1n, commit: 0n }, [entry(1n, 1n)]);
  const r = await Wal.open(fs.crash(), '/d/wal');
  assert.deepEqual(flat(r.entries), flat([entry(1n, 1n)]));
});

void test('one save of 1000 entries is one write and one fdatasync', async () => {
  const { fs, wal } = await fresh(64 * 1024 * 1024);
  const before = { ...fs.stats };
  await wal.save({ term: 2n, vote: 1n, commit: 5n }, entries(1n, 1000n, 2n, 300));
  assert.equal(fs.stats.writes - before.writes, 1);
  assert.equal(fs.stats.datasyncs - before.datasyncs, 1);
  assert.equal(fs.stats.syncs - before.syncs, 0);
});

void test('many segments: cuts are named (sequence, next index) and read back in order', async () => {
  const { fs, wal } = await fresh(2048);
  let last = 0n;
  for (let i = 0; i < 60; i++) {
    await wal.save({ term: 1n, vote: 1n, commit: last }, entries(last + 1n, last + 3n, 1n, 50));
    last += 3n;
  }
  const names = wal.segmentNames;
  assert.ok(names.length > 5, `${names.length} segments`);
  names.forEach((n, i) => assert.ok(n.startsWith(i.toString(16).padStart(16, '0') + '-'), n));
  assert.deepEqual(await fs.readdir('/data/wal'), names);
  await wal.close();
  const r = await Wal.open(fs, '/data/wal', { segmentSizeBytes: 2048 });
  assert.deepEqual(flat(r.entries), flat(entries(1n, last, 1n, 50)));
  assert.deepEqual(r.hardState, { term: 1n, vote: 1n, commit: last - 3n });
  // Each segment's name carries the index of its first entry.
  for (const n of names.slice(1)) {
    const first = BigInt('0x' + n.slice(17, 33));
    assert.equal((first - 1n) % 3n, 0n, n);
  }
  await r.wal.close();
});

void test('a later entry with a lower index replaces that index and everything after it', async () => {
  const { fs, wal } = await fresh(1024);
  await wal.save({ term: 1n, vote: 1n, commit: 0n }, entries(1n, 10n, 1n, 40));
  await wal.save({ term: 2n, vote: 2n, commit: 0n }, entries(6n, 8n, 2n, 40));
  await wal.save(undefined, entries(9n, 9n, 2n, 40));
  await wal.save({ term: 3n, vote: 0n, commit: 0n }, entries(3n, 4n, 3n, 40));
  await wal.close();
  const r = await Wal.open(fs, '/data/wal', { segmentSizeBytes: 1024 });
  assert.deepEqual(flat(r.entries), flat([...entries(1n, 2n, 1n, 40), ...entries(3n, 4n, 3n, 40)]));
  assert.equal(r.wal.lastIndex, 4n);
  await r.wal.close();
});

void test('a commit-only hard state is not synced on its own but written with the next batch', async () => {
  const made = await fresh();
  let fs = made.fs;
  await made.wal.save({ term: 1n, vote: 1n, commit: 0n }, [entry(1n, 1n)]);
  const before = { ...fs.stats };
  await made.wal.save({ term: 1n, vote: 1n, commit: 1n }, []);
  assert.deepEqual(fs.stats, before);
  fs = fs.crash();
  let r = await Wal.open(fs, '/data/wal');
  assert.deepEqual(r.hardState, { term: 1n, vote: 1n, commit: 0n });
  await r.wal.save({ term: 1n, vote: 1n, commit: 1n }, []);
  await r.wal.save(undefined, [entry(2n, 1n)]);
  fs = fs.crash();
  r = await Wal.open(fs, '/data/wal');
  assert.deepEqual(r.hardState, { term: 1n, vote: 1n, commit: 1n });
  await r.wal.save({ term: 1n, vote: 1n, commit: 2n }, []);
  await r.wal.close();
  r = await Wal.open(fs, '/data/wal');
  assert.deepEqual(r.hardState, { term: 1n, vote: 1n, commit: 2n });
});

void test('a vote or term change is synced even without entries', async () => {
  const { fs, wal } = await fresh();
  await wal.save({ term: 5n, vote: 2n, commit: 0n }, []);
  const r = await Wal.open(fs.crash(), '/data/wal');
  assert.deepEqual(r.hardState, { term: 5n, vote: 2n, commit: 0n });
});

void test('open from a snapshot skips older segments and returns only entries after it', async () => {
  const { fs, wal } = await fresh(1024);
  await wal.save({ term: 1n, vote: 1n, commit: 40n }, entries(1n, 40n, 1n, 60));
  await wal.saveSnapshot({ index: 30n, term: 1n });
  await wal.save(undefined, entries(41n, 50n, 1n, 60));
  await wal.close();
  const r = await Wal.open(fs, '/data/wal', { snapshot: { index: 30n, term: 1n } });
  assert.deepEqual(flat(r.entries), flat(entries(31n, 50n, 1n, 60)));
  assert.deepEqual(r.snapshot, { index: 30n, term: 1n });
  await r.wal.close();
  await assert.rejects(
    Wal.open(fs, '/data/wal', { snapshot: { index: 30n, term: 2n } }),
    /wal: snapshot mismatch/,
  );
  await assert.rejects(
    Wal.open(fs, '/data/wal', { snapshot: { index: 31n, term: 1n } }),
    /wal: snapshot not found/,
  );
});

void test('releaseTo deletes whole segments below the snapshot, never the last, and open still works', async () => {
  const { fs, wal } = await fresh(1024);
  for (let i = 0n; i < 10n; i++)
    await wal.save({ term: 1n, vote: 1n, commit: i * 10n }, entries(i * 10n + 1n, i * 10n + 10n, 1n, 60));
  const before = wal.segmentNames;
  await wal.saveSnapshot({ index: 55n, term: 1n });
  const removed = await wal.releaseTo(55n);
  assert.ok(removed.length > 0);
  assert.deepEqual(removed, before.slice(0, removed.length));
  const kept = wal.segmentNames;
  assert.deepEqual(await fs.readdir('/data/wal'), kept);
  assert.ok(BigInt('0x' + kept[0]!.slice(17, 33)) <= 55n);
  if (kept.length > 1) assert.ok(BigInt('0x' + kept[1]!.slice(17, 33)) > 55n);
  assert.deepEqual(await wal.releaseTo(10n ** 6n), kept.slice(0, -1));
  assert.equal(wal.segmentNames.length, 1);
  await wal.close();
  await assert.rejects(Wal.open(fs, '/data/wal'), /wal: file not found/);
  const r = await Wal.open(fs, '/data/wal', { snapshot: { index: 55n, term: 1n } }).catch((e: unknown) => e);
  assert.ok(r instanceof WalError);
});

void test('entries above the kept log are refused on open: slice bounds out of range', async () => {
  const { fs, wal } = await fresh();
  await wal.save(undefined, entries(1n, 2n, 1n));
  await wal.save(undefined, entries(5n, 5n, 1n));
  await wal.close();
  await assert.rejects(Wal.open(fs, '/data/wal'), /wal: slice bounds out of range/);
});

void test('calls after close fail; saves are serialised in call order', async () => {
  const { fs, wal } = await fresh();
  const a = wal.save(undefined, entries(1n, 2n, 1n));
  const b = wal.save(undefined, entries(3n, 4n, 1n));
  await Promise.all([a, b]);
  await wal.close();
  await assert.rejects(wal.save(undefined, [entry(5n, 1n)]), /wal: closed/);
  const r = await Wal.open(fs, '/data/wal');
  assert.deepEqual(flat(r.entries), flat(entries(1n, 4n, 1n)));
});

void test('entries of one save must be consecutive', async () => {
  const { wal } = await fresh();
  await assert.rejects(wal.save(undefined, [entry(1n, 1n), entry(3n, 1n)]), /consecutive/);
});
