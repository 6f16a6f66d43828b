import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemFileSystem } from '../base/mem-fs.js';
import { Snapshotter, decodeSnapshot, snapshotName, type RaftSnapshot } from './snapshotter.js';

const DIR = '/member/snap';

function snap(term: bigint, index: bigint, size = 100): RaftSnapshot {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 13 + Number(index)) & 0xff;
  return {
    metadata: {
      term,
      index,
      confState: {
        voters: [1n, 2n ** 64n - 1n],
        learners: [9n],
        votersOutgoing: [1n, 3n],
        learnersNext: [3n],
        autoLeave: true,
      },
    },
    data,
  };
}

async function setup(): Promise<{ fs: MemFileSystem; s: Snapshotter }> {
  const fs = new MemFileSystem();
  const s = await Snapshotter.open(fs, DIR);
  await fs.syncDir('/');
  await fs.syncDir('/member');
  return { fs, s };
}

void test('snapshot files are named term-index and load back exactly', async () => {
  const { fs, s } = await setup();
  assert.equal(await s.save(snap(2n, 0x1234n)), '0000000000000002-0000000000001234.snap');
  assert.equal(snapshotName(2n, 0x1234n), '0000000000000002-0000000000001234.snap');
  const got = await s.loadNewest();
  assert.deepEqual(got, { snapshot: snap(2n, 0x1234n), skipped: [] });
  assert.deepEqual(await fs.readdir(DIR), ['0000000000000002-0000000000001234.snap']);
});

void test('loadNewest picks the highest term and index; none gives undefined', async () => {
  const { s } = await setup();
  assert.deepEqual(await s.loadNewest(), { snapshot: undefined, skipped: [] });
  await s.save(snap(1n, 100n));
  await s.save(snap(2n, 50n));
  await s.save(snap(1n, 300n));
  assert.deepEqual((await s.loadNewest()).snapshot?.metadata.index, 50n);
  const filtered = await s.loadNewest((m) => m.term === 1n);
  assert.equal(filtered.snapshot?.metadata.index, 300n);
});

void test('a file that fails its CRC is skipped, reported and renamed .broken', async () => {
  const { fs, s } = await setup();
  await s.save(snap(1n, 10n));
  const newest = await s.save(snap(1n, 20n));
  const path = `${DIR}/${newest}`;
  const bytes = await fs.readFile(path);
  bytes[bytes.length - 5]! ^= 1;
  const f = await fs.open(path, 'w');
  await f.write(bytes, 0);
  await f.close();
  const got = await s.loadNewest();
  assert.equal(got.snapshot?.metadata.index, 10n);
  assert.deepEqual(got.skipped, [{ name: newest, reason: 'crc mismatch' }]);
  assert.deepEqual(await fs.readdir(DIR), ['0000000000000001-000000000000000a.snap', `${newest}.broken`]);
});

void test('truncated, foreign and misnamed files are refused', async () => {
  const { fs, s } = await setup();
  const name = await s.save(snap(3n, 7n));
  const good = await fs.readFile(`${DIR}/${name}`);
  assert.equal(
    decodeSnapshot(good.subarray(0, good.length - 1)),
    `file of ${good.length - 1} bytes does not match its header (112 + 100)`,
  );
  assert.equal(decodeSnapshot(good.subarray(0, 10)), 'file of 10 bytes is shorter than the header');
  const foreign = good.slice();
  foreign[0] = 0;
  assert.equal(decodeSnapshot(foreign), 'bad magic');
  const f = await fs.open(`${DIR}/0000000000000003-0000000000000008.snap`, 'w');
  await f.write(good, 0);
  await f.close();
  const got = await s.loadNewest();
  assert.equal(got.snapshot?.metadata.index, 7n);
  assert.deepEqual(got.skipped, [
    {
      name: '0000000000000003-0000000000000008.snap',
      reason: 'holds term 3 index 7, not what its name says',
    },
  ]);
});

void test('purge keeps the newest files', async () => {
  const { fs, s } = await setup();
  for (const i of [1n, 2n, 3n, 4n, 5n]) await s.save(snap(1n, i));
  assert.deepEqual(
    await s.purge(2),
    [1n, 2n, 3n].map((i) => snapshotName(1n, i)),
  );
  assert.deepEqual(
    await fs.readdir(DIR),
    [4n, 5n].map((i) => snapshotName(1n, i)),
  );
  assert.deepEqual(await s.purge(5), []);
});

void test('a crash mid-save leaves the older snapshot, and the half-written file is cleared on open', async () => {
  const { fs, s } = await setup();
  await s.save(snap(1n, 1n));
  const p = s.save(snap(1n, 2n, 5000)).catch(() => undefined);
  await Promise.resolve();
  await Promise.resolve();
  const after = fs.crash(() => 0.99);
  await p;
  assert.deepEqual(await after.readdir(DIR), [snapshotName(1n, 1n), `${snapshotName(1n, 2n)}.tmp`]);
  const reopened = await Snapshotter.open(after, DIR);
  assert.deepEqual(
    (await after.readdir(DIR)).filter((n) => n.endsWith('.tmp')),
    [],
  );
  const got = await reopened.loadNewest();
  assert.equal(got.snapshot?.metadata.index, 1n);
  assert.deepEqual(got.skipped, []);
});

void test('a saved snapshot survives a crash that drops every unsynced change', async () => {
  const { fs, s } = await setup();
  await s.save(snap(4n, 40n));
  const after = fs.crash();
  const got = await (await Snapshotter.open(after, DIR)).loadNewest();
  assert.deepEqual(got.snapshot, snap(4n, 40n));
});
