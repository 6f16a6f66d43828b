// Helpers for the watch differential and cluster tests: a collector of every response of one Watch
// call (waited on by content, never by time), the WatchSpec a create request means (for the watch
// checker in src/mvcc/watch-checker.ts), how many events a watch must have been given through a
// revision, and one watcher's responses picked out of a stream (stream-wide progress included).
import type { WatchSpec } from '../../src/mvcc/watch-types.js';
import { watchMatchesKey } from '../../src/mvcc/watch-checker.js';
import {
  FilterType,
  type Event,
  type WatchCall,
  type WatchCreateRequest,
  type WatchResponse,
} from './watch-wire.js';

const WAIT_MS = 30_000;

/** Every response of one call, in arrival order; waitUntil() takes more until a condition holds. */
export class Collector {
  readonly responses: WatchResponse[] = [];
  constructor(readonly call: WatchCall) {}

  async waitUntil(done: (rs: WatchResponse[]) => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.call.buffered > 0) this.responses.push(await this.call.next());
    while (!done(this.responses)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      try {
        this.responses.push(await this.call.next(left));
      } catch (e) {
        throw new Error(`waiting for ${what}: ${(e as Error).message}`);
      }
    }
  }

  /** Waits for the n-th (1-based) response that satisfies `pick`, and returns it. */
  async nth(pick: (r: WatchResponse) => boolean, n: number, what: string): Promise<WatchResponse> {
    await this.waitUntil((rs) => rs.filter(pick).length >= n, what);
    return this.responses.filter(pick)[n - 1]!;
  }
}

/** The WatchSpec a create request asks for, as etcd reads it (empty key: "\0"; start 0: next write). */
export function specOf(c: Partial<WatchCreateRequest>, createdRev: bigint): WatchSpec {
  const key = c.key === undefined || c.key.length === 0 ? Uint8Array.of(0) : c.key;
  const start = c.startRevision ?? 0n;
  return {
    key,
    end: c.rangeEnd ?? new Uint8Array(0),
    startRev: start === 0n ? createdRev + 1n : start,
    prevKv: c.prevKv === true,
    noPut: (c.filters ?? []).includes(FilterType.NOPUT),
    noDelete: (c.filters ?? []).includes(FilterType.NODELETE),
  };
}

/** Whether the watch wants this event (key range and filters). */
export function wants(spec: WatchSpec, e: Event): boolean {
  if (e.type === 0 && spec.noPut) return false;
  if (e.type === 1 && spec.noDelete) return false;
  return watchMatchesKey(spec, e.kv!.key);
}

/** How many of the history's events the watch must have been given through revision `through`. */
export function expectedCount(history: readonly Event[], spec: WatchSpec, through: bigint): number {
  let n = 0;
  for (const e of history) {
    const rev = e.kv!.modRevision;
    if (rev >= spec.startRev && rev <= through && wants(spec, e)) n++;
  }
  return n;
}

/** Every event in the responses, in order. */
export function allEvents(rs: readonly WatchResponse[]): Event[] {
  return rs.flatMap((r) => r.events);
}

/** Is this the stream-wide answer to a progress request (watch_id -1, not a failed create)? */
export function isProgress(r: WatchResponse): boolean {
  return r.watchId === -1n && !r.created && !r.canceled && r.events.length === 0;
}

/**
 * Watch `id`'s responses from its created response on, with the stream-wide progress responses
 * that came while it was active (a client hands those to every watcher of the stream).
 */
export function responsesOf(all: readonly WatchResponse[], id: bigint): WatchResponse[] {
  const out: WatchResponse[] = [];
  let active = false;
  for (const r of all) {
    if (r.watchId === id) {
      if (r.created) active = true;
      if (active) out.push(r);
      if (r.canceled) active = false;
    } else if (active && isProgress(r)) out.push(r);
  }
  return out;
}
