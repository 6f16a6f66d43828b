// The bookkeeping of the watch latency load, kept free of I/O so it can be tested on its own.
// Put number `seq` is sent at sendMs[seq]; its value carries `seq`, so every watcher that receives
// the event yields one latency sample: receive time minus send time. Besides the samples it checks
// the guarantees a watcher on one key must see: each watcher gets every acknowledged put exactly
// once, in revision order, and every watcher sees a put at the revision its Put reply named.
import { summarize, type LatencySummary } from './stats.js';

/** Distinct problems kept (each with a count); further kinds are only counted. */
const MAX_PROBLEM_KINDS = 20;

export interface LatencyAccount {
  putsSent: number;
  putsAcked: number;
  putErrors: number;
  /** putsAcked × watchers: what a server that loses nothing must deliver. */
  expectedEvents: number;
  receivedEvents: number;
  /** Events from the timed puts (after the warm-up puts), i.e. latency samples. */
  timedEvents: number;
  /** Watchers that got fewer events than puts acknowledged. */
  watchersShort: number;
  latency: LatencySummary;
  /** Ordering, duplicate, unknown-put and revision problems, each "message (×count)". */
  problems: string[];
}

export class EventLatencyRecorder {
  private readonly sendMs: Float64Array;
  private readonly putRev: Float64Array;
  private readonly eventRev: Float64Array;
  private readonly counts: Uint32Array;
  private readonly lastRev: Float64Array;
  private readonly samples: Float64Array;
  private nSamples = 0;
  private sentCount = 0;
  private ackedCount = 0;
  private errorCount = 0;
  private received = 0;
  private readonly problemCounts = new Map<string, number>();
  private otherProblems = 0;

  /**
   * `watchers` watchers, at most `maxPuts` puts numbered 0.. ; puts numbered below `timedFrom`
   * are warm-up: checked like the rest but not sampled.
   */
  constructor(
    readonly watchers: number,
    readonly maxPuts: number,
    readonly timedFrom: number,
  ) {
    if (!(watchers >= 1 && maxPuts >= 1 && timedFrom >= 0 && timedFrom <= maxPuts))
      throw new RangeError('watchers and puts must be at least 1, the warm-up at most the puts');
    this.sendMs = new Float64Array(maxPuts).fill(NaN);
    this.putRev = new Float64Array(maxPuts);
    this.eventRev = new Float64Array(maxPuts);
    this.counts = new Uint32Array(watchers);
    this.lastRev = new Float64Array(watchers);
    this.samples = new Float64Array(watchers * (maxPuts - timedFrom));
  }

  get receivedEvents(): number {
    return this.received;
  }

  get expectedEvents(): number {
    return this.ackedCount * this.watchers;
  }

  /** Puts sent whose reply has not come yet. */
  get putsInFlight(): number {
    return this.sentCount - this.ackedCount - this.errorCount;
  }

  problem(message: string): void {
    const n = this.problemCounts.get(message);
    if (n !== undefined) this.problemCounts.set(message, n + 1);
    else if (this.problemCounts.size < MAX_PROBLEM_KINDS) this.problemCounts.set(message, 1);
    else this.otherProblems++;
  }

  sent(seq: number, ms: number): void {
    if (seq !== this.sentCount || seq >= this.maxPuts) throw new Error(`put ${seq} sent out of turn`);
    this.sendMs[seq] = ms;
    this.sentCount++;
  }

  /** The Put reply for `seq` said `revision`. */
  acked(seq: number, revision: number): void {
    this.ackedCount++;
    this.putRev[seq] = revision;
    const seen = this.eventRev[seq] as number;
    if (seen !== 0 && seen !== revision)
      this.problem(`a put answered with revision ${revision} reached watchers at revision ${seen}`);
  }

  failed(_seq: number): void {
    this.errorCount++;
  }

  /** Watcher `w` received the event of put `seq` (read from the value) at `modRevision`. */
  event(w: number, seq: number, modRevision: number, recvMs: number): void {
    this.received++;
    if (!(Number.isInteger(seq) && seq >= 0 && seq < this.sentCount)) {
      this.problem('an event whose value names no put that was sent');
      return;
    }
    if (modRevision <= (this.lastRev[w] as number)) {
      this.problem(
        'a watcher got an event at or below a revision it had already seen (duplicate or out of order)',
      );
      return;
    }
    this.lastRev[w] = modRevision;
    this.counts[w] = (this.counts[w] as number) + 1;
    const seen = this.eventRev[seq] as number;
    if (seen === 0) {
      this.eventRev[seq] = modRevision;
      const acked = this.putRev[seq] as number;
      if (acked !== 0 && acked !== modRevision)
        this.problem(`a put answered with revision ${acked} reached watchers at revision ${modRevision}`);
    } else if (seen !== modRevision) this.problem('watchers saw the same put at different revisions');
    if (seq >= this.timedFrom) this.samples[this.nSamples++] = recvMs - (this.sendMs[seq] as number);
  }

  /** A response the load does not expect (a cancel, a progress notification...). */
  unexpected(what: string): void {
    this.problem(what);
  }

  finish(): LatencyAccount {
    let short = 0;
    for (let w = 0; w < this.watchers; w++) if ((this.counts[w] as number) < this.ackedCount) short++;
    const problems = [...this.problemCounts].map(([m, n]) => (n > 1 ? `${m} (×${n})` : m));
    if (this.otherProblems > 0) problems.push(`${this.otherProblems} more problems of other kinds`);
    return {
      putsSent: this.sentCount,
      putsAcked: this.ackedCount,
      putErrors: this.errorCount,
      expectedEvents: this.expectedEvents,
      receivedEvents: this.received,
      timedEvents: this.nSamples,
      watchersShort: short,
      latency: summarize(this.samples.slice(0, this.nSamples)),
      problems,
    };
  }
}

/** Reads `width` ASCII decimal digits at b[p]; NaN if any is not a digit or the bytes run out. */
export function readDecimal(b: Uint8Array, p: number, width: number): number {
  if (p + width > b.length) return NaN;
  let n = 0;
  for (let i = 0; i < width; i++) {
    const d = (b[p + i] as number) - 0x30;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}
