// What the apply code needs from the MVCC store: a read view at one revision and a write view that
// gives every change one main revision. Keeping this narrow lets apply be tested on its own.
import type { KeyValue } from '../generated/mvccpb.js';

export interface RangeOptions {
  /** Revision to read at; 0 means the view's revision. */
  rev: bigint;
  /** Maximum number of kvs to return; 0 means no limit. */
  limit: number;
  countOnly: boolean;
}

export interface RangeResult {
  kvs: KeyValue[];
  /** Number of keys in the range at that revision, before the limit. */
  count: number;
  /** The view's revision (not the requested one), as etcd reports it. */
  rev: bigint;
}

export interface ReadView {
  /** The revision this view reads at when no revision is asked for. */
  readonly rev: bigint;
  /** The oldest revision that can still be read (the compact revision). */
  readonly firstRev: bigint;
  /** [key, end): end empty = the single key; end "\0" = every key >= key. Throws EtcdError. */
  range(key: Uint8Array, end: Uint8Array, opts: RangeOptions): RangeResult;
}

export interface WriteView extends ReadView {
  /** Writes key=value under the view's write revision; returns that revision. */
  put(key: Uint8Array, value: Uint8Array, lease: bigint): bigint;
  /** Deletes [key, end); returns the number of keys deleted and the revision to report. */
  deleteRange(key: Uint8Array, end: Uint8Array): { deleted: number; rev: bigint };
}

/** Lease lookups the apply code needs; leases arrive with the Lease service. */
export interface LeaseLookup {
  exists(id: bigint): boolean;
}
