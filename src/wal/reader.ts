// Reading segments back: walk the frames of one segment checking the CRC chain, fold the records
// into what raft needs at restart (metadata, hard state, entries after the snapshot), and tell a
// torn tail from corruption.
//
// Why a failure in the last segment can be told apart: every save is one write followed by one
// fdatasync before the next write starts, so only the final write batch can be torn by a crash,
// and nothing valid is ever written after it. If a record fails and a later, intact record starts
// a new batch, the failed record belonged to a batch that was synced (and acknowledged): that is
// corruption, and open refuses. Otherwise the failure is the torn last write and is cut off.
import { equalBytes } from '../base/bytes.js';
import { emptyHardState, type Entry, type HardState } from '../raft/types.js';
import { joinPath, type FileSystem } from '../base/fs.js';
import { WalError, WalErr, corruptError } from './errors.js';
import type { SegmentName } from './segment.js';
import {
  FLAG_BATCH_START,
  RecordType,
  decodeFrame,
  frameCrc,
  isZeroWord,
  parseFrame,
  type Frame,
  type WalRecord,
  type WalSnapshot,
} from './record.js';

export interface ScanFailure {
  offset: number;
  reason: string;
}

export interface ScanResult {
  /** Offset just past the last valid record. */
  end: number;
  /** Chain value after the last valid record. */
  crc: number;
  records: number;
  /** Set when the segment holds bytes at `end` that are neither a valid record nor zeros. */
  failure?: ScanFailure;
}

