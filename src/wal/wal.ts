// The write-ahead log: raft's hard state and entries, appended in segment files and made durable
// before raft may send a message or apply anything (DESIGN §1). One save = one write batch = one
// write + one fdatasync (the caller's group commit). Segments are cut when full: the next one is
// assembled under a tmp name, synced, renamed into place and the directory synced, so a segment
// name always refers to a complete header. Open reads everything after the caller's snapshot,
// repairs a torn tail in the last segment and refuses any other damage (see reader.ts).
import { assert } from '../base/assert.js';
import { dirName, joinPath, isNotFound, pathExists, type FileHandle, type FileSystem } from '../base/fs.js';
import { silentLogger, type Logger } from '../base/log.js';
import { emptyHardState, type Entry, type HardState } from '../raft/types.js';
import { WalError, WalErr, corruptError } from './errors.js';
import { mkdirDurable } from './durable-dir.js';
import { ReadState, readSegments, sameHardState, type WalRepair } from './reader.js';
import { RecordType, encodeBatch, type WalRecord, type WalSnapshot } from './record.js';
import {
  SEGMENT_TMP_NAME,
  listSegments,
  releasableCount,
  removeTmpSegment,
  segmentName,
  startSegment,
  type SegmentName,
} from './segment.js';

/** etcd's SegmentSizeBytes. A segment grows past it by at most one batch, then a new one is cut. */
export const DEFAULT_SEGMENT_SIZE_BYTES = 64 * 1000 * 1000;

export interface WalOptions {
  segmentSizeBytes?: number;
  logger?: Logger;
}

export interface WalSaveOptions {
  /** fdatasync on the calling thread: for a caller with nothing else to do while the disk works. */
  inlineSync?: boolean;
}

export interface WalOpenOptions extends WalOptions {
  /** Read the records after this snapshot's marker; default {index 0, term 0}, the marker create() writes. */
  snapshot?: WalSnapshot;
}

export type { WalRepair } from './reader.js';

export interface WalOpenResult {
  wal: Wal;
  metadata: Uint8Array;
  /** The last hard state saved (all zero if none). */
  hardState: HardState;
  /** The entries after the snapshot index, consecutive, conflicts already resolved. */
  entries: Entry[];
  /** The newest snapshot marker read (at or after the one asked for). */
  snapshot: WalSnapshot | undefined;
  /**
   * The snapshot `entries` follow: the one asked for, or a later one that replaced the whole log
   * (a restore marker, see save()). Entries start at its index + 1.
   */
  entriesAfter: WalSnapshot;
  repaired: WalRepair | undefined;
}

interface WalInit {
  fs: FileSystem;
  dir: string;
  metadata: Uint8Array;
  segmentSizeBytes: number;
  logger: Logger;
  tail: FileHandle;
  tailOffset: number;
  crc: number;
  segments: SegmentName[];
  state: HardState;
  lastIndex: bigint;
}

function sizeOf(opts: WalOptions): number {
  const size = opts.segmentSizeBytes ?? DEFAULT_SEGMENT_SIZE_BYTES;
  assert(Number.isInteger(size) && size >= 1024, `wal: segmentSizeBytes ${size} below 1024`);
  return size;
}

async function removeDir(fs: FileSystem, dir: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  for (const n of names) await fs.unlink(joinPath(dir, n));
  await fs.rmdir(dir);
}

export class Wal {
  private readonly fs: FileSystem;
  private readonly dir: string;
  private readonly metadata: Uint8Array;
  private readonly segmentSizeBytes: number;
  private readonly logger: Logger;
  private tail: FileHandle;
  private tailOffset: number;
  private crc: number;
  private segments: SegmentName[];
  /** The hard state last written. */
  private state: HardState;
  /** A commit-only hard state change, written with the next batch (it needs no sync of its own). */
  private pendingState: HardState | undefined;
  private enti: bigint;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private failure: unknown = undefined;

