// The watch checker: validates what one watcher was sent against the committed history, for the
// simulator (sim/watch-*.ts) and the end-to-end tests (test/e2e), which is why it imports nothing
// but types and its own parts (watch-checker-stream.ts walks one stream, watch-checker-expected.ts
// is the history as one watch sees it). The guarantees are etcd's (its "watch guarantees" page),
// plus the compaction rule:
// - ordered: events ascend by revision, and within a revision in sub-revision order;
// - unique: no event is delivered twice;
// - reliable: no gap — every matching event from the start up to what the watcher was later given
//   is delivered;
// - atomic: one revision's events come in one response (one fragment group with fragment);
// - bookmarkable: a progress notification at R means every matching event <= R was delivered;
// - resumable: a watch resumed at (last seen + 1) continues exactly (checkResumedWatch);
// - valid: only committed events the watch matches, prev_kv as asked (absent only where etcd
//   leaves it out too: the previous value was compacted away);
// - compaction: canceled with compact_revision only when the watcher still needed a revision below
//   it (as in etcd, the compaction revision itself is still served: clients resume from it), with
//   a compaction revision the store really had; a watch whose start was below a compaction
//   already applied when it was created is never given events.
// Responses have the shape of etcdserverpb.WatchResponse, so decoded gRPC responses can be passed
// as they are. A progress notification is a response that is neither created nor canceled and has
// no events; it claims its header revision. The first violation is returned with the response
// number (0-based) and a message naming both sides.
import type { Event } from '../generated/mvccpb.js';
import { StreamChecker, WatchViolationError } from './watch-checker-stream.js';
import type { WatchSpec } from './watch-types.js';

export { WatchViolationError } from './watch-checker-stream.js';
export { sameEvent, watchMatchesKey } from './watch-checker-expected.js';

/** One committed revision: its events in sub-revision order, each with its prevKv as written. */
export interface HistoryRevision {
  readonly rev: bigint;
  readonly events: readonly Event[];
}

/** A compaction applied when the store's current revision was `atRev`. */
export interface CompactionPoint {
  readonly atRev: bigint;
  readonly compactRev: bigint;
}

/** The committed history: every revision with events, ascending and contiguous; compactions in order. */
export interface WatchHistory {
  readonly revisions: readonly HistoryRevision[];
  readonly compactions: readonly CompactionPoint[];
}

/** What the watcher received, as etcdserverpb.WatchResponse. */
export interface ObservedResponse {
  readonly header?: { readonly revision: bigint };
  readonly created: boolean;
  readonly canceled: boolean;
  readonly compactRevision: bigint;
  readonly fragment: boolean;
  readonly events: readonly Event[];
}

export interface ObservedWatch {
  /** The watch as created (startRev 0: from the created response's header revision + 1). */
  readonly spec: WatchSpec;
  /** The client asked for fragmented responses. */
  readonly fragment?: boolean;
  readonly responses: readonly ObservedResponse[];
}

export type WatchGuarantee =
  | 'ordered'
  | 'unique'
  | 'reliable'
  | 'atomic'
  | 'resumable'
  | 'bookmarkable'
  | 'compaction'
  | 'valid'
  | 'protocol';

export interface WatchViolation {
  readonly guarantee: WatchGuarantee;
  /** Index of the response where it shows (in a resumed watch: within its piece). */
  readonly response: number;
  readonly message: string;
}

export interface WatchSummary {
  /** The first revision the watch asked for. */
  readonly start: bigint;
  /** Every matching event of a revision <= this was delivered (by events or a progress claim). */
  readonly claimedThrough: bigint;
  /** Revision of the last event delivered; 0n when none. */
  readonly lastEventRev: bigint;
  readonly events: number;
  /** The compact_revision the watch was canceled with; 0n when it was not compacted. */
  readonly compactedAt: bigint;
  readonly canceled: boolean;
}

export type WatchCheck =
  | { readonly ok: true; readonly summary: WatchSummary }
  | { readonly ok: false; readonly violation: WatchViolation };

/**
 * The history from every event of revisions 2.. in order, as a watch of every key from revision 1
 * with prev_kv returns them (how an end-to-end test learns the committed history).
 */
export function historyFromEvents(
  events: readonly Event[],
  compactions: readonly CompactionPoint[] = [],
): WatchHistory {
  const revisions: { rev: bigint; events: Event[] }[] = [];
  for (const e of events) {
    const rev = e.kv?.modRevision;
    if (rev === undefined) throw new Error('an event without a kv');
    const last = revisions[revisions.length - 1];
    if (last?.rev === rev) last.events.push(e);
    else if (rev === (last?.rev ?? 1n) + 1n) revisions.push({ rev, events: [e] });
    else throw new Error(`events jump from revision ${last?.rev ?? 1n} to ${rev}`);
  }
  return { revisions, compactions };
}

export interface CheckWatchOptions {
  /** This watch resumes an earlier one (events before its start are then a resumption failure). */
  resumed?: boolean;
}

/** Checks one watcher's stream; returns its first violation, or what it was given. */
export function checkWatch(
  history: WatchHistory,
  watch: ObservedWatch,
  opts: CheckWatchOptions = {},
): WatchCheck {
  try {
    return { ok: true, summary: new StreamChecker(history, watch, opts.resumed === true).run() };
  } catch (err) {
    if (err instanceof WatchViolationError) return { ok: false, violation: err.violation };
    throw err;
  }
}

/**
 * Checks a watch that was resumed, piece after piece (each piece a new watch on some member, the
 * client having lost the previous one): piece k+1 must start after the last event of piece k and
 * no later than one past what piece k had been given, and each piece must hold exactly its part.
 */
export function checkResumedWatch(history: WatchHistory, pieces: readonly ObservedWatch[]): WatchCheck {
  let prev: WatchSummary | undefined;
  let events = 0;
  for (let k = 0; k < pieces.length; k++) {
    const piece = pieces[k]!;
    if (prev !== undefined) {
      const bad = resumptionProblem(prev, piece.spec.startRev, k);
      if (bad !== undefined)
        return { ok: false, violation: { guarantee: 'resumable', response: 0, message: bad } };
    }
    const r = checkWatch(history, piece, { resumed: k > 0 });
    if (!r.ok) {
      const v = r.violation;
      return {
        ok: false,
        violation: { ...v, message: `piece ${k} (start ${piece.spec.startRev}): ${v.message}` },
      };
    }
    events += r.summary.events;
    prev = r.summary;
  }
  if (prev === undefined) throw new Error('checkResumedWatch needs at least one piece');
  return { ok: true, summary: { ...prev, start: pieces[0]!.spec.startRev, events } };
}

function resumptionProblem(prev: WatchSummary, startRev: bigint, k: number): string | undefined {
  if (prev.compactedAt !== 0n)
    throw new Error(`piece ${k - 1} was compacted; a resumption would be a new watch`);
  const lo = prev.lastEventRev > 0n ? prev.lastEventRev + 1n : prev.start;
  const hi = prev.claimedThrough + 1n;
  if (startRev >= lo && startRev <= hi) return undefined;
  return `piece ${k} resumes at revision ${startRev}, but piece ${k - 1} had its last event at ${prev.lastEventRev} and was given everything through ${prev.claimedThrough} (resume in [${lo}, ${hi}])`;
}
