// Crash simulation on the in-memory disk: random workloads, a power cut at a random point inside
// a random operation, reopen, repeat. Every save that resolved before the cut must come back, and
// the log never goes back past what was acknowledged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemFileSystem } from '../base/mem-fs.js';
import type { Entry, HardState } from '../raft/types.js';
import { Wal } from './wal.js';
import type { WalSnapshot } from './record.js';
import { applySaves, entries, flat, prng } from './test-helpers.js';

const DIR = '/node/wal';
const SEG = 2048;

interface Model {
  /** The log as acknowledged saves built it (all indexes, including those below the snapshot). */
  log: Entry[];
  /** The hard state the WAL holds durably. */
  durable: HardState;
  /** The newest hard state handed to save (a commit-only change may not be durable yet). */
  latest: HardState;
  snap: WalSnapshot;
  term: bigint;
}

type Op =
  | { kind: 'save'; hs: HardState | undefined; ents: Entry[] }
  | { kind: 'snapshot'; snap: WalSnapshot }
  | { kind: 'release'; index: bigint };

function lastIndex(m: Model): bigint {
  return m.log.length === 0 ? m.snap.index : m.log[m.log.length - 1]!.index;
}

function nextOp(m: Model, rand: () => number): Op {
  const x = rand();
  const last = lastIndex(m);
  if (x < 0.08 && last > m.snap.index) {
    const index = m.snap.index + 1n + BigInt(Math.floor(rand() * Number(last - m.snap.index)));
    const term = m.log.find((e) => e.index === index)?.term ?? m.snap.term;
    return { kind: 'snapshot', snap: { index, term } };
  }
  if (x < 0.14) return { kind: 'release', index: m.snap.index };
  if (x < 0.22) return { kind: 'save', hs: { ...m.latest, commit: m.latest.commit + 1n }, ents: [] };
  let from = last + 1n;
  if (x < 0.3 && last > m.snap.index + 1n) {
    // A new leader overwrites a conflicting tail.
    from = m.snap.index + 2n + BigInt(Math.floor(rand() * Number(last - m.snap.index - 1n)));
    m.term++;
  }
  const n = 1n + BigInt(Math.floor(rand() * 12));
  const hs = rand() < 0.7 ? { term: m.term, vote: 1n, commit: m.latest.commit } : undefined;
  return { kind: 'save', hs, ents: entries(from, from + n - 1n, m.term, 1 + Math.floor(rand() * 90)) };
}

async function runOp(wal: Wal, op: Op): Promise<void> {
  if (op.kind === 'save') await wal.save(op.hs, op.ents);
  else if (op.kind === 'snapshot') await wal.saveSnapshot(op.snap);
  else await wal.releaseTo(op.index);
}

function acknowledge(m: Model, op: Op): void {
  if (op.kind === 'snapshot') {
    m.snap = op.snap;
    m.durable = m.latest;
  } else if (op.kind === 'save') {
    if (op.hs !== undefined) m.latest = op.hs;
    const voteChange =
      op.hs !== undefined && (op.hs.term !== m.durable.term || op.hs.vote !== m.durable.vote);
    if (op.ents.length > 0 || voteChange) m.durable = m.latest;
    m.log = applySaves(m.log, op.ents);
  }
}

