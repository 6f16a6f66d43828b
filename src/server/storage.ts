// A member's on-disk state, laid out as etcd lays it out: <data-dir>/member/wal (the WAL, the
// source of truth for what was acknowledged) and <data-dir>/member/snap/db (the backend, which
// holds applied state and its applied index). Opening it repairs a torn WAL tail and returns what
// must be replayed. A backend received from the leader with a snapshot replaces the current one by
// an atomic rename of its data file (swapBackend), and a crash between the snapshot's WAL record
// and that rename is finished on the next open.
import { readdir, rename, rm, open as openFile } from 'node:fs/promises';
import type { Logger } from '../base/index.js';
import type { FileSystem } from '../base/fs.js';
import { LmdbBackend } from '../backend/index.js';
import type { Entry, HardState, Snapshot } from '../raft/types.js';
import { emptyHardState } from '../raft/types.js';
import { Snapshotter, Wal } from '../wal/index.js';

export interface BootState {
  hardState: HardState;
  entries: Entry[];
  snapshotIndex: bigint;
  snapshotTerm: bigint;
  /** The newest snapshot the WAL has a marker for. */
  snapshot: Snapshot | undefined;
  /** True when this data dir was created by this start. */
  fresh: boolean;
  memberId: bigint;
  clusterId: bigint;
}

export interface MemberStorage {
  readonly boot: BootState;
  readonly wal: Wal;
  readonly snapshotter: Snapshotter;
  readonly backend: LmdbBackend;
  readonly snapDir: string;
  /** Replaces the backend by the data file at `file` (a received snapshot's), atomically. */
  swapBackend(file: string): Promise<void>;
  close(): Promise<void>;
}

/** Where a received snapshot's backend waits until it replaces the current one (etcd: <index>.snap.db). */
export function receivedBackendPath(snapDir: string, index: bigint): string {
  return `${snapDir}/${index.toString(16).padStart(16, '0')}.snap.db`;
}

async function fsyncPath(path: string): Promise<void> {
  const h = await openFile(path, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

function encodeMetadata(memberId: bigint, clusterId: bigint): Uint8Array {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, memberId);
  dv.setBigUint64(8, clusterId);
  return b;
}

function decodeMetadata(b: Uint8Array): { memberId: bigint; clusterId: bigint } {
  if (b.length !== 16) throw new Error(`wal: metadata has ${b.length} bytes, want 16`);
  const dv = new DataView(b.buffer, b.byteOffset, 16);
  return { memberId: dv.getBigUint64(0), clusterId: dv.getBigUint64(8) };
}

export async function openMemberStorage(
  fs: FileSystem,
  dataDir: string,
  ids: { memberId: bigint; clusterId: bigint },
  logger: Logger,
): Promise<MemberStorage> {
  const walDir = `${dataDir}/member/wal`;
  const snapDir = `${dataDir}/member/snap`;
  await fs.mkdirp(snapDir);
  const fresh = !(await Wal.exists(fs, walDir));
  const snapshotter = await Snapshotter.open(fs, snapDir, logger);
  let boot: BootState;
  let wal: Wal;
  if (fresh) {
    wal = await Wal.create(fs, walDir, encodeMetadata(ids.memberId, ids.clusterId));
    boot = {
      hardState: emptyHardState,
      entries: [],
      snapshotIndex: 0n,
      snapshotTerm: 0n,
      snapshot: undefined,
      fresh,
      ...ids,
    };
  } else {
    // Read the WAL from the newest snapshot on: everything before it is in the backend already.
    // Only a snapshot the WAL has a marker for counts: a crash between writing the .snap file and
    // its marker leaves a file the log cannot start from.
    const { markers } = await Wal.snapshotMarkers(fs, walDir);
    const known = new Set(markers.map((m) => `${m.term}/${m.index}`));
    const { snapshot, skipped } = await snapshotter.loadNewest((m) => known.has(`${m.term}/${m.index}`));
    for (const k of skipped)
      logger.warn('skipped a damaged snapshot file', { file: k.name, reason: k.reason });
    const from =
      snapshot === undefined ? undefined : { index: snapshot.metadata.index, term: snapshot.metadata.term };
    const opened = await Wal.open(fs, walDir, from === undefined ? { logger } : { logger, snapshot: from });
    if (opened.repaired !== undefined) logger.warn('repaired a torn WAL tail', { ...opened.repaired });
    wal = opened.wal;
    const meta = decodeMetadata(opened.metadata);
    boot = {
      hardState: opened.hardState,
      entries: opened.entries,
      snapshotIndex: from?.index ?? 0n,
      snapshotTerm: from?.term ?? 0n,
      snapshot,
      fresh,
      ...meta,
    };
  }
  const dbPath = `${snapDir}/db`;
  const fromLeader =
    boot.snapshot === undefined ? undefined : receivedBackendPath(snapDir, boot.snapshotIndex);
  if (fromLeader !== undefined && (await exists(fromLeader))) {
    // A crash after the leader's snapshot was recorded and before its backend took over.
    await moveInto(fromLeader, dbPath);
    logger.warn('finished installing the backend of a snapshot received before a restart', {
      'snapshot-index': boot.snapshotIndex,
    });
  }
  await removeStaleReceived(snapDir);
  let backend = LmdbBackend.open({ path: dbPath });
  logger.info(fresh ? 'created new data dir' : 'restarting member from existing data dir', {
    'data-dir': dataDir,
    'member-id': boot.memberId.toString(16),
    'cluster-id': boot.clusterId.toString(16),
    'wal-entries': boot.entries.length,
  });
  return {
    boot,
    wal,
    snapshotter,
    get backend() {
      return backend;
    },
    snapDir,
    async swapBackend(file: string) {
      await backend.close();
      await moveInto(file, dbPath);
      backend = LmdbBackend.open({ path: dbPath });
    },
    async close() {
      await backend.sync();
      await backend.close();
      await wal.close();
    },
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await fsyncPath(path);
    return true;
  } catch {
    return false;
  }
}

/** Renames a received data file over the backend's, durably (file first, then the directory). */
async function moveInto(file: string, dbPath: string): Promise<void> {
  await fsyncPath(file);
  await rename(file, `${dbPath}/data.mdb`);
  await fsyncPath(dbPath);
}

/** Received backends that never took over (raft refused their snapshot, or a newer one came). */
async function removeStaleReceived(snapDir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(snapDir);
  } catch {
    return; // the backend's directory is not there yet (a new member)
  }
  for (const name of names) {
    if (name.includes('.snap.db') || name.startsWith('send-'))
      await rm(`${snapDir}/${name}`, { recursive: true, force: true });
  }
}
