// WalStorage beyond the shared contract: which snapshot open picks, what a torn snapshot install
// leaves, segment release, and a property test: random Ready-shaped saves, snapshots and
// compactions, a power cut at a random point inside a random operation, reopen — every
// acknowledged write is read back and nothing that was never written appears.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemFileSystem } from '../base/mem-fs.js';
import { MemoryStorage } from '../raft/memory-storage.js';
import type { Storage } from '../raft/storage.js';
import type { ConfState, Entry, HardState, Snapshot } from '../raft/types.js';
import { Snapshotter } from './snapshotter.js';
import { Wal } from './wal.js';
import { WalStorage } from './wal-storage.js';
import { entries, prng } from './test-helpers.js';

const DIR = '/n1';
const conf: ConfState = {
  voters: [1n, 2n, 3n],
  learners: [],
  votersOutgoing: [],
  learnersNext: [],
  autoLeave: false,
};
const snap = (index: bigint, term: bigint, byte = 1): Snapshot => ({
  data: new Uint8Array([byte, Number(index & 0xffn)]),
  metadata: { index, term, confState: conf },
});

async function withLog(fs: MemFileSystem, segmentSizeBytes = 64 * 1024): Promise<WalStorage> {
  const s = await WalStorage.open(fs, DIR, { segmentSizeBytes, metadata: new Uint8Array([4, 2]) });
  await s.applySnapshot(snap(1n, 1n));
  await s.save({ term: 2n, vote: 1n, commit: 20n }, entries(2n, 30n, 2n, 40), undefined, true);
  await s.createSnapshot(10n, undefined, new Uint8Array([10]));
  return s;
}

void test('a new storage is empty and keeps its metadata across reopen', async () => {
  const fs = new MemFileSystem();
  const s = await withLog(fs);
  await s.close();
  const r = await WalStorage.open(fs, DIR);
  assert.deepEqual([...r.metadata], [4, 2]);
  assert.equal(r.firstIndex(), 11n);
  assert.equal(r.lastIndex(), 30n);
  assert.deepEqual(r.initialState(), { hardState: { term: 2n, vote: 1n, commit: 20n }, confState: conf });
});

void test('a snapshot file without a WAL marker (crash between the two) is not used', async () => {
  const fs = new MemFileSystem();
  const s = await withLog(fs);
  await s.close();
  const snapshotter = await Snapshotter.open(fs, `${DIR}/snap`);
  await snapshotter.save(snap(25n, 2n, 9));
  const r = await WalStorage.open(fs, DIR);
  assert.equal(r.snapshot().metadata.index, 10n);
  assert.equal(r.firstIndex(), 11n);
});

void test('a damaged newest snapshot file falls back to the previous one the WAL knows', async () => {
  const fs = new MemFileSystem();
  const s = await withLog(fs);
  await s.createSnapshot(20n, undefined, new Uint8Array([20]));
  await s.close();
  const path = `${DIR}/snap/0000000000000002-0000000000000014.snap`;
  const bytes = await fs.readFile(path);
  bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
  const f = await fs.open(path, 'w');
  await f.write(bytes, 0);
  await f.close();
  const r = await WalStorage.open(fs, DIR);
  assert.equal(r.snapshot().metadata.index, 10n);
  assert.deepEqual(r.skippedSnapshots, [
    { name: '0000000000000002-0000000000000014.snap', reason: 'crc mismatch' },
  ]);
  assert.equal(r.term(30n), 2n);
});

void test('a snapshot install torn after its restore marker: the log is the snapshot, commit reaches it', async () => {
  const fs = new MemFileSystem();
  const s = await withLog(fs);
  await s.close();
  // What a torn [restore marker, entries, hard state] batch leaves: the file and the marker only.
  await (await Snapshotter.open(fs, `${DIR}/snap`)).save(snap(50n, 3n));
  const { wal } = await Wal.open(fs, `${DIR}/wal`, { snapshot: { index: 10n, term: 2n } });
  await wal.save(undefined, [], { index: 50n, term: 3n });
  await wal.close();
  const r = await WalStorage.open(fs, DIR);
  assert.equal(r.firstIndex(), 51n);
  assert.equal(r.lastIndex(), 50n);
  assert.deepEqual(r.initialState().hardState, { term: 2n, vote: 1n, commit: 50n });
});

void test('a restore whose snapshot file is gone is refused with a clear error', async () => {
  const fs = new MemFileSystem();
  const s = await withLog(fs);
  await s.save({ term: 3n, vote: 0n, commit: 50n }, [], snap(50n, 3n), true);
  await s.close();
  await fs.unlink(`${DIR}/snap/0000000000000003-0000000000000032.snap`);
  await assert.rejects(
    WalStorage.open(fs, DIR),
    /^WalError: wal: the log was replaced by the snapshot at term 3 index 50, whose file is missing or damaged \(newest usable snapshot: index 10\)$/,
  );
});

