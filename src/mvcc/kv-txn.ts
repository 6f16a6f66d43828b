// Reads at a revision and the write transaction (etcd's kvstore_txn.go). A TxnWrite gives every
// change it makes the same main revision (the store's current revision + 1) and its own sub
// revision; its reads see its own changes. It runs inside a backend write transaction the caller
// owns, so the server can apply a batch of entries, and its applied index, atomically.
import { assert, AssertionError } from '../base/assert.js';
import { Err, EtcdError } from '../base/errors.js';
import { equalBytes } from '../base/bytes.js';
import type { ReadTx, WriteTx } from '../backend/backend.js';
import { copyBytes } from '../backend/copy-bytes.js';
import {
  decodeKeyValue,
  encodeKeyValue,
  encodeTombstone,
  EventType,
  type Event,
  type KeyValue,
} from './key-value.js';
import type { TreeIndex } from './tree-index.js';
import { revToBytes, type Revision } from './revision.js';

export interface RangeOptions {
  /** Revision to read at; <= 0 or absent = the current revision. */
  rev?: bigint;
  /** Most kvs to return; <= 0 or absent = all. count is not affected. */
  limit?: number;
  /** Return only count (kvs empty). */
  countOnly?: boolean;
  /** Return kvs with empty values. */
  keysOnly?: boolean;
}

export interface RangeResult {
  kvs: KeyValue[];
  /** Number of keys in the range at the revision read, whatever the limit. */
  count: number;
  /** The store revision the read ran against (the response header's revision). */
  rev: bigint;
}

export interface PutOptions {
  /** Read and return the previous KeyValue (default true); false saves a backend read. */
  prevKv?: boolean;
}

export interface TxnWrite {
  /** The store revision when the transaction began; its changes get beginRev + 1. */
  readonly beginRev: bigint;
  /** The revision a reply reports: beginRev + 1 once something changed, else beginRev. */
  readonly rev: bigint;
  range(key: Uint8Array, end?: Uint8Array, opts?: RangeOptions): RangeResult;
  /**
   * Puts key = value with lease (0n = none). Returns the previous KeyValue if the key existed, and
   * sets it as the event's prevKv; with opts.prevKv false it reads nothing and returns undefined.
   */
  put(key: Uint8Array, value: Uint8Array, lease?: bigint, opts?: PutOptions): KeyValue | undefined;
  /** Deletes the keys of the range that exist; returns their KeyValues before the delete. */
  deleteRange(key: Uint8Array, end?: Uint8Array): KeyValue[];
  /** Finishes the transaction and returns its events in order (empty when nothing changed). */
  end(): Event[];
}

/** What a TxnWrite needs from its store. */
export interface TxnHost {
  readonly index: TreeIndex;
  readonly compactMainRev: bigint;
  /** Called by end(): the transaction moved the store to newRev (or changed nothing). */
  finishTxn(txn: TxnWrite, changed: boolean): void;
}

const EMPTY = new Uint8Array(0);

/**
 * Reads the KeyValue of `key` stored at put revision r. The stored bytes are only peeked at: the
 * value is copied out and the key is the caller's (checked against the stored one). A missing
 * revision or another key there means the index and the backend diverged.
 */
export function readKeyValue(tx: ReadTx, r: Revision, key: Uint8Array, keysOnly = false): KeyValue {
  const bytes = tx.peek('key', revToBytes(r));
  if (bytes === undefined) {
    throw new AssertionError(`range cannot find revision ${r.main}.${r.sub} in the key bucket`);
  }
  const kv = decodeKeyValue(bytes, keysOnly);
  if (!equalBytes(kv.key, key)) throw new AssertionError(`revision ${r.main}.${r.sub} holds another key`);
  kv.key = key;
  if (kv.value.length !== 0) kv.value = copyBytes(kv.value);
  return kv;
}