function allZero(buf: Uint8Array, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

/**
 * Walks the records of one segment from offset 0, starting the chain at `startCrc` (0 when the
 * previous segment was not read), and hands each valid record to `onRecord`.
 */
export function scanSegment(buf: Uint8Array, startCrc: number, onRecord: (r: WalRecord) => void): ScanResult {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  let crc = startCrc;
  let records = 0;
  const fail = (reason: string): ScanResult => ({ end: off, crc, records, failure: { offset: off, reason } });
  while (off < buf.length) {
    if (off + 8 <= buf.length && isZeroWord(view, off)) {
      if (allZero(buf, off)) break;
      return fail('zero length word followed by non-zero bytes');
    }
    const f = parseFrame(buf, view, off);
    if (typeof f === 'string') return fail(f);
    if (records === 0 && f.type !== RecordType.Crc) return fail('segment does not start with a crc record');
    if (f.type === RecordType.Crc) {
      if (records !== 0) return fail('crc record inside a segment');
      if (crc !== 0 && f.storedCrc !== crc) return fail(`${WalErr.crcMismatch} between segments`);
      crc = f.storedCrc;
    } else {
      const want = frameCrc(f, crc);
      if (want !== f.storedCrc) return fail(WalErr.crcMismatch);
      crc = want;
    }
    onRecord(decodeFrame(f));
    records++;
    off = f.end;
  }
  return { end: off, crc, records };
}

/**
 * After a failure at `from` (chain value `crcAtFrom`), looks for an intact record that starts a
 * later write batch: a record whose crc continues from the frame just before it and is flagged as
 * a batch start (or follows one). Returns its offset, or undefined when everything from `from` on
 * can only be the torn last write.
 */
export function findLaterBatch(buf: Uint8Array, from: number, crcAtFrom: number): number | undefined {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const crcEndingAt = new Map<number, number>([[from, crcAtFrom]]);
  const frameEndingAt = new Map<number, Frame>();
  for (let q = from; q + 8 <= buf.length; q += 8) {
    if (isZeroWord(view, q)) continue;
    const f = parseFrame(buf, view, q);
    if (typeof f === 'string') continue;
    const seed = crcEndingAt.get(q);
    if (seed !== undefined && f.type !== RecordType.Crc && frameCrc(f, seed) === f.storedCrc) {
      if (q > from && (f.flags & FLAG_BATCH_START) !== 0) return q;
      const before = frameEndingAt.get(q);
      if (before !== undefined && before.offset > from && (before.flags & FLAG_BATCH_START) !== 0) {
        return before.offset;
      }
    }
    crcEndingAt.set(f.end, f.storedCrc);
    frameEndingAt.set(f.end, f);
  }
  return undefined;
}

export function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/**
 * What the records read at open add up to. Entries after `start.index` are kept; a later entry
 * with index i replaces the kept entry i and everything after it (raft truncated its tail). A
 * restore marker at or after `start` voids every entry read before it: the log was replaced by
 * that snapshot, and the entries that follow continue from it (`base`).
 */
export class ReadState {
  metadata: Uint8Array | undefined;
  hardState: HardState = emptyHardState;
  entries: Entry[] = [];
  /** Whether the marker of the snapshot we start from was read. */
  matched = false;
  /** The newest snapshot marker read. */
  lastSnapshot: WalSnapshot | undefined;
  /** The snapshot `entries` follow: `start`, or a later restore marker. */
  base: WalSnapshot;
  /** The highest of the last entry index and the snapshot markers read: names the next segment. */
  lastIndex = 0n;

  constructor(readonly start: WalSnapshot) {
    this.base = start;
  }

  apply(r: WalRecord): void {
    switch (r.type) {
      case RecordType.Entry:
        this.addEntry(r.entry);
        return;
      case RecordType.State:
        this.hardState = r.state;
        return;
      case RecordType.Metadata:
        if (this.metadata !== undefined && !equalBytes(this.metadata, r.data)) {
          throw new WalError(WalErr.metadataConflict, true);
        }
        this.metadata = r.data;
        return;
      case RecordType.Crc:
        return;
      case RecordType.Snapshot:
      case RecordType.Restore:
        this.addMarker(r.snapshot, r.type === RecordType.Restore);
        return;
    }
  }

  private addMarker(snap: WalSnapshot, restore: boolean): void {
    if (snap.index === this.start.index) {
      if (snap.term !== this.start.term) throw new WalError(WalErr.snapshotMismatch);
      this.matched = true;
    }
    if (restore) {
      // Whatever was kept came before the snapshot that replaced the log. A restore below `start`
      // only voids entries; the log read from `start` on still counts from `start`.
      this.entries.length = 0;
      if (snap.index >= this.base.index) this.base = snap;
    }
    this.lastSnapshot = snap;
    if (snap.index > this.lastIndex) this.lastIndex = snap.index;
  }

  private addEntry(e: Entry): void {
    this.lastIndex = e.index;
    if (e.index <= this.base.index) {
      // The log was cut back to e.index (at or below the snapshot) and rewritten: whatever was kept
      // above the snapshot came before this entry and is superseded.
      this.entries.length = 0;
      return;
    }
    const up = e.index - this.base.index - 1n;
    if (up > BigInt(this.entries.length)) {
      throw new WalError(
        `${WalErr.sliceOutOfRange}: entry ${e.index} after ${this.entries.length} entries`,
        true,
      );
    }
    this.entries.length = Number(up);
    this.entries.push(e);
  }
}

/** What open() cut off the end of the last segment. */
export interface WalRepair {
  segment: string;
  /** Offset of the first byte removed: the end of the last valid record. */
  offset: number;
  /** Bytes from `offset` up to the last non-zero byte that was removed. */
  droppedBytes: number;
  reason: string;
}

function lastNonZero(buf: Uint8Array): number {
  let i = buf.length - 1;
  while (i >= 0 && buf[i] === 0) i--;
  return i;
}

/**
 * Reads the segments from position `from` to the last, handing each valid record to `apply`. A failure in a segment
 * that is not the last, or one followed by an intact later write, is corruption; otherwise the
 * failure is the torn last write, reported for the caller to cut off at `tailEnd`.
 */
export async function readSegments(
  fs: FileSystem,
  dir: string,
  segments: SegmentName[],
  from: number,
  apply: (r: WalRecord) => void,
): Promise<{ crc: number; tailEnd: number; repaired: WalRepair | undefined }> {
  let crc = 0;
  let tailEnd = 0;
  let repaired: WalRepair | undefined;
  for (let i = from; i < segments.length; i++) {
    const name = segments[i]!.name;
    const last = i === segments.length - 1;
    const buf = await fs.readFile(joinPath(dir, name));
    const r = scanSegment(buf, crc, apply);
    crc = r.crc;
    tailEnd = r.end;
    if (r.failure !== undefined) {
      const { offset, reason } = r.failure;
      if (!last) throw corruptError(name, offset, reason, ' (only the last segment may have a torn tail)');
      const later = findLaterBatch(buf, offset, r.crc);
      if (later !== undefined) {
        throw corruptError(name, offset, reason, `; an intact later write follows at offset ${later}`);
      }
      repaired = { segment: name, offset, droppedBytes: lastNonZero(buf) + 1 - offset, reason };
    }
    if (last && r.records === 0) {
      throw corruptError(
        name,
        0,
        r.failure?.reason ?? 'empty file',
        ': the last segment holds no valid record',
      );
    }
  }
  return { crc, tailEnd, repaired };
}
