// Segment file names: `%016x-%016x.wal` (sequence, index of the first entry the segment may hold),
// as etcd names them. Sequences are consecutive. The index is the last entry index written before
// the cut plus one; it normally grows from segment to segment (raft overwriting a conflicting tail
// can make it step back, which the rules below tolerate, as etcd's do).
import { joinPath, isNotFound, type FileSystem } from '../base/fs.js';
import { WalError, WalErr } from './errors.js';

export interface SegmentName {
  seq: bigint;
  index: bigint;
  name: string;
}

const WAL_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;

/** Where a segment is assembled before it is renamed into place; never read. */
export const SEGMENT_TMP_NAME = 'segment.tmp';

function hex16(n: bigint): string {
  return n.toString(16).padStart(16, '0');
}

export function segmentName(seq: bigint, index: bigint): string {
  return `${hex16(seq)}-${hex16(index)}.wal`;
}

export function parseSegmentName(name: string): SegmentName | undefined {
  const m = WAL_NAME.exec(name);
  if (m === null) return undefined;
  return { seq: BigInt(`0x${m[1]}`), index: BigInt(`0x${m[2]}`), name };
}

/** The WAL segments in `dir`, in sequence order; other files are ignored. Missing dir: none. */
export async function listSegments(fs: FileSystem, dir: string): Promise<SegmentName[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
  const out: SegmentName[] = [];
  for (const n of names) {
    const s = parseSegmentName(n);
    if (s !== undefined) out.push(s);
  }
  out.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
  return out;
}

/** Removes a segment left half-made by a crash during a cut (it was never renamed into place). */
export async function removeTmpSegment(fs: FileSystem, dir: string): Promise<void> {
  try {
    await fs.unlink(joinPath(dir, SEGMENT_TMP_NAME));
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/**
 * The position in `segs` of the segment to start reading at for a snapshot at `index`: the last one
 * whose first index is at most `index`. Throws etcd's "file not found" when there is none or the
 * sequence numbers from there on are not consecutive (a segment is missing).
 */
export function startSegment(segs: SegmentName[], index: bigint): number {
  let at = -1;
  for (let i = 0; i < segs.length; i++) if (segs[i]!.index <= index) at = i;
  if (at < 0) throw new WalError(WalErr.fileNotFound);
  for (let i = at + 1; i < segs.length; i++) {
    const prev = segs[i - 1]!;
    const cur = segs[i]!;
    if (cur.seq !== prev.seq + 1n) {
      throw new WalError(
        `${WalErr.fileNotFound}: segment after ${prev.name} is ${cur.name}, not sequence ${prev.seq + 1n}`,
      );
    }
  }
  return at;
}

/**
 * How many leading segments releaseTo(index) may delete: those before the last segment whose first
 * index is below `index` (etcd's ReleaseLockTo rule). Everything at or after `index` lives in the
 * kept segments; the last segment is never deleted.
 */
export function releasableCount(segs: SegmentName[], index: bigint): number {
  let firstAtOrAbove = segs.findIndex((s) => s.index >= index);
  if (firstAtOrAbove < 0) firstAtOrAbove = segs.length;
  return Math.max(0, firstAtOrAbove - 1);
}