/** What may be read back: the acknowledged log plus any prefix of an in-flight save's entries. */
function checkRecovered(m: Model, inflight: Op | undefined, got: Entry[], hs: HardState, seed: number): void {
  const above = (es: Entry[]) => es.filter((e) => e.index > m.snap.index);
  const extra = inflight?.kind === 'save' ? inflight.ents : [];
  const want = flat(above(m.log));
  const options: string[] = [];
  for (let p = 0; p <= extra.length; p++) {
    options.push(
      JSON.stringify(flat(above(applySaves(m.log, extra.slice(0, p)))), (_, v: unknown) =>
        typeof v === 'bigint' ? v.toString() : v,
      ),
    );
  }
  const actual = JSON.stringify(flat(got), (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  assert.ok(
    options.includes(actual),
    `seed ${seed}: recovered log is not the acknowledged one (plus in-flight prefix)\nwant ${JSON.stringify(want.length)} entries, got ${got.length}\ninflight ${inflight?.kind} ${inflight?.kind === 'save' ? inflight.ents.map((e) => `${e.index}/${e.term}`).join(',') : ''}\nwant ${want.map((e) => `${e[0]}/${e[1]}`).join(',')}\ngot  ${got.map((e) => `${e.index}/${e.term}`).join(',')}\nsnap ${m.snap.index}`,
  );
  const hsOptions = [m.durable];
  if (inflight?.kind === 'save' && inflight.hs !== undefined) hsOptions.push(inflight.hs);
  if (inflight !== undefined) hsOptions.push(m.latest);
  assert.ok(
    hsOptions.some((h) => h.term === hs.term && h.vote === hs.vote && h.commit === hs.commit),
    `seed ${seed}: hard state ${hs.term}/${hs.vote}/${hs.commit} not one that was saved`,
  );
}

async function crashInside(fs: MemFileSystem, wal: Wal, op: Op, rand: () => number) {
  let acked = false;
  const p = runOp(wal, op).then(
    () => (acked = true),
    () => undefined,
  );
  const ticks = Math.floor(rand() * (rand() < 0.5 ? 4 : 24));
  for (let i = 0; i < ticks; i++) await Promise.resolve();
  const next = fs.crash(rand);
  const ackedBeforeCrash = acked;
  await p;
  return { next, ackedBeforeCrash };
}

/** How often each outcome happened, to show the runs exercise what they claim to. */
const seen = { repairs: 0, inflightKept: 0, inflightLost: 0, releases: 0, segments: 0 };

async function scenario(seed: number): Promise<void> {
  const rand = prng(seed);
  let fs = new MemFileSystem();
  await fs.mkdirp('/node');
  await fs.syncDir('/');
  let wal = await Wal.create(fs, DIR, new Uint8Array([1, 2, 3]), { segmentSizeBytes: SEG });
  const zero: HardState = { term: 0n, vote: 0n, commit: 0n };
  const m: Model = { log: [], durable: zero, latest: zero, snap: { index: 0n, term: 0n }, term: 1n };
  for (let cycle = 0; cycle < 6; cycle++) {
    const ops = 3 + Math.floor(rand() * 25);
    for (let i = 0; i < ops; i++) {
      const op = nextOp(m, rand);
      await runOp(wal, op);
      acknowledge(m, op);
    }
    const op = nextOp(m, rand);
    const { next, ackedBeforeCrash } = await crashInside(fs, wal, op, rand);
    if (ackedBeforeCrash) acknowledge(m, op);
    fs = next;
    const r = await Wal.open(fs, DIR, { snapshot: m.snap, segmentSizeBytes: SEG });
    checkRecovered(m, ackedBeforeCrash ? undefined : op, r.entries, r.hardState, seed);
    if (r.repaired !== undefined) seen.repairs++;
    if (!ackedBeforeCrash && op.kind === 'save' && op.ents.length > 0) {
      const lastNew = op.ents[op.ents.length - 1]!;
      const kept = r.entries.some((e) => e.index === op.ents[0]!.index && e.term === lastNew.term);
      if (kept) seen.inflightKept++;
      else seen.inflightLost++;
    }
    seen.segments = Math.max(seen.segments, r.wal.segmentNames.length);
    if (r.wal.segmentNames[0] !== '0000000000000000-0000000000000000.wal') seen.releases++;
    // What was read back is now durable: it is the log from here on.
    m.log = [...m.log.filter((e) => e.index <= m.snap.index), ...r.entries];
    m.durable = r.hardState;
    m.latest = r.hardState;
    if (r.hardState.term > m.term) m.term = r.hardState.term;
    for (const e of r.entries) if (e.term > m.term) m.term = e.term;
    wal = r.wal;
  }
}

void test('every acknowledged save survives random crashes, across 150 seeded runs', async () => {
  for (let seed = 1; seed <= 150; seed++) await scenario(seed);
  assert.ok(seen.repairs > 30, `torn tails repaired: ${seen.repairs}`);
  assert.ok(seen.inflightKept > 10 && seen.inflightLost > 10, JSON.stringify(seen));
  assert.ok(seen.releases > 10 && seen.segments > 3, JSON.stringify(seen));
  console.log(`crash runs: ${JSON.stringify(seen)}`);
});

void test('a crash loses only unsynced writes even when every unsynced change is dropped', async () => {
  let fs = new MemFileSystem();
  await fs.mkdirp('/node');
  await fs.syncDir('/');
  const wal = await Wal.create(fs, DIR, new Uint8Array([1]), { segmentSizeBytes: SEG });
  let log: Entry[] = [];
  for (let i = 0n; i < 40n; i++) {
    const batch = entries(i * 5n + 1n, i * 5n + 5n, 1n, 33);
    await wal.save({ term: 1n, vote: 1n, commit: i * 5n }, batch);
    log = applySaves(log, batch);
  }
  fs = fs.crash();
  const r = await Wal.open(fs, DIR, { segmentSizeBytes: SEG });
  assert.deepEqual(flat(r.entries), flat(log));
  assert.deepEqual(r.hardState, { term: 1n, vote: 1n, commit: 195n });
  assert.equal(r.repaired, undefined);
});
