// Shared by the WAL tests only: entry builders, a seeded random source, and a view of the log that
// raft would reconstruct from a sequence of saves.
import type { Entry } from '../raft/types.js';

export function entry(index: bigint, term: bigint, size = 8): Entry {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = Number((index * 31n + term * 7n + BigInt(i)) & 0xffn);
  return { term, index, type: 0, data };
}

export function entries(from: bigint, to: bigint, term: bigint, size = 8): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term, size));
  return out;
}

/** A small seeded PRNG (mulberry32) returning uniform numbers in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The log raft sees after these saves: a save's first index replaces that index and all after. */
export function applySaves(log: Entry[], batch: readonly Entry[]): Entry[] {
  if (batch.length === 0) return log;
  const first = batch[0]!.index;
  const kept = log.filter((e) => e.index < first);
  return [...kept, ...batch];
}

/** Entries as comparable tuples. */
export function flat(es: readonly Entry[]): [bigint, bigint, number, string][] {
  return es.map((e) => [e.index, e.term, e.type, Buffer.from(e.data).toString('hex')]);
}