void test('compact releases old WAL segments and keeps the newest snapshot files', async () => {
  const fs = new MemFileSystem();
  const s = await WalStorage.open(fs, DIR, { segmentSizeBytes: 2048, keepSnapshots: 2 });
  await s.applySnapshot(snap(1n, 1n));
  for (let i = 0n; i < 20n; i++) {
    await s.save({ term: 1n, vote: 1n, commit: i * 10n + 1n }, entries(i * 10n + 2n, i * 10n + 11n, 1n, 60));
  }
  const before = s.segmentNames.length;
  for (const at of [50n, 100n, 150n]) await s.createSnapshot(at, undefined, new Uint8Array([1]));
  await s.compact(150n);
  assert.ok(s.segmentNames.length < before, `${s.segmentNames.length} of ${before}`);
  assert.deepEqual(await fs.readdir(`${DIR}/snap`), [
    '0000000000000001-0000000000000064.snap',
    '0000000000000001-0000000000000096.snap',
  ]);
  await s.close();
  const r = await WalStorage.open(fs, DIR, { segmentSizeBytes: 2048 });
  assert.equal(r.firstIndex(), 151n);
  assert.equal(r.lastIndex(), 201n);
});

// ---- property test -------------------------------------------------------------------------

type Op =
  | { kind: 'save'; hs: HardState | undefined; ents: Entry[]; snap?: Snapshot }
  | { kind: 'snapshot'; index: bigint }
  | { kind: 'compact'; index: bigint };

function nextOp(m: MemoryStorage, term: { t: bigint }, rand: () => number): Op {
  const x = rand();
  const first = m.firstIndex();
  const last = m.lastIndex();
  const hs = m.initialState().hardState;
  const snapIndex = m.snapshot().metadata.index;
  if (x < 0.1 && hs.commit > snapIndex) {
    return {
      kind: 'snapshot',
      index: snapIndex + 1n + BigInt(Math.floor(rand() * Number(hs.commit - snapIndex))),
    };
  }
  if (x < 0.16) return { kind: 'compact', index: snapIndex };
  if (x < 0.24)
    return { kind: 'save', hs: { ...hs, commit: hs.commit < last ? hs.commit + 1n : hs.commit }, ents: [] };
  if (x < 0.3) {
    term.t++;
    const at = last + BigInt(Math.floor(rand() * 8)) - 3n;
    const index = at > snapIndex ? at : snapIndex + 1n;
    const ents = rand() < 0.5 ? entries(index + 1n, index + 2n, term.t, 30) : [];
    return {
      kind: 'save',
      hs: { term: term.t, vote: 0n, commit: index },
      ents,
      snap: snap(index, term.t, 7),
    };
  }
  let from = last + 1n;
  const low = hs.commit + 1n > first ? hs.commit + 1n : first;
  if (x < 0.4 && last >= low) {
    // A new leader overwrites an uncommitted tail.
    from = low + BigInt(Math.floor(rand() * Number(last - low + 1n)));
    term.t++;
  }
  const n = 1n + BigInt(Math.floor(rand() * 10));
  const vote = rand() < 0.5 ? 1n : 2n;
  const state = rand() < 0.7 ? { term: term.t, vote, commit: hs.commit } : undefined;
  return {
    kind: 'save',
    hs: state,
    ents: entries(from, from + n - 1n, term.t, 1 + Math.floor(rand() * 120)),
  };
}

async function runOp(s: WalStorage | MemoryStorage, op: Op): Promise<void> {
  if (s instanceof MemoryStorage) {
    if (op.kind === 'save') {
      if (op.snap !== undefined) s.applySnapshot(op.snap);
      s.append(op.ents);
      if (op.hs !== undefined) s.setHardState(op.hs);
    } else if (op.kind === 'snapshot')
      s.createSnapshot(op.index, undefined, new Uint8Array([Number(op.index & 0xffn)]));
    else if (op.index > s.firstIndex() - 1n) s.compact(op.index);
    return;
  }
  if (op.kind === 'save') await s.save(op.hs, op.ents, op.snap, true);
  else if (op.kind === 'snapshot')
    await s.createSnapshot(op.index, undefined, new Uint8Array([Number(op.index & 0xffn)]));
  else await s.compact(op.index).catch(() => undefined);
}

/** What must match after a reopen: the snapshot, the entries after it, the term and vote. */
function view(s: Storage): string {
  const m = s.snapshot().metadata;
  const es =
    s.lastIndex() > m.index ? s.entries(m.index + 1n, s.lastIndex() + 1n, Number.MAX_SAFE_INTEGER) : [];
  const hs = s.initialState().hardState;
  const ents = es.map((e) => `${e.index}/${e.term}/${Buffer.from(e.data).toString('hex')}`).join(' ');
  return `snap ${m.index}/${m.term}/${Buffer.from(s.snapshot().data).toString('hex')} | ${ents} | hs ${hs.term}/${hs.vote}`;
}

