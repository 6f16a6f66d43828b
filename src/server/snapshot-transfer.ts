// Snapshots between members: the leader sends a member that fell behind a consistent copy of its
// backend (LMDB's data file) with a MsgSnap whose metadata is the copy's own applied index, term and
// configuration — read back from the copy, so the follower's raft log resumes exactly where the
// copy's state ends. The receiver writes the bytes to <snap>/<index>.snap.db (fsynced), then steps
// the message; the raft loop swaps the backend in once raft has accepted the snapshot.
import { mkdir, open as openFile, rename, rm } from 'node:fs/promises';
import { LmdbBackend } from '../backend/index.js';
import type { Message } from '../raft/types.js';
import { readAppliedMeta } from './applier.js';
import { receivedBackendPath } from './storage.js';

const CHUNK_BYTES = 1024 * 1024;
let sendSeq = 0;

export interface PreparedSnapshot {
  msg: Message;
  body: () => AsyncIterable<Uint8Array>;
  /** Removes the copy if the body is never read. */
  discard: () => Promise<void>;
}

/** Copies the backend and builds the MsgSnap that goes with it. */
export async function prepareSnapshot(
  m: Message,
  backend: LmdbBackend,
  snapDir: string,
): Promise<PreparedSnapshot> {
  const dir = `${snapDir}/send-${process.pid}-${++sendSeq}`;
  await mkdir(dir, { recursive: true });
  await backend.backup(dir);
  const copy = LmdbBackend.open({ path: dir });
  let meta;
  try {
    meta = readAppliedMeta(copy);
  } finally {
    await copy.close();
  }
  const msg: Message = {
    ...m,
    snapshot: {
      data: new Uint8Array(0),
      metadata: { index: meta.index, term: meta.term, confState: meta.confState },
    },
  };
  const discard = () => rm(dir, { recursive: true, force: true });
  return {
    msg,
    discard,
    body: () => readChunks(`${dir}/data.mdb`, discard),
  };
}

async function* readChunks(path: string, done: () => Promise<void>): AsyncIterable<Uint8Array> {
  const h = await openFile(path, 'r');
  try {
    for (;;) {
      const buf = new Uint8Array(CHUNK_BYTES);
      const { bytesRead } = await h.read(buf, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) break;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await h.close();
    await done();
  }
}

/** Writes a received snapshot's backend bytes durably where the raft loop will look for them. */
export async function receiveBackend(
  snapDir: string,
  index: bigint,
  body: AsyncIterable<Uint8Array>,
): Promise<string> {
  const path = receivedBackendPath(snapDir, index);
  const tmp = `${path}.tmp`;
  const h = await openFile(tmp, 'w');
  try {
    for await (const chunk of body) await h.write(chunk);
    await h.sync();
  } finally {
    await h.close();
  }
  await rename(tmp, path);
  const d = await openFile(snapDir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
  return path;
}
