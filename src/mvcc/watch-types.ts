// The contract between the watchable store (src/mvcc/watchable-store.ts) and whoever carries its
// events to clients (the gRPC Watch service, the HTTP gateway, tests, the simulator). The store
// owns which events a watcher has been given; a sink owns buffering and the wire. Events are shared
// between watchers: each is encoded at most once per form (with and without prev_kv), however many
// watchers receive it.
import type { Event } from '../generated/mvccpb.js';

/** What a watcher watches, in the store's terms (the gRPC layer validates and converts). */
export interface WatchSpec {
  key: Uint8Array;
  /** Empty: the single `key`. One zero byte: every key ≥ `key`. Otherwise the range [key, end). */
  end: Uint8Array;
  /** First revision wanted; 0n means "from the next write" (current revision + 1). */
  startRev: bigint;
  /** Events carry the key's previous value (PUT: the value overwritten; DELETE: the value deleted). */
  prevKv: boolean;
  /** Filters: leave out PUT events / DELETE events. */
  noPut: boolean;
  noDelete: boolean;
}

/** One event as stored, with its protobuf encodings (mvccpb.Event) cached on first use. */
export interface SharedEvent {
  readonly event: Event;
  /** mvccpb.Event bytes; without prev_kv the prevKv field is left out. Encoded once per form. */
  encoded(withPrevKv: boolean): Uint8Array;
}

/**
 * Events of whole revisions for one watcher, ascending by (revision, sub-revision). `rev` is the
 * revision through which the watcher has now been given everything it watches: at least the
 * revision of the last event, and more when later revisions held nothing for it.
 */
export interface WatchBatch {
  readonly events: readonly SharedEvent[];
  readonly rev: bigint;
}

/** Where a watcher's events go. Calls come synchronously from the store. */
export interface WatchSink {
  /**
   * Hands over a batch. Returning false means the sink's buffer is over its bound: the batch was
   * still taken, but the store stops delivering to this watcher (it becomes a victim, holding no
   * events) until the sink calls `WatchableStore.resume(watcher)`, after which the store catches it
   * up from the backend from `progressRev + 1`. Nothing is ever dropped.
   */
  deliver(watcher: Watcher, batch: WatchBatch): boolean;
  /**
   * The revisions the watcher still needed were compacted away (`compactRev` is the store's
   * compaction revision). The store has removed the watcher; the sink tells the client (etcd:
   * canceled with compact_revision).
   */
  compacted(watcher: Watcher, compactRev: bigint): void;
}

/** A registered watcher, as the store exposes it to sinks. */
export interface Watcher {
  readonly spec: WatchSpec;
  /** The sink's own tag (the gRPC stream's watch_id). */
  readonly tag: bigint;
  /**
   * Every event of revision ≤ progressRev that this watcher watches has been handed to its sink.
   * A progress notification may claim this revision and no more.
   */
  readonly progressRev: bigint;
  /** True while the watcher is caught up with the store (it receives new revisions as they commit). */
  readonly synced: boolean;
}
