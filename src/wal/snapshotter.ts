// Snapshot files: `%016x-%016x.snap` (term, index), each a raft snapshot (metadata + the state
// machine's bytes) behind a header with a CRC-32C. Written tmp + fsync + rename + fsync(dir), so a
// name always refers to a whole file; a file that fails its checks on load is renamed `.broken`
// (as etcd does), reported, and the next older one is tried.
//
// Layout, little endian:
//   [0..8)   magic "KETCHSNP"
//   [8..12)  u32 CRC-32C of every byte from offset 16 to the end
//   [12..16) u32 format version (2)
//   [16..24) term u64       [24..32) index u64
//   [32..36) voters u32     [36..40) learners u32     [40..44) outgoing voters u32
//   [44..48) learners-next u32   [48] auto-leave (0/1)   [49..56) zero   [56..64) data length u64
//   then the four ID lists of the ConfState in that order (u64 each), then the data.
import { crc32c } from '../base/crc32c.js';
import { joinPath, isNotFound, type FileSystem } from '../base/fs.js';
import { silentLogger, type Logger } from '../base/log.js';
import { mkdirDurable } from './durable-dir.js';
import type { ConfState, SnapshotMetadata } from '../raft/types.js';

export interface RaftSnapshot {
  metadata: SnapshotMetadata;
  data: Uint8Array;
}

export interface SkippedSnapshot {
  name: string;
  reason: string;
}

export interface LoadedSnapshot {
  /** The newest snapshot that passed its checks (and the filter), if any. */
  snapshot: RaftSnapshot | undefined;
  /** Files that failed their checks, newest first; each was renamed to `<name>.broken`. */
  skipped: SkippedSnapshot[];
}

const MAGIC = new TextEncoder().encode('KETCHSNP');
const VERSION = 2;
const HEADER_BYTES = 64;
const MAX_MEMBERS = 1 << 16;
const SNAP_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;

function hex16(n: bigint): string {
  return n.toString(16).padStart(16, '0');
}

export function snapshotName(term: bigint, index: bigint): string {
  return `${hex16(term)}-${hex16(index)}.snap`;
}

function confLists(cs: ConfState): bigint[][] {
  return [cs.voters, cs.learners, cs.votersOutgoing, cs.learnersNext];
}

function encodeHead(s: RaftSnapshot): Uint8Array {
  const { term, index, confState } = s.metadata;
  const lists = confLists(confState);
  const ids = lists.flat();
  const head = new Uint8Array(HEADER_BYTES + 8 * ids.length);
  const view = new DataView(head.buffer);
  head.set(MAGIC, 0);
  view.setUint32(12, VERSION, true);
  view.setBigUint64(16, term, true);
  view.setBigUint64(24, index, true);
  lists.forEach((l, i) => view.setUint32(32 + 4 * i, l.length, true));
  head[48] = confState.autoLeave ? 1 : 0;
  view.setBigUint64(56, BigInt(s.data.length), true);
  let at = HEADER_BYTES;
  for (const id of ids) {
    view.setBigUint64(at, id, true);
    at += 8;
  }
  view.setUint32(8, crc32c(s.data, crc32c(head.subarray(16))), true);
  return head;
}

