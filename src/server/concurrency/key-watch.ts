// Watching keys from inside the member, as clientv3's Watch does for etcd's concurrency recipes:
// a KeyWatch registers one watcher on the member's WatchableStore and queues the event batches the
// store hands it; next() takes them in order. On top of it, waitDelete / waitDeletes are the queue
// waits of etcd's concurrency package (clientv3/concurrency/key.go): wait until every key under a
// prefix created at or before a revision is gone.
import { assert } from '../../base/index.js';
import { EtcdError, Err } from '../../base/errors.js';
import { prefixEnd } from '../../base/bytes.js';
import { Event_EventType, type Event } from '../../generated/mvccpb.js';
import type { ResponseHeader } from '../../generated/etcdserverpb.js';
import {
  RangeRequest,
  RangeRequest_SortOrder,
  RangeRequest_SortTarget,
} from '../../generated/etcdserverpb.js';
import type { Watcher, WatchBatch, WatchableStore, WatchSink } from '../watch.js';
import { abortError, type KvClient } from './kv-client.js';

/** Batches a KeyWatch holds before it asks the store to hold the rest (the store then catches it up). */
const MAX_QUEUED_BATCHES = 64;

/** One batch of events, with the revision through which the watcher has now seen everything. */
export interface KeyEvents {
  events: Event[];
  rev: bigint;
}

/** Why a KeyWatch ended without the caller cancelling it: the revisions it needed were compacted. */
export interface WatchEnd {
  compactRev: bigint;
}

export class KeyWatch implements WatchSink {
  private readonly watcher: Watcher;
  private readonly queue: WatchBatch[] = [];
  private victim = false;
  private ended: WatchEnd | undefined;
  private wake: (() => void) | undefined;

  /** Watches [key, end) (end empty: the key alone) from `startRev` on. */
  constructor(
    private readonly store: WatchableStore,
    key: Uint8Array,
    end: Uint8Array,
    startRev: bigint,
  ) {
    const spec = { key, end, startRev, prevKv: false, noPut: false, noDelete: false };
    // A member that stops closes its store and feeds no watcher again; the wait then ends when the
    // caller's call does (the gRPC server ends every call when it stops).
    this.watcher = store.watch(spec, this, 0n);
  }

  deliver(_w: Watcher, batch: WatchBatch): boolean {
    this.queue.push(batch);
    this.notify();
    if (this.queue.length < MAX_QUEUED_BATCHES) return true;
    this.victim = true;
    return false;
  }

  compacted(_w: Watcher, compactRev: bigint): void {
    this.ended = { compactRev };
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /**
   * The next batch, oldest first; a WatchEnd once the store has ended the watcher and the queue is
   * empty. Rejects with the signal's error if the caller gives up first.
   */
  async next(signal: AbortSignal): Promise<KeyEvents | WatchEnd> {
    for (;;) {
      if (signal.aborted) throw abortError(signal);
      const batch = this.queue.shift();
      if (batch !== undefined) {
        if (this.victim && this.queue.length === 0) {
          this.victim = false;
          this.store.resume(this.watcher);
        }
        return { events: batch.events.map((e) => e.event), rev: batch.rev };
      }
      if (this.ended !== undefined) return this.ended;
      await new Promise<void>((resolve) => {
        const onAbort = (): void => resolve();
        signal.addEventListener('abort', onAbort, { once: true });
        this.wake = () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Removes the watcher from the store; the queue is dropped. */
  cancel(): void {
    this.store.cancel(this.watcher);
    this.queue.length = 0;
  }
}

/** What clientv3 reports when a watch it waits on is compacted away (rpctypes.ErrCompacted). */
export function compactedError(): EtcdError {
  return new EtcdError(Err.compacted);
}

/** Resolves once `key` is deleted at or after revision `rev`. */
export async function waitDelete(
  store: WatchableStore,
  key: Uint8Array,
  rev: bigint,
  signal: AbortSignal,
): Promise<void> {
  const w = new KeyWatch(store, key, new Uint8Array(0), rev);
  try {
    for (;;) {
      const got = await w.next(signal);
      if (!('events' in got)) throw compactedError();
      if (got.events.some((e) => e.type === Event_EventType.DELETE)) return;
    }
  } finally {
    w.cancel();
  }
}

/** RangeRequest for the keys under `pfx`, sorted by create revision, one key (clientv3's WithFirst/LastCreate). */
export function byCreateRequest(
  pfx: Uint8Array,
  order: 'first' | 'last',
  maxCreateRevision = 0n,
): RangeRequest {
  return RangeRequest.create({
    key: pfx,
    rangeEnd: prefixEnd(pfx),
    limit: 1n,
    sortTarget: RangeRequest_SortTarget.CREATE,
    sortOrder: order === 'first' ? RangeRequest_SortOrder.ASCEND : RangeRequest_SortOrder.DESCEND,
    maxCreateRevision,
  });
}

/**
 * Waits until no key under `pfx` has a create revision ≤ `maxCreateRev`: each round reads the newest
 * such key and waits for its deletion. Resolves with the header of the read that found none.
 */
export async function waitDeletes(
  client: KvClient,
  pfx: Uint8Array,
  maxCreateRev: bigint,
  signal: AbortSignal,
): Promise<ResponseHeader> {
  assert(maxCreateRev > 0n, 'waitDeletes needs a positive create revision bound');
  for (;;) {
    const resp = await client.range(byCreateRequest(pfx, 'last', maxCreateRev), signal);
    const header = resp.header!;
    const last = resp.kvs[0];
    if (last === undefined) return header;
    await waitDelete(client.watchable, last.key, header.revision, signal);
  }
}