  private constructor(init: WalInit) {
    this.fs = init.fs;
    this.dir = init.dir;
    this.metadata = init.metadata;
    this.segmentSizeBytes = init.segmentSizeBytes;
    this.logger = init.logger;
    this.tail = init.tail;
    this.tailOffset = init.tailOffset;
    this.crc = init.crc;
    this.segments = init.segments;
    this.state = init.state;
    this.enti = init.lastIndex;
  }

  /** True when `dir` holds at least one WAL segment. */
  static async exists(fs: FileSystem, dir: string): Promise<boolean> {
    return (await listSegments(fs, dir)).length > 0;
  }

  /**
   * Creates a WAL in `dir` (absent or empty) holding `metadata` and the {0, 0} snapshot marker. It
   * is built in `dir.tmp` and renamed into place, so a crash leaves either no WAL or a whole one.
   */
  static async create(
    fs: FileSystem,
    dir: string,
    metadata: Uint8Array,
    opts: WalOptions = {},
  ): Promise<Wal> {
    const size = sizeOf(opts);
    const target = dir.replace(/\/+$/, '');
    if (await Wal.exists(fs, target)) throw new WalError(`${WalErr.exists}: ${target}`);
    const tmp = `${target}.tmp`;
    await removeDir(fs, tmp);
    await mkdirDurable(fs, dirName(target));
    await fs.mkdirp(tmp);
    const name = segmentName(0n, 0n);
    const records: WalRecord[] = [
      { type: RecordType.Crc, crc: 0 },
      { type: RecordType.Metadata, data: metadata },
      { type: RecordType.Snapshot, snapshot: { index: 0n, term: 0n } },
    ];
    const { bytes, crc } = encodeBatch(records, 0);
    const f = await fs.open(joinPath(tmp, name), 'wx');
    await f.preallocate(size);
    await f.write(bytes, 0);
    await f.sync();
    await f.close();
    await fs.syncDir(tmp);
    if (await pathExists(fs, target)) await fs.rmdir(target);
    await fs.rename(tmp, target);
    await fs.syncDir(dirName(target));
    const tail = await fs.open(joinPath(target, name), 'r+');
    return new Wal({
      fs,
      dir: target,
      metadata: metadata.slice(),
      segmentSizeBytes: size,
      logger: opts.logger ?? silentLogger,
      tail,
      tailOffset: bytes.length,
      crc,
      segments: [{ seq: 0n, index: 0n, name }],
      state: emptyHardState,
      lastIndex: 0n,
    });
  }

  /** Opens the WAL in `dir` for appending, after reading back everything from `opts.snapshot` on. */
  static async open(fs: FileSystem, dir: string, opts: WalOpenOptions = {}): Promise<WalOpenResult> {
    const size = sizeOf(opts);
    const logger = opts.logger ?? silentLogger;
    const st = new ReadState(opts.snapshot ?? { index: 0n, term: 0n });
    await removeTmpSegment(fs, dir);
    const segments = await listSegments(fs, dir);
    if (segments.length === 0) throw new WalError(`${WalErr.fileNotFound}: no segment in ${dir}`);
    const from = startSegment(segments, st.start.index);
    const { crc, tailEnd, repaired } = await readSegments(fs, dir, segments, from, (r) => st.apply(r));
    if (st.metadata === undefined) throw corruptError(segments[0]!.name, 0, 'no metadata record');
    if (!st.matched) throw new WalError(WalErr.snapshotNotFound);
    const tail = await fs.open(joinPath(dir, segments[segments.length - 1]!.name), 'r+');
    if (repaired !== undefined) {
      logger.warn('repaired the torn tail of the WAL', { ...repaired });
      await tail.truncate(tailEnd);
    }
    await tail.preallocate(size);
    if (repaired !== undefined) await tail.datasync();
    const wal = new Wal({
      fs,
      dir,
      metadata: st.metadata,
      segmentSizeBytes: size,
      logger,
      tail,
      tailOffset: tailEnd,
      crc,
      segments,
      state: st.hardState,
      lastIndex: st.lastIndex,
    });
    const { metadata, hardState, entries, lastSnapshot: snapshot, base: entriesAfter } = st;
    return { wal, metadata, hardState, entries, snapshot, entriesAfter, repaired };
  }