/** Decodes and checks a snapshot file's bytes; a string says what is wrong. */
export function decodeSnapshot(buf: Uint8Array): RaftSnapshot | string {
  if (buf.length < HEADER_BYTES) return `file of ${buf.length} bytes is shorter than the header`;
  for (let i = 0; i < MAGIC.length; i++) if (buf[i] !== MAGIC[i]) return 'bad magic';
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.getUint32(12, true) !== VERSION) return `unknown format version ${view.getUint32(12, true)}`;
  const counts = [0, 1, 2, 3].map((i) => view.getUint32(32 + 4 * i, true));
  if (counts.some((n) => n > MAX_MEMBERS)) return 'member count out of range';
  if (buf[48]! > 1) return 'bad auto-leave flag';
  const total = counts.reduce((a, b) => a + b, 0);
  const dataAt = HEADER_BYTES + 8 * total;
  const dataLen = view.getBigUint64(56, true);
  if (BigInt(buf.length) !== BigInt(dataAt) + dataLen) {
    return `file of ${buf.length} bytes does not match its header (${dataAt} + ${dataLen})`;
  }
  if (crc32c(buf.subarray(16)) !== view.getUint32(8, true)) return 'crc mismatch';
  let at = HEADER_BYTES;
  const lists = counts.map((n) => {
    const ids: bigint[] = [];
    for (let i = 0; i < n; i++, at += 8) ids.push(view.getBigUint64(at, true));
    return ids;
  });
  return {
    metadata: {
      term: view.getBigUint64(16, true),
      index: view.getBigUint64(24, true),
      confState: {
        voters: lists[0]!,
        learners: lists[1]!,
        votersOutgoing: lists[2]!,
        learnersNext: lists[3]!,
        autoLeave: buf[48] === 1,
      },
    },
    data: buf.slice(dataAt),
  };
}

export class Snapshotter {
  private constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    private readonly logger: Logger,
  ) {}

  /** Opens (creating it if needed) the snapshot directory and removes half-written files. */
  static async open(fs: FileSystem, dir: string, logger: Logger = silentLogger): Promise<Snapshotter> {
    await mkdirDurable(fs, dir);
    for (const n of await fs.readdir(dir)) {
      if (n.endsWith('.snap.tmp')) await fs.unlink(joinPath(dir, n));
    }
    return new Snapshotter(fs, dir, logger);
  }

  /** Snapshot file names, oldest first. */
  async list(): Promise<string[]> {
    return (await this.fs.readdir(this.dir)).filter((n) => SNAP_NAME.test(n)).sort();
  }

  /** Writes the snapshot durably; returns its file name. */
  async save(s: RaftSnapshot): Promise<string> {
    const name = snapshotName(s.metadata.term, s.metadata.index);
    const tmp = joinPath(this.dir, `${name}.tmp`);
    const head = encodeHead(s);
    const f = await this.fs.open(tmp, 'w');
    try {
      await f.write(head, 0);
      await f.write(s.data, head.length);
      await f.sync();
    } finally {
      await f.close();
    }
    await this.fs.rename(tmp, joinPath(this.dir, name));
    await this.fs.syncDir(this.dir);
    return name;
  }

  /**
   * The newest snapshot that passes its checks and `accept` (e.g. "has a marker in the WAL").
   * Files that fail their checks are renamed `.broken` and reported in `skipped`.
   */
  async loadNewest(accept: (m: SnapshotMetadata) => boolean = () => true): Promise<LoadedSnapshot> {
    const skipped: SkippedSnapshot[] = [];
    const names = await this.list();
    for (let i = names.length - 1; i >= 0; i--) {
      const name = names[i]!;
      const path = joinPath(this.dir, name);
      const got = decodeSnapshot(await this.fs.readFile(path));
      let reason = typeof got === 'string' ? got : undefined;
      if (typeof got !== 'string' && snapshotName(got.metadata.term, got.metadata.index) !== name) {
        reason = `holds term ${got.metadata.term} index ${got.metadata.index}, not what its name says`;
      }
      if (reason !== undefined) {
        this.logger.warn('skipped a corrupt snapshot file', { path, reason });
        skipped.push({ name, reason });
        await this.fs.rename(path, `${path}.broken`);
        continue;
      }
      if (typeof got !== 'string' && accept(got.metadata)) return { snapshot: got, skipped };
    }
    return { snapshot: undefined, skipped };
  }

  /** Deletes all but the newest `keep` snapshot files; returns the names deleted. */
  async purge(keep: number): Promise<string[]> {
    const names = await this.list();
    const doomed = names.slice(0, Math.max(0, names.length - keep));
    for (const n of doomed) {
      try {
        await this.fs.unlink(joinPath(this.dir, n));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    if (doomed.length > 0) await this.fs.syncDir(this.dir);
    return doomed;
  }
}