function copy(m: Storage): MemoryStorage {
  const c = new MemoryStorage();
  if (m.snapshot().metadata.index > 0n) c.applySnapshot(m.snapshot());
  const snapIndex = m.snapshot().metadata.index;
  if (m.lastIndex() > snapIndex)
    c.append(m.entries(snapIndex + 1n, m.lastIndex() + 1n, Number.MAX_SAFE_INTEGER));
  c.setHardState(m.initialState().hardState);
  return c;
}

/** The views a crash during `op` may leave: none of it, a prefix of its records, all of it. */
async function outcomes(m: MemoryStorage, op: Op): Promise<Set<string>> {
  const out = new Set([view(m)]);
  const variants: Op[] = [op];
  if (op.kind === 'save') {
    for (let p = 0; p <= op.ents.length; p++) {
      if (p === 0 && op.snap === undefined) continue;
      variants.push({
        kind: 'save',
        hs: undefined,
        ents: op.ents.slice(0, p),
        ...(op.snap ? { snap: op.snap } : {}),
      });
    }
  }
  for (const v of variants) {
    const c = copy(m);
    await runOp(c, v);
    out.add(view(c));
  }
  return out;
}

function describeOp(op: Op): string {
  if (op.kind !== 'save') return `${op.kind} ${op.index}`;
  const hs = op.hs === undefined ? '-' : `${op.hs.term}/${op.hs.vote}/${op.hs.commit}`;
  const es = op.ents.map((e) => `${e.index}/${e.term}`).join(',');
  return `save hs ${hs} ents [${es}] snap ${op.snap?.metadata.index ?? '-'}`;
}

const seen = { crashes: 0, partial: 0, restores: 0 };

async function scenario(seed: number): Promise<void> {
  const rand = prng(seed);
  let fs = new MemFileSystem();
  const opts = { segmentSizeBytes: 2048 };
  let s = await WalStorage.open(fs, DIR, opts);
  let model = new MemoryStorage();
  const term = { t: 1n };
  const boot: Op = { kind: 'save', hs: { term: 1n, vote: 0n, commit: 1n }, ents: [], snap: snap(1n, 1n) };
  await runOp(s, boot);
  await runOp(model, boot);
  for (let cycle = 0; cycle < 6; cycle++) {
    for (let i = 3 + Math.floor(rand() * 20); i > 0; i--) {
      const op = nextOp(model, term, rand);
      await runOp(s, op);
      await runOp(model, op);
      assert.equal(view(s), view(model), `seed ${seed}: storage differs from the model before any crash`);
    }
    const op = nextOp(model, term, rand);
    let acked = false;
    const p = runOp(s, op).then(
      () => (acked = true),
      () => undefined,
    );
    for (let i = Math.floor(rand() * 30); i > 0; i--) await Promise.resolve();
    fs = fs.crash(rand);
    const ackedBeforeCrash = acked;
    await p;
    const allowed = ackedBeforeCrash ? undefined : await outcomes(model, op);
    if (ackedBeforeCrash) await runOp(model, op);
    s = await WalStorage.open(fs, DIR, opts);
    const got = view(s);
    assert.ok(
      allowed === undefined || allowed.has(got),
      `seed ${seed} cycle ${cycle}: model ${model.firstIndex()}..${model.lastIndex()} op ${describeOp(op)}\nrecovered\n${got}\nnot one of\n${[...(allowed ?? [])].join('\n')}`,
    );
    if (ackedBeforeCrash) assert.equal(got, view(model), `seed ${seed}: an acknowledged write was lost`);
    const hs = s.initialState().hardState;
    assert.ok(
      hs.commit >= s.snapshot().metadata.index && hs.commit <= s.lastIndex(),
      `seed ${seed}: commit ${hs.commit}`,
    );
    seen.crashes++;
    if (!ackedBeforeCrash && got !== view(model)) seen.partial++;
    if (op.kind === 'save' && op.snap !== undefined) seen.restores++;
    model = copy(s);
    for (const e of s.lastIndex() >= s.firstIndex()
      ? s.entries(s.firstIndex(), s.lastIndex() + 1n, Number.MAX_SAFE_INTEGER)
      : []) {
      if (e.term > term.t) term.t = e.term;
    }
    if (hs.term > term.t) term.t = hs.term;
  }
}

void test('random saves, snapshots and compactions with power cuts: acknowledged state survives exactly', async () => {
  for (let seed = 1; seed <= 80; seed++) await scenario(seed);
  assert.ok(seen.partial > 10 && seen.restores > 5, JSON.stringify(seen));
});