/** etcd's rangeKeys: validates the revision against curRev and the compaction, then reads. */
export function rangeKeys(
  host: TxnHost,
  tx: ReadTx,
  key: Uint8Array,
  end: Uint8Array | undefined,
  curRev: bigint,
  ro: RangeOptions | undefined,
): RangeResult {
  const want = ro?.rev ?? 0n;
  if (want > curRev) throw new EtcdError(Err.futureRev);
  const atRev = want <= 0n ? curRev : want;
  if (atRev < host.compactMainRev) throw new EtcdError(Err.compacted);
  if (end === undefined || end.length === 0) return rangeOneKey(host, tx, key, atRev, curRev, ro);
  if (ro?.countOnly === true) {
    return { kvs: [], count: host.index.revisions(key, end, atRev, -1).count, rev: curRev };
  }
  const limit = ro?.limit !== undefined && ro.limit > 0 ? ro.limit : 0;
  const { keys, revs, count } = host.index.revisions(key, end, atRev, limit);
  const keysOnly = ro?.keysOnly === true;
  const kvs = new Array<KeyValue>(revs.length);
  for (let i = 0; i < revs.length; i++) kvs[i] = readKeyValue(tx, revs[i]!, keys[i]!, keysOnly);
  return { kvs, count, rev: curRev };
}

/** The single-key range, the most common read: one hash lookup, no range walk. */
function rangeOneKey(
  host: TxnHost,
  tx: ReadTx,
  key: Uint8Array,
  atRev: bigint,
  curRev: bigint,
  ro: RangeOptions | undefined,
): RangeResult {
  const ki = host.index.keyIndex(key);
  const got = ki?.get(atRev);
  if (ki === undefined || got === undefined) return { kvs: [], count: 0, rev: curRev };
  if (ro?.countOnly === true) return { kvs: [], count: 1, rev: curRev };
  return { kvs: [readKeyValue(tx, got.modified, ki.key, ro?.keysOnly === true)], count: 1, rev: curRev };
}

export class StoreTxnWrite implements TxnWrite {
  private readonly events: Event[] = [];
  private ended = false;

  /** The main revision of every change: beginRev + 1. */
  private readonly main: bigint;

  constructor(
    private readonly host: TxnHost,
    private readonly tx: WriteTx,
    readonly beginRev: bigint,
  ) {
    this.main = beginRev + 1n;
  }

  get rev(): bigint {
    return this.events.length > 0 ? this.main : this.beginRev;
  }

  range(key: Uint8Array, end?: Uint8Array, opts?: RangeOptions): RangeResult {
    assert(!this.ended, 'range on an ended TxnWrite');
    return rangeKeys(this.host, this.tx, key, end, this.rev, opts);
  }

  put(key: Uint8Array, value: Uint8Array, lease = 0n, opts?: PutOptions): KeyValue | undefined {
    assert(!this.ended, 'put on an ended TxnWrite');
    assert(key.length > 0, 'put of an empty key');
    const index = this.host.index;
    const main = this.main;
    const idxRev: Revision = { main, sub: BigInt(this.events.length) };
    const ki = index.keyIndex(key);
    const got = ki?.get(main);
    let prevKv: KeyValue | undefined;
    let createRevision = main;
    let version = 1n;
    if (got !== undefined) {
      createRevision = got.created.main;
      version = got.ver + 1n;
      if (opts?.prevKv !== false) prevKv = readKeyValue(this.tx, got.modified, ki!.key);
    }
    const kv: KeyValue = { key, createRevision, modRevision: main, version, value, lease };
    this.tx.put('key', revToBytes(idxRev), encodeKeyValue(kv));
    if (ki !== undefined) ki.putRev(idxRev);
    else index.put(key, idxRev);
    this.events.push(
      prevKv === undefined ? { type: EventType.PUT, kv } : { type: EventType.PUT, kv, prevKv },
    );
    return prevKv;
  }

  deleteRange(key: Uint8Array, end?: Uint8Array): KeyValue[] {
    assert(!this.ended, 'deleteRange on an ended TxnWrite');
    const { keys, revs } = this.host.index.range(key, end, this.rev);
    const deleted = new Array<KeyValue>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const prevKv = readKeyValue(this.tx, revs[i]!, keys[i]!);
      this.delete(keys[i]!, prevKv);
      deleted[i] = prevKv;
    }
    return deleted;
  }

  end(): Event[] {
    assert(!this.ended, 'TxnWrite ended twice');
    this.ended = true;
    this.host.finishTxn(this, this.events.length > 0);
    return this.events;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  private delete(key: Uint8Array, prevKv: KeyValue): void {
    const main = this.main;
    const idxRev: Revision = { main, sub: BigInt(this.events.length) };
    this.tx.put('key', revToBytes(idxRev, true), encodeTombstone(key));
    assert(this.host.index.tombstone(key, idxRev), 'cannot tombstone an existing key');
    const kv: KeyValue = { key, createRevision: 0n, modRevision: main, version: 0n, value: EMPTY, lease: 0n };
    this.events.push({ type: EventType.DELETE, kv, prevKv });
  }
}