  /**
   * Every snapshot marker in the WAL (compaction and restore markers, oldest first) and the last
   * hard state, read without opening the WAL for writing (etcd's ValidSnapshotEntries). A snapshot
   * file is usable to open from only if its (term, index) is here. A torn tail ends the read (it is
   * not repaired here); damage anywhere else throws, as open() does.
   */
  static async snapshotMarkers(
    fs: FileSystem,
    dir: string,
  ): Promise<{ markers: WalSnapshot[]; hardState: HardState }> {
    const segments = await listSegments(fs, dir);
    if (segments.length === 0) throw new WalError(`${WalErr.fileNotFound}: no segment in ${dir}`);
    startSegment(segments, segments[0]!.index);
    const markers: WalSnapshot[] = [];
    let hardState = emptyHardState;
    await readSegments(fs, dir, segments, 0, (r) => {
      if (r.type === RecordType.Snapshot || r.type === RecordType.Restore) markers.push(r.snapshot);
      else if (r.type === RecordType.State) hardState = r.state;
    });
    return { markers, hardState };
  }

  /** Index of the last entry saved (or the newest snapshot marker, if higher). */
  get lastIndex(): bigint {
    return this.enti;
  }

  /** Names of the segment files, oldest first. */
  get segmentNames(): string[] {
    return this.segments.map((s) => s.name);
  }

  /**
   * Appends `entries` and `hardState` in one write and one fdatasync; resolves once they are
   * durable. Entries must be consecutive; an entry index at or below one saved before replaces the
   * saved tail from there on when the WAL is read back. A hard state that changes only the commit
   * index needs no sync (raft can learn it again): it is written with the next batch.
   *
   * `restore`, when given, says a snapshot (already saved as a file) replaced the whole log before
   * these entries, as when a follower installs the leader's snapshot: a restore marker goes first
   * in the batch, and on reading back every entry before it is void. `entries` must then follow it.
   *
   * `opts.inlineSync` asks for the fdatasync on the calling thread (see FileHandle.datasync).
   */
  save(
    hardState: HardState | undefined,
    entries: readonly Entry[],
    restore?: WalSnapshot,
    opts?: WalSaveOptions,
  ): Promise<void> {
    return this.run(async () => {
      for (let i = 1; i < entries.length; i++) {
        assert(
          entries[i]!.index === entries[i - 1]!.index + 1n,
          'wal: entries of one save must be consecutive',
        );
      }
      assert(
        restore === undefined || entries.length === 0 || entries[0]!.index === restore.index + 1n,
        'wal: entries saved with a restore must follow its snapshot',
      );
      const known = this.pendingState ?? this.state;
      if (hardState !== undefined && !sameHardState(hardState, known)) this.pendingState = { ...hardState };
      const voteChanged =
        hardState !== undefined && (hardState.term !== this.state.term || hardState.vote !== this.state.vote);
      if (entries.length === 0 && !voteChanged && restore === undefined) return;
      const records: WalRecord[] = entries.map((entry) => ({ type: RecordType.Entry, entry }));
      if (restore !== undefined) {
        records.unshift({ type: RecordType.Restore, snapshot: { index: restore.index, term: restore.term } });
      }
      await this.writeBatch(records, opts?.inlineSync === true);
      if (restore !== undefined) this.enti = restore.index;
      if (entries.length > 0) this.enti = entries[entries.length - 1]!.index;
      if (this.tailOffset >= this.segmentSizeBytes) await this.cut();
    });
  }

