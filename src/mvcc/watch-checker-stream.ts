// The per-stream half of the watch checker (watch-checker.ts): walks one watcher's responses in
// order against the stream of events it must be given (watch-checker-expected.ts) and throws
// WatchViolationError at the first broken guarantee.
import type { Event } from '../generated/mvccpb.js';
import type {
  ObservedResponse,
  ObservedWatch,
  WatchGuarantee,
  WatchHistory,
  WatchSummary,
  WatchViolation,
} from './watch-checker.js';
import {
  compactedBefore,
  compareBytes,
  comparePos,
  describeEvent,
  describeExpected,
  eventName,
  ExpectedStream,
  sameEvent,
  type Expected,
  type Pos,
} from './watch-checker-expected.js';
import type { WatchSpec } from './watch-types.js';

export class WatchViolationError extends Error {
  override name = 'WatchViolationError';
  constructor(readonly violation: WatchViolation) {
    super(`watch ${violation.guarantee}: response #${violation.response}: ${violation.message}`);
  }
}

export class StreamChecker {
  private readonly xs: ExpectedStream;
  private readonly spec: WatchSpec;
  private start = 0n;
  /** Every expected event before this position has been delivered or claimed. */
  private cursor: Pos = { rev: 0n, idx: 0 };
  /** Delivered expected events ("rev.idx") and the response that carried each. */
  private readonly delivered = new Map<string, number>();
  private lastEventRev = 0n;
  private events = 0;
  private compactedAt = 0n;
  private canceledAt = -1;
  /** The compaction that had already removed the start when the watch was created (0n: none). */
  private startCompacted = 0n;

  constructor(
    private readonly history: WatchHistory,
    private readonly watch: ObservedWatch,
    private readonly resumed: boolean,
  ) {
    this.spec = watch.spec;
    this.xs = new ExpectedStream(history, watch.spec);
  }

  run(): WatchSummary {
    const rs = this.watch.responses;
    let group = -1;
    for (let i = 0; i < rs.length; i++) {
      const r = rs[i]!;
      if (this.canceledAt >= 0)
        this.fail('protocol', i, `a response after the cancel in response #${this.canceledAt}`);
      if (i === 0) {
        this.onCreated(r);
        continue;
      }
      if (r.created) this.fail('protocol', i, 'a second created response');
      if (r.fragment && this.watch.fragment !== true)
        this.fail('protocol', i, 'a fragment, which the watch did not ask for');
      const isEvents = !r.canceled && r.events.length > 0;
      if (group >= 0 && !isEvents)
        this.fail('protocol', i, `the fragments begun in response #${group} are not finished`);
      if (r.canceled) {
        if (r.events.length > 0) this.fail('protocol', i, 'a canceled response with events');
        this.onCanceled(r, i);
      } else if (!isEvents) this.onProgress(r, i);
      else {
        if (group < 0) group = i;
        if (r.fragment) continue;
        this.onGroup(group, i);
        group = -1;
      }
    }
    // A stream cut inside a fragment group: the client could not use those events, so they do not count.
    return {
      start: this.start,
      claimedThrough: this.cursor.rev - 1n,
      lastEventRev: this.lastEventRev,
      events: this.events,
      compactedAt: this.compactedAt,
      canceled: this.canceledAt >= 0,
    };
  }

  private fail(guarantee: WatchGuarantee, response: number, message: string): never {
    throw new WatchViolationError({ guarantee, response, message });
  }

  private onCreated(r: ObservedResponse): void {
    if (!r.created) this.fail('protocol', 0, 'the first response is not the created response');
    if (r.events.length > 0) this.fail('protocol', 0, 'the created response carries events');
    const h = r.header?.revision;
    if (this.spec.startRev > 0n) this.start = this.spec.startRev;
    else if (h === undefined)
      this.fail('protocol', 0, 'a watch from now whose created response has no header revision');
    else this.start = h + 1n;
    this.cursor = { rev: this.start, idx: 0 };
    if (this.spec.startRev > 0n && h !== undefined) {
      const c = compactedBefore(this.history, h);
      if (this.start < c) this.startCompacted = c;
    }
    if (r.canceled) this.onCanceled(r, 0);
  }

  private onCanceled(r: ObservedResponse, i: number): void {
    this.canceledAt = i;
    const c = r.compactRevision;
    if (c === 0n) return;
    const need = this.cursor.rev;
    if (need >= c) {
      this.fail(
        'compaction',
        i,
        `canceled with compact_revision ${c}, but it had been given everything through ${need - 1n} and needed no revision below ${c}`,
      );
    }
    const all = this.history.compactions;
    if (!all.some((p) => p.compactRev === c)) {
      const list = all.map((p) => p.compactRev).join(', ');
      this.fail(
        'compaction',
        i,
        `compact_revision ${c} is not a revision the store was compacted at (${list || 'never compacted'})`,
      );
    }
    const h = r.header?.revision ?? 0n;
    if (h > 0n) {
      const inEffect = compactedBefore(this.history, h);
      if (c < inEffect || !all.some((p) => p.atRev <= h && p.compactRev === c)) {
        this.fail(
          'compaction',
          i,
          `compact_revision ${c} in a response at revision ${h}, when the store had been compacted at ${inEffect}`,
        );
      }
    }
    this.compactedAt = c;
  }

