// Revisions and their byte form, the key of the backend's `key` bucket: 8 bytes big-endian main,
// '_', 8 bytes big-endian sub, and a trailing 't' on a tombstone (17 or 18 bytes), so the
// backend's byte order is revision order (etcd's revision.go).
import { assert } from '../base/assert.js';

/** A change's position: main is the store revision of its transaction, sub its index within it. */
export interface Revision {
  readonly main: bigint;
  readonly sub: bigint;
}

export const REV_BYTES_LEN = 17;
export const MARKED_REV_BYTES_LEN = 18;
const SEPARATOR = 0x5f; // '_'
const TOMBSTONE_MARK = 0x74; // 't'

export const ZERO_REV: Revision = { main: 0n, sub: 0n };

export function rev(main: bigint, sub = 0n): Revision {
  return { main, sub };
}

export function revGreaterThan(a: Revision, b: Revision): boolean {
  return a.main > b.main || (a.main === b.main && a.sub > b.sub);
}

export function revEqual(a: Revision, b: Revision): boolean {
  return a.main === b.main && a.sub === b.sub;
}

export function compareRev(a: Revision, b: Revision): number {
  if (a.main !== b.main) return a.main < b.main ? -1 : 1;
  if (a.sub !== b.sub) return a.sub < b.sub ? -1 : 1;
  return 0;
}

// int64 <-> bytes through one scratch word: a BigInt64Array store wraps the bigint into two 32-bit
// halves without bigint shifts, and a DataView is avoided because taking .buffer of a small
// (on-heap) typed array makes V8 move it off the heap on every call.
const SCRATCH_I64 = new BigInt64Array(1);
const SCRATCH_U32 = new Uint32Array(SCRATCH_I64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LO = LITTLE_ENDIAN ? 0 : 1;
const HI = LITTLE_ENDIAN ? 1 : 0;

function putInt64(b: Uint8Array, off: number, v: bigint): void {
  SCRATCH_I64[0] = v;
  const hi = SCRATCH_U32[HI]!;
  const lo = SCRATCH_U32[LO]!;
  b[off] = hi >>> 24;
  b[off + 1] = hi >>> 16;
  b[off + 2] = hi >>> 8;
  b[off + 3] = hi;
  b[off + 4] = lo >>> 24;
  b[off + 5] = lo >>> 16;
  b[off + 6] = lo >>> 8;
  b[off + 7] = lo;
}

function getInt64(b: Uint8Array, off: number): bigint {
  SCRATCH_U32[HI] = ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
  SCRATCH_U32[LO] = ((b[off + 4]! << 24) | (b[off + 5]! << 16) | (b[off + 6]! << 8) | b[off + 7]!) >>> 0;
  return SCRATCH_I64[0]!;
}

/** The backend key of a revision; with tombstone, the 18-byte marked form. */
export function revToBytes(r: Revision, tombstone = false): Uint8Array {
  const b = new Uint8Array(tombstone ? MARKED_REV_BYTES_LEN : REV_BYTES_LEN);
  putInt64(b, 0, r.main);
  b[8] = SEPARATOR;
  putInt64(b, 9, r.sub);
  if (tombstone) b[17] = TOMBSTONE_MARK;
  return b;
}

/** The first 8 bytes only: main revision mainRev with no sub part, as a range bound. */
export function mainRevBytes(main: bigint): Uint8Array {
  const b = new Uint8Array(8);
  putInt64(b, 0, main);
  return b;
}

export function bytesToRev(b: Uint8Array): Revision {
  assert(
    (b.length === REV_BYTES_LEN || b.length === MARKED_REV_BYTES_LEN) && b[8] === SEPARATOR,
    'malformed revision bytes in the key bucket',
  );
  return { main: getInt64(b, 0), sub: getInt64(b, 9) };
}

export function isTombstone(b: Uint8Array): boolean {
  return b.length === MARKED_REV_BYTES_LEN && b[17] === TOMBSTONE_MARK;
}

/** A string naming a revision, for sets of revisions (compaction's keep set). */
export function revId(r: Revision): string {
  return `${r.main}_${r.sub}`;
}

export type RevisionSet = Set<string>;
