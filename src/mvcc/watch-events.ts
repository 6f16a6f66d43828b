// Events as watchers receive them: StoredEvent, one per change, shared by every watcher it goes
// to and encoded as mvccpb.Event at most once per form (with and without prev_kv); and the read
// of whole revisions of history from the backend's `key` bucket that catches unsynced watchers
// up (etcd's kvsToEvents), bounded in events per read so a catch-up step stays short.
import { assert } from '../base/assert.js';
import type { Backend } from '../backend/backend.js';
import { copyBytes } from '../backend/copy-bytes.js';
import { Event as EventCodec } from '../generated/mvccpb.js';
import { decodeKeyValue, EventType, type Event, type KeyValue } from './key-value.js';
import { bytesToRev, isTombstone, mainRevBytes } from './revision.js';
import type { SharedEvent } from './watch-types.js';

const EMPTY = new Uint8Array(0);

export class StoredEvent implements SharedEvent {
  /** A shallow copy of the event it was made from: setting prevKv here changes no one else's. */
  readonly event: Event;
  private bytesWithPrev: Uint8Array | undefined;
  private bytesWithoutPrev: Uint8Array | undefined;

  constructor(ev: Event) {
    this.event = ev.prevKv === undefined ? { type: ev.type, kv: ev.kv } : { ...ev };
  }

  /** Attaches the previous KeyValue; only before the event has been encoded. */
  setPrevKv(prev: KeyValue): void {
    assert(
      this.bytesWithPrev === undefined && this.bytesWithoutPrev === undefined,
      'prevKv set after encoding',
    );
    this.event.prevKv = prev;
  }

  encoded(withPrevKv: boolean): Uint8Array {
    const ev = this.event;
    if (withPrevKv && ev.prevKv !== undefined) {
      return (this.bytesWithPrev ??= EventCodec.encode(ev));
    }
    return (this.bytesWithoutPrev ??= EventCodec.encode({ type: ev.type, kv: ev.kv }));
  }
}

/** Whole revisions of history read from the backend. */
export interface HistoryRead {
  /** Every change of revisions from..through, in (revision, sub-revision) order; no prevKv. */
  events: StoredEvent[];
  /** The last revision read whole: `to` unless the read stopped early at maxEvents. */
  through: bigint;
}

/**
 * Reads the changes of revisions from..to from the `key` bucket. It stops before the first
 * revision that would start once maxEvents events are read, so a revision is never split (one
 * with more events than maxEvents is read whole). PUT events carry the stored KeyValue; DELETE
 * events carry etcd's form: the key, the deletion revision as modRevision, everything else zero.
 */
export function readHistory(backend: Backend, from: bigint, to: bigint, maxEvents: number): HistoryRead {
  const events: StoredEvent[] = [];
  if (from > to) return { events, through: to };
  let through = to;
  let lastMain = -1n;
  backend.read((tx) =>
    tx.forEach('key', mainRevBytes(from), mainRevBytes(to + 1n), (k, v) => {
      const r = bytesToRev(k);
      if (r.main !== lastMain) {
        if (events.length >= maxEvents) {
          through = lastMain;
          return false;
        }
        assert(r.main > lastMain, 'key bucket out of revision order');
        lastMain = r.main;
      }
      events.push(new StoredEvent(decodeEvent(k, v, r.main)));
      return true;
    }),
  );
  return { events, through };
}

function decodeEvent(revBytes: Uint8Array, value: Uint8Array, main: bigint): Event {
  const stored = decodeKeyValue(value);
  assert(stored.key.length > 0, `revision ${main} in the key bucket holds no key`);
  // The decoded fields are views into the backend's bytes; events outlive the read.
  const key = copyBytes(stored.key);
  if (isTombstone(revBytes)) {
    const kv = { key, createRevision: 0n, modRevision: main, version: 0n, value: EMPTY, lease: 0n };
    return { type: EventType.DELETE, kv };
  }
  assert(
    stored.modRevision === main,
    `revision ${main} in the key bucket holds mod_revision ${stored.modRevision}`,
  );
  stored.key = key;
  if (stored.value.length !== 0) stored.value = copyBytes(stored.value);
  return { type: EventType.PUT, kv: stored };
}