  private onProgress(r: ObservedResponse, i: number): void {
    const h = r.header?.revision;
    if (h === undefined) this.fail('protocol', i, 'a progress notification without a header revision');
    if (h > this.xs.lastRev) {
      this.fail(
        'bookmarkable',
        i,
        `progress notification at ${h}, beyond the last committed revision ${this.xs.lastRev}`,
      );
    }
    const limit: Pos = { rev: h + 1n, idx: 0 };
    const owed = this.xs.firstBetween(this.cursor, limit);
    if (owed !== undefined) {
      const later = this.findLater(owed.x, i);
      const when =
        later === undefined
          ? 'was never delivered'
          : `had not been delivered (it came in response #${later})`;
      this.fail('bookmarkable', i, `progress notification at ${h}, but ${describeExpected(owed.x)} ${when}`);
    }
    if (comparePos(limit, this.cursor) > 0) this.cursor = limit;
  }

  /** Responses from..to are one response (fragments joined). */
  private onGroup(from: number, to: number): void {
    for (let i = from; i <= to; i++) for (const e of this.watch.responses[i]!.events) this.onEvent(e, i);
    if (this.cursor.idx === 0) return;
    const xs = this.xs.at(this.cursor.rev);
    const missing = xs[this.cursor.idx]!;
    const later = this.findLater(missing, to + 1);
    const part = `${this.cursor.idx} of the ${xs.length} events of revision ${this.cursor.rev} in response #${to}`;
    if (later !== undefined) {
      this.fail(
        'atomic',
        to,
        `revision ${this.cursor.rev} is split: ${part}, ${describeExpected(missing)} in response #${later}`,
      );
    }
    this.fail(
      'reliable',
      to,
      `revision ${this.cursor.rev} is incomplete: ${part}; ${describeExpected(missing)} never came`,
    );
  }

  private onEvent(e: Event, i: number): void {
    const { pos, x } = this.locate(e, i);
    const key = `${pos.rev}.${pos.idx}`;
    const prior = this.delivered.get(key);
    const what = describeExpected(x);
    if (prior !== undefined) this.fail('unique', i, `${what} delivered again (first in response #${prior})`);
    if (pos.rev < this.start) {
      const why = this.resumed ? 'resumed' : 'watch';
      this.fail(
        this.resumed ? 'resumable' : 'valid',
        i,
        `${what} is before the ${why} start revision ${this.start}`,
      );
    }
    if (this.startCompacted > 0n) {
      this.fail(
        'compaction',
        i,
        `${what} delivered, but the start revision ${this.start} had been compacted (at ${this.startCompacted}) before the watch was created`,
      );
    }
    if (comparePos(pos, this.cursor) < 0) {
      this.fail(
        'ordered',
        i,
        `${what} arrives after everything before ${this.cursor.rev}.${this.cursor.idx} was given`,
      );
    }
    const skipped = this.xs.firstBetween(this.cursor, pos);
    if (skipped !== undefined) {
      const later = this.findLater(skipped.x, i);
      const missing = describeExpected(skipped.x);
      if (later !== undefined)
        this.fail('ordered', i, `${what} comes before ${missing} (response #${later})`);
      this.fail('reliable', i, `gap: ${missing} was never delivered, but ${what} was`);
    }
    this.delivered.set(key, i);
    this.events++;
    this.lastEventRev = pos.rev;
    this.cursor = this.xs.after(pos);
  }

  /** The expected event `e` is (an undelivered copy preferred), or the reason it is none. */
  private locate(e: Event, i: number): { pos: Pos; x: Expected } {
    if (e.kv === undefined) this.fail('valid', i, `${eventName(e)} event without a kv`);
    const rev = e.kv.modRevision;
    const all = this.xs.all(rev);
    if (all === undefined) {
      this.fail(
        'valid',
        i,
        `${describeEvent(e)} is at revision ${rev}, outside the committed history ${this.xs.firstRev}..${this.xs.lastRev}`,
      );
    }
    const xs = this.xs.at(rev);
    let found: number | undefined;
    for (let idx = 0; idx < xs.length; idx++) {
      if (!this.matches(xs[idx]!, e)) continue;
      if (found === undefined) found = idx;
      if (!this.delivered.has(`${rev}.${idx}`)) {
        found = idx;
        break;
      }
    }
    if (found !== undefined) return { pos: { rev, idx: found }, x: xs[found]! };
    const sameKey = xs.find((x) => x.event.type === e.type && compareBytes(x.event.kv!.key, e.kv!.key) === 0);
    if (sameKey !== undefined)
      this.fail('valid', i, `${describeEvent(e)} differs from the committed ${describeEvent(sameKey.event)}`);
    const inHistory = all.some(
      (h) => h.type === e.type && h.kv !== undefined && compareBytes(h.kv.key, e.kv!.key) === 0,
    );
    const why = inHistory
      ? 'does not match the watch (key range or filter)'
      : `is not an event of revision ${rev}`;
    this.fail('valid', i, `${describeEvent(e)} ${why}`);
  }

  /**
   * `e` is the expected event `x`. A missing prevKv is accepted only where etcd also leaves it out:
   * the previous value, below the event's revision, was compacted away (some compaction reached
   * the event's revision).
   */
  private matches(x: Expected, e: Event): boolean {
    if (sameEvent(x.event, e)) return true;
    if (e.prevKv !== undefined || x.event.prevKv === undefined) return false;
    if (!this.history.compactions.some((p) => p.compactRev >= x.rev)) return false;
    return sameEvent({ type: x.event.type, kv: x.event.kv }, e);
  }

  /** The first response at or after `from` that carries the expected event `x`. */
  private findLater(x: Expected, from: number): number | undefined {
    const rs = this.watch.responses;
    for (let j = from; j < rs.length; j++) {
      if (rs[j]!.events.some((e) => e.kv?.modRevision === x.rev && this.matches(x, e))) return j;
    }
    return undefined;
  }
}
