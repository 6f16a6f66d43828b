// The Backend interface: named buckets of byte keys and byte values in byte order, read in
// synchronous snapshots and written in synchronous all-or-nothing transactions. It plays the role
// of etcd's bbolt backend. Two implementations honour it (memory, LMDB) and one contract test runs
// against both (backend-contract.test.ts).

/** The buckets every backend has (etcd's bbolt bucket names, so the layout reads the same). */
export const BUCKETS = [
  'key',
  'meta',
  'lease',
  'alarm',
  'cluster',
  'members',
  'members_removed',
  'auth',
  'authUsers',
  'authRoles',
] as const;

export type Bucket = (typeof BUCKETS)[number];

export interface BackendEntry {
  key: Uint8Array;
  value: Uint8Array;
}

/**
 * A range read as a list, through a walk that stops when its callback returns false; a limit of 0
 * or undefined means no limit.
 */
export function collectRange(
  limit: number | undefined,
  walk: (fn: (key: Uint8Array, value: Uint8Array) => boolean) => void,
): BackendEntry[] {
  const out: BackendEntry[] = [];
  const max = limit !== undefined && limit > 0 ? limit : Infinity;
  walk((key, value) => {
    out.push({ key, value });
    return out.length < max;
  });
  return out;
}

/**
 * A consistent view of the backend. Returned bytes must not be mutated by the caller; they stay
 * valid after the transaction ends.
 */
export interface ReadTx {
  get(bucket: Bucket, key: Uint8Array): Uint8Array | undefined;
  /**
   * Like get, without the copy: the bytes stay valid only until the next call on this backend.
   * For callers that decode at once and keep nothing of the buffer (mvcc's reads).
   */
  peek(bucket: Bucket, key: Uint8Array): Uint8Array | undefined;
  /**
   * Entries with start <= key < end in byte order; end undefined = to the end of the bucket;
   * limit undefined or 0 = all.
   */
  range(bucket: Bucket, start: Uint8Array, end: Uint8Array | undefined, limit?: number): BackendEntry[];
  /** Like range, but streams: visits entries in byte order and stops when fn returns false. */
  forEach(
    bucket: Bucket,
    start: Uint8Array,
    end: Uint8Array | undefined,
    fn: (key: Uint8Array, value: Uint8Array) => boolean | void,
  ): void;
}

/** A write transaction sees its own writes. put copies the bytes it is given. */
export interface WriteTx extends ReadTx {
  put(bucket: Bucket, key: Uint8Array, value: Uint8Array): void;
  /** Returns true when the key existed. */
  delete(bucket: Bucket, key: Uint8Array): boolean;
  /** Runs fn after this transaction has committed (in registration order). */
  onCommit(fn: () => void): void;
  /** Runs fn after this transaction has been rolled back because its callback or commit threw. */
  onAbort(fn: () => void): void;
}

export interface Backend {
  /** Runs fn against a consistent snapshot. Called inside write(), it sees that write's changes. */
  read<T>(fn: (tx: ReadTx) => T): T;
  /**
   * Runs fn in one atomic, synchronous transaction: if fn throws, nothing it wrote is kept and the
   * error is rethrown. Write transactions do not nest; fn must not return a promise.
   */
  write<T>(fn: (tx: WriteTx) => T): T;
  /** Resolves once everything committed before the call is durable on disk. */
  sync(): Promise<void>;
  /** Bytes the backend occupies on disk (etcd's db size). */
  sizeBytes(): number;
  /** Bytes of pages holding live data (etcd's db size in use). */
  sizeInUseBytes(): number;
  close(): Promise<void>;
}

/** True for promises and other thenables, which a synchronous write callback must not return. */
export function isThenable(v: unknown): boolean {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}
