// Helpers of the watch checker (watch-checker.ts): the history as one watch must see it (matching
// events per revision, prevKv kept only when asked), positions in that stream, event comparison and
// the descriptions violation messages use. Types only from the generated code and watch-types.
import type { Event, KeyValue } from '../generated/mvccpb.js';
import type { WatchHistory } from './watch-checker.js';
import type { WatchSpec } from './watch-types.js';

/** One expected event: the history's event as this watch must see it, and its sub-revision. */
export interface Expected {
  readonly rev: bigint;
  readonly sub: number;
  readonly event: Event;
}

/** A position in the watch's expected stream: revision and index into its matching events. */
export interface Pos {
  rev: bigint;
  idx: number;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** True when the watch's key range holds `key` (etcd's range_end rules). */
export function watchMatchesKey(spec: WatchSpec, key: Uint8Array): boolean {
  if (spec.end.length === 0) return compareBytes(key, spec.key) === 0;
  if (spec.end.length === 1 && spec.end[0] === 0) return compareBytes(key, spec.key) >= 0;
  return compareBytes(key, spec.key) >= 0 && compareBytes(key, spec.end) < 0;
}

export function sameKv(a: KeyValue | undefined, b: KeyValue | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    compareBytes(a.key, b.key) === 0 &&
    compareBytes(a.value, b.value) === 0 &&
    a.createRevision === b.createRevision &&
    a.modRevision === b.modRevision &&
    a.version === b.version &&
    a.lease === b.lease
  );
}

export function sameEvent(a: Event, b: Event): boolean {
  return a.type === b.type && sameKv(a.kv, b.kv) && sameKv(a.prevKv, b.prevKv);
}

export function printable(b: Uint8Array): string {
  return JSON.stringify(new TextDecoder().decode(b));
}

export function describeKv(kv: KeyValue | undefined): string {
  if (kv === undefined) return 'none';
  return `{key ${printable(kv.key)} value ${printable(kv.value)} create ${kv.createRevision} mod ${kv.modRevision} ver ${kv.version} lease ${kv.lease}}`;
}

export function eventName(e: Event): string {
  return `${e.type === 1 ? 'DELETE' : 'PUT'} ${e.kv === undefined ? '?' : printable(e.kv.key)}`;
}

export function describeExpected(x: Expected): string {
  return `${eventName(x.event)} at ${x.rev}.${x.sub}`;
}

export function describeEvent(e: Event): string {
  return `${eventName(e)} kv ${describeKv(e.kv)} prev ${describeKv(e.prevKv)}`;
}

export function comparePos(a: Pos, b: Pos): number {
  if (a.rev !== b.rev) return a.rev < b.rev ? -1 : 1;
  return a.idx - b.idx;
}

/** The history as one watch sees it: matching events per revision, computed on demand. */
export class ExpectedStream {
  private readonly cache = new Map<bigint, Expected[]>();
  readonly firstRev: bigint;
  readonly lastRev: bigint;

  constructor(
    private readonly history: WatchHistory,
    private readonly spec: WatchSpec,
  ) {
    const revs = history.revisions;
    this.firstRev = revs.length > 0 ? revs[0]!.rev : 2n;
    this.lastRev = revs.length > 0 ? revs[revs.length - 1]!.rev : 1n;
    for (let i = 1; i < revs.length; i++) {
      if (revs[i]!.rev !== revs[i - 1]!.rev + 1n) {
        throw new Error(`watch history is not contiguous: ${revs[i - 1]!.rev} then ${revs[i]!.rev}`);
      }
    }
  }

  /** The history's events of `rev` (undefined outside the history). */
  all(rev: bigint): readonly Event[] | undefined {
    if (rev < this.firstRev || rev > this.lastRev) return undefined;
    return this.history.revisions[Number(rev - this.firstRev)]!.events;
  }

  /** The events of `rev` this watch must be given, as it must be given them. */
  at(rev: bigint): readonly Expected[] {
    const hit = this.cache.get(rev);
    if (hit !== undefined) return hit;
    const out: Expected[] = [];
    (this.all(rev) ?? []).forEach((e, sub) => {
      if (e.kv === undefined || !watchMatchesKey(this.spec, e.kv.key)) return;
      if ((e.type === 0 && this.spec.noPut) || (e.type === 1 && this.spec.noDelete)) return;
      const event: Event = this.spec.prevKv ? e : { type: e.type, kv: e.kv };
      out.push({ rev, sub, event });
    });
    this.cache.set(rev, out);
    return out;
  }

  /** The first expected event at or after `from` and strictly before `limit`. */
  firstBetween(from: Pos, limit: Pos): { pos: Pos; x: Expected } | undefined {
    for (let rev = from.rev; rev <= limit.rev && rev <= this.lastRev; rev++) {
      const xs = this.at(rev);
      const lo = rev === from.rev ? from.idx : 0;
      const hi = rev === limit.rev ? Math.min(limit.idx, xs.length) : xs.length;
      if (lo < hi) return { pos: { rev, idx: lo }, x: xs[lo]! };
    }
    return undefined;
  }

  /** The position just after `p` (the next revision once `p` is its revision's last event). */
  after(p: Pos): Pos {
    return p.idx + 1 < this.at(p.rev).length ? { rev: p.rev, idx: p.idx + 1 } : { rev: p.rev + 1n, idx: 0 };
  }
}

/** The largest compaction revision applied while the store was below `rev` (0n: none). */
export function compactedBefore(history: WatchHistory, rev: bigint): bigint {
  let c = 0n;
  for (const p of history.compactions) if (p.atRev < rev && p.compactRev > c) c = p.compactRev;
  return c;
}