  /** Records that a snapshot at `snap` exists; durable on return. */
  saveSnapshot(snap: WalSnapshot): Promise<void> {
    return this.run(async () => {
      await this.writeBatch([
        { type: RecordType.Snapshot, snapshot: { index: snap.index, term: snap.term } },
      ]);
      if (snap.index > this.enti) this.enti = snap.index;
    });
  }

  /**
   * Deletes the segments that only hold entries below `index` (a snapshot index whose marker is
   * saved), oldest first, never the last segment. Returns the names deleted.
   */
  releaseTo(index: bigint): Promise<string[]> {
    let removed: string[] = [];
    return this.run(async () => {
      const n = releasableCount(this.segments, index);
      if (n === 0) return;
      removed = this.segments.slice(0, n).map((s) => s.name);
      for (const name of removed) {
        try {
          await this.fs.unlink(joinPath(this.dir, name));
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
      this.segments = this.segments.slice(n);
      await this.fs.syncDir(this.dir);
    }).then(() => removed);
  }

  /** Writes a pending commit-only hard state, then closes the tail segment. */
  close(): Promise<void> {
    return this.run(async () => {
      if (this.pendingState !== undefined) await this.writeBatch([]);
      this.closed = true;
      await this.tail.close();
    });
  }

  /** Runs WAL operations one at a time, in call order; after an I/O failure every call fails. */
  private run(fn: () => Promise<void>): Promise<void> {
    const p = this.queue.then(async () => {
      if (this.closed) throw new WalError(WalErr.closed);
      if (this.failure !== undefined) {
        const why = this.failure instanceof Error ? this.failure.message : 'unknown error';
        throw new WalError(`wal: unusable after a failed write: ${why}`);
      }
      try {
        await fn();
      } catch (err) {
        if (!(err instanceof WalError) || err.corrupt) this.failure = err;
        throw err;
      }
    });
    this.queue = p.catch(() => {});
    return p;
  }

  /** One write and one fdatasync of `records` plus the pending hard state, if any. */
  private async writeBatch(records: WalRecord[], inlineSync = false): Promise<void> {
    const st = this.pendingState;
    if (st !== undefined) records.push({ type: RecordType.State, state: st });
    const { bytes, crc } = encodeBatch(records, this.crc);
    await this.tail.write(bytes, this.tailOffset);
    await this.tail.datasync({ inline: inlineSync });
    this.tailOffset += bytes.length;
    this.crc = crc;
    if (st !== undefined) {
      this.state = st;
      this.pendingState = undefined;
    }
  }

  /**
   * Ends the full tail segment at its last record and starts the next one, which opens with the
   * chain value, the metadata and the hard state so it can be read without its predecessors.
   */
  private async cut(): Promise<void> {
    await this.tail.truncate(this.tailOffset);
    await this.tail.datasync();
    const prev = this.segments[this.segments.length - 1]!;
    const next: SegmentName = { seq: prev.seq + 1n, index: this.enti + 1n, name: '' };
    next.name = segmentName(next.seq, next.index);
    const state = this.pendingState ?? this.state;
    const records: WalRecord[] = [
      { type: RecordType.Crc, crc: this.crc },
      { type: RecordType.Metadata, data: this.metadata },
    ];
    if (!sameHardState(state, emptyHardState)) records.push({ type: RecordType.State, state });
    const { bytes, crc } = encodeBatch(records, this.crc);
    const tmpPath = joinPath(this.dir, SEGMENT_TMP_NAME);
    const f = await this.fs.open(tmpPath, 'w');
    await f.preallocate(this.segmentSizeBytes);
    await f.write(bytes, 0);
    await f.sync();
    const path = joinPath(this.dir, next.name);
    await this.fs.rename(tmpPath, path);
    await this.fs.syncDir(this.dir);
    await this.tail.close();
    this.tail = f;
    this.tailOffset = bytes.length;
    this.crc = crc;
    this.segments.push(next);
    this.state = state;
    this.pendingState = undefined;
    this.logger.info('created a new WAL segment', { path });
  }
}
